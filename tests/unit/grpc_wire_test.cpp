// The hand-written gRPC health wire format: request decoding (with the
// protobuf rules a generated parser follows), response encoding, List's
// request and map-shaped response, timeouts;
// and the client side of the grpc check: request encoding, response
// decoding, grpc-timeout formatting, status names and grpc-message.
#include "badges_health/util/grpc_wire.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

namespace badges_health::util::grpc {
namespace {

using namespace std::chrono_literals;

std::string framed(const std::string& message) {
  std::string out{'\0', '\0', '\0', '\0', static_cast<char>(message.size())};
  return out + message;
}

std::string service_of(const std::string& body) {
  const auto r = decode_check_request(body);
  if (!r) return "error " + r.error().message;
  return *r;
}

status_code code_of(const std::string& body) {
  const auto r = decode_check_request(body);
  return r ? status_code::ok : r.error().code;
}

TEST(GrpcCodec, DecodesTheServiceName) {
  EXPECT_EQ(service_of(framed("")), "");
  EXPECT_EQ(service_of(framed("\x0a\x09readiness")), "readiness");
  // Unknown fields of every wire type are skipped; the last field 1 wins.
  EXPECT_EQ(service_of(framed(std::string("\x10\x96\x01", 3) + "\x0a\x01x" +
                              std::string("\x19"
                                          "12345678",
                                          9) +
                              std::string("\x25"
                                          "1234",
                                          5) +
                              "\x0a\x02"
                              "db")),
            "db");
}

TEST(GrpcCodec, RefusesWhatIsNotOneUncompressedMessage) {
  EXPECT_EQ(code_of(""), status_code::internal);
  EXPECT_EQ(code_of(std::string("\0\0\0", 3)), status_code::internal);
  EXPECT_EQ(code_of(std::string("\x01\0\0\0\0", 5)), status_code::unimplemented);
  EXPECT_EQ(code_of(framed("") + framed("")), status_code::internal);  // two messages
  EXPECT_EQ(code_of(framed("\x0a\x05"
                           "ab")),
            status_code::internal);                                         // truncated string
  EXPECT_EQ(code_of(framed("\x08\x01")), status_code::internal);            // field 1 as a varint
  EXPECT_EQ(code_of(framed("\x0b")), status_code::internal);                // a group
  EXPECT_EQ(code_of(framed(std::string(1, '\0'))), status_code::internal);  // field 0
  EXPECT_EQ(code_of(framed(std::string(11, '\xff'))), status_code::internal);  // endless varint
}

TEST(GrpcCodec, EncodesTheStatus) {
  EXPECT_EQ(encode_check_response(serving_status::serving), std::string("\0\0\0\0\x02\x08\x01", 7));
  EXPECT_EQ(encode_check_response(serving_status::not_serving),
            std::string("\0\0\0\0\x02\x08\x02", 7));
  EXPECT_EQ(encode_check_response(serving_status::service_unknown),
            std::string("\0\0\0\0\x02\x08\x03", 7));
  // UNKNOWN is proto3's default: an empty message.
  EXPECT_EQ(encode_check_response(serving_status::unknown), std::string(5, '\0'));
}

status_code list_code_of(const std::string& body) {
  const auto r = decode_list_request(body);
  return r ? status_code::ok : r.error().code;
}

TEST(GrpcCodec, AcceptsAnyValidListRequest) {
  EXPECT_EQ(list_code_of(framed("")), status_code::ok);
  // HealthListRequest has no fields: every field is unknown and skipped,
  // field 1 of any wire type included.
  EXPECT_EQ(list_code_of(framed(std::string("\x08\x96\x01", 3) + "\x0a\x02xy" +
                                std::string("\x19"
                                            "12345678",
                                            9) +
                                std::string("\x25"
                                            "1234",
                                            5))),
            status_code::ok);
}

TEST(GrpcCodec, RefusesAListRequestThatIsNotOneUncompressedMessage) {
  EXPECT_EQ(list_code_of(""), status_code::internal);
  EXPECT_EQ(list_code_of(std::string("\0\0\0", 3)), status_code::internal);
  EXPECT_EQ(list_code_of(std::string("\x01\0\0\0\0", 5)), status_code::unimplemented);
  EXPECT_EQ(list_code_of(framed("") + framed("")), status_code::internal);
  EXPECT_EQ(list_code_of(framed("\x0a\x05"
                                "ab")),
            status_code::internal);                                              // truncated
  EXPECT_EQ(list_code_of(framed("\x0b")), status_code::internal);                // a group
  EXPECT_EQ(list_code_of(framed(std::string(1, '\0'))), status_code::internal);  // field 0
  EXPECT_EQ(list_code_of(framed(std::string(11, '\xff'))), status_code::internal);
  EXPECT_EQ(decode_list_request(framed("\x0b")).error().message, "malformed HealthListRequest");
}

// One map entry: key (field 1) and value (field 2, a HealthCheckResponse).
std::string list_entry(const std::string& name, const std::string& value) {
  const std::string entry = "\x0a" + std::string(1, static_cast<char>(name.size())) + name +
                            "\x12" + std::string(1, static_cast<char>(value.size())) + value;
  return "\x0a" + std::string(1, static_cast<char>(entry.size())) + entry;
}

TEST(GrpcCodec, EncodesTheListAsAMapSortedByName) {
  const std::string serving("\x08\x01", 2);
  const std::string not_serving("\x08\x02", 2);
  // Sorted whatever the order given; the empty name first; UNKNOWN an
  // empty value message.
  EXPECT_EQ(encode_list_response({{"readiness", serving_status::serving},
                                  {"", serving_status::not_serving},
                                  {"db", serving_status::unknown},
                                  {"cache", serving_status::serving}}),
            framed(list_entry("", not_serving) + list_entry("cache", serving) +
                   list_entry("db", "") + list_entry("readiness", serving)));
  // A repeated name is sent once, with its first status.
  EXPECT_EQ(
      encode_list_response({{"db", serving_status::serving}, {"db", serving_status::not_serving}}),
      framed(list_entry("db", serving)));
  EXPECT_EQ(encode_list_response({}), framed(""));
}

TEST(GrpcCodec, EncodesLongListsWithVarintLengths) {
  // A 200-byte name: two-byte varints for its key and its entry; 100
  // entries: a message past 255 bytes, its length over two prefix bytes.
  const std::string long_name(200, 'x');
  const std::string one = encode_list_response({{long_name, serving_status::serving}});
  // The entry: 1 + 2 + 200 (key) + 1 + 1 + 2 (value) = 207; the message:
  // 1 + 2 + 207 = 210.
  EXPECT_EQ(one.substr(0, 5), std::string("\0\0\0\0\xd2", 5));
  EXPECT_EQ(one.substr(5, 5), std::string("\x0a\xcf\x01\x0a\xc8", 5));
  EXPECT_EQ(one.substr(one.size() - 4), std::string("\x12\x02\x08\x01", 4));
  std::vector<named_status> many;
  for (int i = 0; i < 100; ++i) many.push_back({"check-" + std::to_string(100 + i), {}});
  const std::string all = encode_list_response(many);
  // Each entry: 2 + (2 + 9 + 2) = 15 bytes.
  EXPECT_EQ(all.size(), 5u + 100 * 15);
  EXPECT_EQ(all.substr(0, 5), std::string("\0\0\0\x05\xdc", 5));  // 1500
}

TEST(GrpcCodec, ParsesTimeouts) {
  EXPECT_EQ(parse_timeout("100m"), 100ms);
  EXPECT_EQ(parse_timeout("5S"), 5s);
  EXPECT_EQ(parse_timeout("2M"), 2min);
  EXPECT_EQ(parse_timeout("1H"), 1h);
  EXPECT_EQ(parse_timeout("250u"), 250us);
  EXPECT_EQ(parse_timeout("7n"), 7ns);
  EXPECT_EQ(parse_timeout("0n"), 0ns);
  EXPECT_EQ(parse_timeout("99999999H"), std::chrono::nanoseconds::max());  // saturates
  for (const char* bad : {"", "m", "100", "1x", "123456789S", "-1S", "1.5S", " 1S"}) {
    EXPECT_FALSE(parse_timeout(bad)) << bad;
  }
}

TEST(GrpcCodec, RecognisesGrpcContentTypes) {
  EXPECT_TRUE(is_grpc_content_type("application/grpc"));
  EXPECT_TRUE(is_grpc_content_type("application/grpc+proto"));
  EXPECT_TRUE(is_grpc_content_type("application/grpc;charset=utf-8"));
  EXPECT_FALSE(is_grpc_content_type("application/grpc-web"));
  EXPECT_FALSE(is_grpc_content_type("application/json"));
  EXPECT_FALSE(is_grpc_content_type(""));
}

// ---- the client side ----

TEST(GrpcClientCodec, EncodesTheRequestTheServerSideDecodes) {
  EXPECT_EQ(encode_check_request(""), std::string(5, '\0'));
  EXPECT_EQ(encode_check_request("db"), framed("\x0a\x02"
                                               "db"));
  // A name of 200 bytes needs a two-byte varint length.
  const std::string long_name(200, 'x');
  const std::string encoded = encode_check_request(long_name);
  EXPECT_EQ(encoded.substr(5, 3), std::string("\x0a\xc8\x01", 3));
  for (const std::string& name : {std::string(), std::string("readiness"), long_name}) {
    EXPECT_EQ(service_of(encode_check_request(name)), name);
  }
}

std::string status_text(std::string_view body) {
  const auto r = decode_check_response(body);
  if (!r) return "error " + r.error();
  return std::to_string(static_cast<int>(*r));
}

TEST(GrpcClientCodec, DecodesEveryServingStatusTheServerSideEncodes) {
  for (const auto s : {serving_status::unknown, serving_status::serving,
                       serving_status::not_serving, serving_status::service_unknown}) {
    EXPECT_EQ(status_text(encode_check_response(s)), std::to_string(static_cast<int>(s)));
  }
  // Unknown fields of every wire type are skipped; the last field 1 wins.
  EXPECT_EQ(status_text(framed(std::string("\x12\x01x\x08\x02\x19", 6) + "12345678" +
                               std::string("\x25", 1) + "1234" + std::string("\x08\x01", 2))),
            "1");
}

TEST(GrpcClientCodec, RefusesAResponseThatIsNotOneStatus) {
  EXPECT_EQ(status_text(""), "error no response message");
  EXPECT_EQ(status_text(std::string("\0\0\0", 3)), "error incomplete response message");
  EXPECT_EQ(status_text(std::string("\x01\0\0\0\x02\x08\x01", 7)),
            "error compressed response message");
  EXPECT_EQ(status_text(framed("\x08\x01") + framed("\x08\x01")),
            "error expected exactly one response message");
  // Field 1 as a string, a truncated varint, a group.
  EXPECT_EQ(status_text(framed("\x0a\x01x")), "error malformed HealthCheckResponse");
  EXPECT_EQ(status_text(framed("\x08\x80")), "error malformed HealthCheckResponse");
  EXPECT_EQ(status_text(framed("\x0b")), "error malformed HealthCheckResponse");
  EXPECT_EQ(status_text(framed("\x08\x07")), "error unknown serving status 7");
}

TEST(GrpcClientCodec, FormatsTimeoutsInAtMostEightDigitsRoundedUp) {
  EXPECT_EQ(format_timeout(1ns), "1n");
  EXPECT_EQ(format_timeout(99'999'999ns), "99999999n");
  EXPECT_EQ(format_timeout(100ms), "100000u");
  EXPECT_EQ(format_timeout(2s), "2000000u");
  EXPECT_EQ(format_timeout(1'000'000'001ns), "1000001u");
  EXPECT_EQ(format_timeout(std::chrono::hours(24 * 50)), "4320000S");
  EXPECT_EQ(format_timeout(0ns), "0n");
  EXPECT_EQ(format_timeout(std::chrono::nanoseconds::max()), "2562048H");
  for (const auto t :
       {std::chrono::nanoseconds(1), std::chrono::nanoseconds(123'456'789),
        std::chrono::nanoseconds(2s), std::chrono::nanoseconds(std::chrono::hours(900))}) {
    const auto back = parse_timeout(format_timeout(t));
    ASSERT_TRUE(back) << format_timeout(t);
    EXPECT_GE(*back, t) << format_timeout(t);
  }
}

TEST(GrpcClientCodec, NamesEveryStatusCode) {
  EXPECT_EQ(status_name(0), "OK");
  EXPECT_EQ(status_name(4), "DEADLINE_EXCEEDED");
  EXPECT_EQ(status_name(12), "UNIMPLEMENTED");
  EXPECT_EQ(status_name(14), "UNAVAILABLE");
  EXPECT_EQ(status_name(16), "UNAUTHENTICATED");
  EXPECT_EQ(status_name(17), "code 17");
}

TEST(GrpcClientCodec, DecodesPercentEncodedMessages) {
  EXPECT_EQ(decode_grpc_message("Method%20not%20found%3A%20x"), "Method not found: x");
  EXPECT_EQ(decode_grpc_message("caf%C3%A9"), "caf\xc3\xa9");
  // Malformed escapes stay as they are.
  EXPECT_EQ(decode_grpc_message("100%zz%4"), "100%zz%4");
  EXPECT_EQ(decode_grpc_message("%"), "%");
}

}  // namespace
}  // namespace badges_health::util::grpc
