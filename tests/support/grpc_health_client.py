#!/usr/bin/python3
"""A gRPC health client on Python's grpc (Debian python3-grpcio), with the
messages encoded by hand, for the integration tests.

  grpc_health_client.py PORT check SERVICE [TIMEOUT_S]
      prints {"code": "OK", "status": 1} or {"code": "NOT_FOUND", "details": ...}
  grpc_health_client.py PORT watch SERVICE COUNT [TIMEOUT_S]
      prints one JSON line per message ({"status": N}) as it arrives, up to
      COUNT, then {"end": CODE} when the stream ends (or "CANCELLED" after
      COUNT messages); flushes after each line so a test can act between them
  grpc_health_client.py PORT call METHOD
      calls /grpc.health.v1.Health/METHOD with an empty request
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
    else:
        sys.exit("unknown command " + command)


if __name__ == "__main__":
    main()
