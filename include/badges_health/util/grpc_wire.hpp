// The little of gRPC's wire format that the health protocol needs, by hand:
// the 5-byte message prefix, HealthCheckRequest (one string field),
// HealthCheckResponse (one enum field), HealthListRequest (no field) and
// HealthListResponse (one map) in protobuf encoding, status codes
// and the grpc-timeout header, for both sides of a call. Pure functions, no
// I/O. Below both the server (http) and the grpc dependency check (health),
// so it lives in util.
#pragma once

#include <ostream>  // Boost 1.81 string_view.hpp needs it before its own use

#include <boost/system/result.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace badges_health::util::grpc {

/// grpc.health.v1.HealthCheckResponse.ServingStatus, with its wire values.
enum class serving_status : std::uint8_t {
  unknown = 0,
  serving = 1,
  not_serving = 2,
  service_unknown = 3,
};

/// The status codes this service answers with (grpc/doc/statuscodes.md).
enum class status_code : std::uint8_t {
  ok = 0,
  deadline_exceeded = 4,
  not_found = 5,
  resource_exhausted = 8,
  unimplemented = 12,
  internal = 13,
  unavailable = 14,
};

/// A call that ends without a message: the status and its grpc-message.
struct call_error {
  status_code code;
  std::string message;
};

/// The service and method paths.
inline constexpr std::string_view check_path = "/grpc.health.v1.Health/Check";
inline constexpr std::string_view watch_path = "/grpc.health.v1.Health/Watch";
inline constexpr std::string_view list_path = "/grpc.health.v1.Health/List";

/// The most names a List answers with; past it the call ends with
/// RESOURCE_EXHAUSTED, as grpc-go's health server does (gRFC A90).
inline constexpr std::size_t max_list_names = 100;

/// One entry of a HealthListResponse.
struct named_status {
  std::string name;
  serving_status status = serving_status::unknown;
};

/// Largest request body accepted: the prefix and a service name of up to
/// 1 KiB with its field header.
inline constexpr std::size_t max_request_bytes = 5 + 8 + 1024;

/// The service name in a request body: exactly one uncompressed
/// length-prefixed HealthCheckRequest. Unknown fields are skipped, as
/// protobuf parsers do; an empty message names the service "".
boost::system::result<std::string, call_error> decode_check_request(std::string_view body);

/// One length-prefixed HealthCheckResponse carrying `s`.
std::string encode_check_response(serving_status s);

/// Checks a List request body: exactly one uncompressed length-prefixed
/// HealthListRequest. The message has no fields, so any field in it is
/// unknown and skipped, as protobuf parsers do.
boost::system::result<void, call_error> decode_list_request(std::string_view body);

/// One length-prefixed HealthListResponse: `statuses` as its map, entries
/// sorted by name (as protobuf's deterministic serialization orders map
/// keys), so the same states always give the same bytes. A name given
/// twice is sent once, with its first status.
std::string encode_list_response(std::vector<named_status> statuses);

/// The grpc-timeout header ("100m", "5S", at most 8 digits and a unit of
/// H, M, S, m, u or n); nullopt when malformed.
std::optional<std::chrono::nanoseconds> parse_timeout(std::string_view value) noexcept;

/// Whether a content-type names gRPC ("application/grpc" alone or with a
/// "+format" or ";parameters").
bool is_grpc_content_type(std::string_view content_type) noexcept;

/// The decimal text of a status code, for the grpc-status trailer.
std::string_view to_text(status_code c) noexcept;

// ---- the client side (the grpc check) ----

/// A length-prefixed HealthCheckRequest naming `service` ("" leaves the
/// field out, as proto3 does).
std::string encode_check_request(std::string_view service);

/// The serving status in a response body: exactly one uncompressed
/// length-prefixed HealthCheckResponse. Unknown fields are skipped; the
/// error says what is wrong with the body.
boost::system::result<serving_status, std::string> decode_check_response(std::string_view body);

/// `timeout` as a grpc-timeout header value: at most 8 digits in the finest
/// unit that holds it, rounded up, so the server never sees a shorter
/// deadline than the caller's ("100000u" for 100 ms, "2000000u" for 2 s).
std::string format_timeout(std::chrono::nanoseconds timeout);

/// The name of any status code in grpc/doc/statuscodes.md
/// ("UNIMPLEMENTED"); "code N" for one outside it.
std::string status_name(std::uint64_t code);

/// grpc-message as sent: percent-encoded UTF-8, decoded. A malformed
/// escape is kept as it is (the spec asks receivers not to fail on it).
std::string decode_grpc_message(std::string_view text);

}  // namespace badges_health::util::grpc
