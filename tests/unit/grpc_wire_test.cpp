// The hand-written gRPC health wire format: request decoding (with the
// protobuf rules a generated parser follows), response encoding, timeouts.
#include "badges_health/util/grpc_wire.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>

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

}  // namespace
}  // namespace badges_health::util::grpc
