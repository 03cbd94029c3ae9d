// Typed client errors, as values. The parser, the limits, routing, handlers
// and the connection cap produce them; error_middleware alone turns one
// into the JSON error body and its status.
#pragma once

#include <ostream>  // Boost 1.81 string_view.hpp needs it before its own use

#include <array>
#include <boost/assert/source_location.hpp>
#include <boost/beast/http/status.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace badges_health::http {

namespace beast_http = boost::beast::http;

/// An extra response header (name, value).
using header = std::pair<std::string, std::string>;

/// One kind of error the service answers with: its machine code (the
/// `code` of the JSON body) and its status.
struct error_kind {
  std::string_view code;
  beast_http::status status;
};

/// Every kind of error, in one table: errors are built from its rows, the
/// request metrics take their status labels from it, and tests compare it
/// with the OpenAPI document's list of codes.
namespace errors {
using st = beast_http::status;
inline constexpr error_kind bad_request{"BAD_REQUEST", st::bad_request};
inline constexpr error_kind unknown_parameter{"UNKNOWN_PARAMETER", st::bad_request};
inline constexpr error_kind invalid_parameter{"INVALID_PARAMETER", st::bad_request};
inline constexpr error_kind body_not_allowed{"BODY_NOT_ALLOWED", st::bad_request};
inline constexpr error_kind unauthorized{"UNAUTHORIZED", st::unauthorized};
inline constexpr error_kind not_found{"NOT_FOUND", st::not_found};
inline constexpr error_kind method_not_allowed{"METHOD_NOT_ALLOWED", st::method_not_allowed};
inline constexpr error_kind target_too_long{"TARGET_TOO_LONG", st::uri_too_long};
inline constexpr error_kind header_too_large{"HEADER_TOO_LARGE",
                                             st::request_header_fields_too_large};
inline constexpr error_kind version_not_supported{"HTTP_VERSION_NOT_SUPPORTED",
                                                  st::http_version_not_supported};
inline constexpr error_kind service_unavailable{"SERVICE_UNAVAILABLE", st::service_unavailable};
inline constexpr error_kind too_many_connections{"TOO_MANY_CONNECTIONS", st::service_unavailable};
inline constexpr error_kind internal_error{"INTERNAL_ERROR", st::internal_server_error};
inline constexpr error_kind body_too_large{"BODY_TOO_LARGE", st::payload_too_large};
inline constexpr error_kind request_timeout{"REQUEST_TIMEOUT", st::request_timeout};
inline constexpr error_kind unsupported_media_type{"UNSUPPORTED_MEDIA_TYPE",
                                                   st::unsupported_media_type};
inline constexpr error_kind invalid_report{"INVALID_REPORT", st::bad_request};
inline constexpr error_kind invalid_maintenance{"INVALID_MAINTENANCE", st::bad_request};
inline constexpr error_kind unknown_check{"UNKNOWN_CHECK", st::not_found};

inline constexpr std::array all{
    bad_request,         unknown_parameter,
    invalid_parameter,   body_not_allowed,
    unauthorized,        not_found,
    method_not_allowed,  target_too_long,
    header_too_large,    version_not_supported,
    service_unavailable, too_many_connections,
    internal_error,      body_too_large,
    request_timeout,     unsupported_media_type,
    invalid_report,      invalid_maintenance,
    unknown_check,
};
}  // namespace errors

/// Fallible calls of the http layer return `boost::system::result<T,
/// http_error>`: a value or the client error, never an exception for a
/// client's mistake.
/// A failure the client caused, or a refusal the service chose, with the
/// status and machine code it maps to. Not an exception: routine client
/// errors are returned, and anything thrown is an internal error (500).
class http_error {
 public:
  http_error(const error_kind& kind, std::string message, std::vector<header> headers = {});
  /// What a default-made result<T, http_error> reads as its error: an
  /// internal error. Nothing answers with it.
  http_error() : http_error(errors::internal_error, {}) {}

  beast_http::status status() const noexcept { return status_; }
  /// The machine code, from the error table (static storage).
  std::string_view code() const noexcept { return code_; }
  const std::string& message() const noexcept { return message_; }
  const std::vector<header>& headers() const noexcept { return headers_; }

  static http_error bad_request(std::string message);
  static http_error not_found();
  static http_error method_not_allowed(std::string allow);
  static http_error unknown_parameter(std::string_view name);
  static http_error invalid_parameter(std::string message);
  static http_error unauthorized(std::string message);
  static http_error body_not_allowed();
  static http_error header_too_large();
  static http_error target_too_long();
  static http_error version_not_supported();
  static http_error too_many_connections();
  static http_error body_too_large(std::size_t limit);
  static http_error request_timeout();

 private:
  beast_http::status status_;
  std::string_view code_;
  std::string message_;
  std::vector<header> headers_;
};

/// What boost::system::result<T, http_error>::value() throws on an error
/// (found by argument-dependent lookup). The layer reads results with
/// has_value() and operator*, so this is reached only by a caller that
/// insists on a value that is not there.
[[noreturn]] void throw_exception_from_error(const http_error& e,
                                             const boost::source_location& loc);

}  // namespace badges_health::http
