#!/usr/bin/python3
"""A gRPC health client on Python's grpc (Debian python3-grpcio), for the
integration tests: Check and Watch messages encoded by hand, List's with
protobuf's own runtime (python3-protobuf, which python3-grpcio depends on).

  grpc_health_client.py PORT check SERVICE [TIMEOUT_S]
      prints {"code": "OK", "status": 1} or {"code": "NOT_FOUND", "details": ...}
  grpc_health_client.py PORT watch SERVICE COUNT [TIMEOUT_S]
      prints one JSON line per message ({"status": N}) as it arrives, up to
      COUNT, then {"end": CODE} when the stream ends (or "CANCELLED" after
      COUNT messages); flushes after each line so a test can act between them
  grpc_health_client.py PORT call METHOD
      calls /grpc.health.v1.Health/METHOD with an empty request
  grpc_health_client.py PORT list [unknown-fields]
      calls List by name and prints {"code": "OK", "statuses": {NAME: N},
      "deterministic": B}, B saying whether the answer's bytes are
      protobuf's deterministic serialization of it; with "unknown-fields"
      the request carries fields HealthListRequest does not know
"""
import json
import sys

import grpc


def encode_request(service):
    data = service.encode()
    if not data:
        return b""
    return b"\x0a" + encode_varint(len(data)) + data


def encode_varint(n):
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_status(message):
    # HealthCheckResponse: field 1 (varint); absent means UNKNOWN (0).
    if not message:
        return 0
    if message[0] != 0x08 or len(message) < 2:
        raise ValueError("unexpected message bytes %r" % message)
    return message[1]


def list_messages():
    """HealthListRequest and HealthListResponse as gRFC A90 defines them,
    built at run time from a descriptor (Debian's grpcio ships no List
    stubs), in a pool of their own."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    field = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(
        name="badges_health_test/health_list.proto", package="grpc.health.v1", syntax="proto3")
    response = proto.message_type.add(name="HealthCheckResponse")
    enum = response.enum_type.add(name="ServingStatus")
    for name, number in [("UNKNOWN", 0), ("SERVING", 1), ("NOT_SERVING", 2),
                         ("SERVICE_UNKNOWN", 3)]:
        enum.value.add(name=name, number=number)
    response.field.add(name="status", number=1, type=field.TYPE_ENUM,
                       label=field.LABEL_OPTIONAL,
                       type_name=".grpc.health.v1.HealthCheckResponse.ServingStatus")
    proto.message_type.add(name="HealthListRequest")
    answer = proto.message_type.add(name="HealthListResponse")
    entry = answer.nested_type.add(name="StatusesEntry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, type=field.TYPE_STRING, label=field.LABEL_OPTIONAL)
    entry.field.add(name="value", number=2, type=field.TYPE_MESSAGE, label=field.LABEL_OPTIONAL,
                    type_name=".grpc.health.v1.HealthCheckResponse")
    answer.field.add(name="statuses", number=1, type=field.TYPE_MESSAGE,
                     label=field.LABEL_REPEATED,
                     type_name=".grpc.health.v1.HealthListResponse.StatusesEntry")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)

    def message_class(name):
        descriptor = pool.FindMessageTypeByName("grpc.health.v1." + name)
        if hasattr(message_factory, "GetMessageClass"):  # protobuf 4.22 and later
            return message_factory.GetMessageClass(descriptor)
        return message_factory.MessageFactory(pool).GetPrototype(descriptor)

    return message_class("HealthListRequest"), message_class("HealthListResponse")


def emit(obj):
    print(json.dumps(obj), flush=True)


def main():
    port, command = sys.argv[1], sys.argv[2]
    channel = grpc.insecure_channel("127.0.0.1:" + port)
    identity = lambda b: b
    if command == "check":
        timeout = float(sys.argv[4]) if len(sys.argv) > 4 else 5.0
        call = channel.unary_unary("/grpc.health.v1.Health/Check",
                                   request_serializer=encode_request,
                                   response_deserializer=identity)
        try:
            emit({"code": "OK", "status": decode_status(call(sys.argv[3], timeout=timeout))})
        except grpc.RpcError as e:
            emit({"code": e.code().name, "details": e.details()})
    elif command == "watch":
        count = int(sys.argv[4])
        timeout = float(sys.argv[5]) if len(sys.argv) > 5 else None
        call = channel.unary_stream("/grpc.health.v1.Health/Watch",
                                    request_serializer=encode_request,
                                    response_deserializer=identity)
        stream = call(sys.argv[3], timeout=timeout)
        seen = 0
        try:
            for message in stream:
                emit({"status": decode_status(message)})
                seen += 1
                if seen == count:
                    stream.cancel()
            emit({"end": "OK"})
        except grpc.RpcError as e:
            emit({"end": e.code().name, "details": e.details()})
    elif command == "call":
        call = channel.unary_unary("/grpc.health.v1.Health/" + sys.argv[3],
                                   request_serializer=encode_request,
                                   response_deserializer=identity)
        try:
            call("", timeout=5.0)
            emit({"code": "OK"})
        except grpc.RpcError as e:
            emit({"code": e.code().name, "details": e.details()})
    elif command == "list":
        request_class, response_class = list_messages()
        request = request_class()
        if sys.argv[3:] == ["unknown-fields"]:
            # A varint field 1 and a string field 7, kept as unknown fields
            # and sent as they are, as a newer client's request would be.
            request.MergeFromString(b"\x08\x01\x3a\x03new")
        call = channel.unary_unary("/grpc.health.v1.Health/List",
                                   request_serializer=lambda m: m.SerializeToString(),
                                   response_deserializer=identity)
        try:
            raw = call(request, timeout=5.0)
            answer = response_class.FromString(raw)
            emit({"code": "OK",
                  "statuses": {name: entry.status for name, entry in answer.statuses.items()},
                  "deterministic": raw == answer.SerializeToString(deterministic=True)})
        except grpc.RpcError as e:
            emit({"code": e.code().name, "details": e.details()})
    else:
        sys.exit("unknown command " + command)


if __name__ == "__main__":
    main()
