// Typed client errors, as values. The parser, the limits, routing, handlers
// and the connection cap produce them; error_middleware alone turns one
// into the JSON error body and its status.
#pragma once

#include <ostream>  // Boost 1.81 string_view.hpp needs it before its own use

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

/// Fallible calls of the http layer return `boost::system::result<T,
/// http_error>`: a value or the client error, never an exception for a
/// client's mistake.
/// A failure the client caused, or a refusal the service chose, with the
/// status and machine code it maps to. Not an exception: routine client
/// errors are returned, and anything thrown is an internal error (500).
class http_error {
 public:
  http_error(beast_http::status status, std::string code, std::string message,
             std::vector<header> headers = {});
  /// What a default-made result<T, http_error> reads as its error: an
  /// internal error. Nothing answers with it.
  http_error() : http_error(beast_http::status::internal_server_error, "INTERNAL_ERROR", {}) {}

  beast_http::status status() const noexcept { return status_; }
  const std::string& code() const noexcept { return code_; }
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

 private:
  beast_http::status status_;
  std::string code_;
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
