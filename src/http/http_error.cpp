// Constructors of the typed client errors and their machine codes.
#include "badges_health/http/http_error.hpp"

#include <boost/throw_exception.hpp>
#include <stdexcept>

namespace badges_health::http {

http_error::http_error(beast_http::status status, std::string code, std::string message,
                       std::vector<header> headers)
    : status_(status),
      code_(std::move(code)),
      message_(std::move(message)),
      headers_(std::move(headers)) {}

http_error http_error::bad_request(std::string message) {
  return {beast_http::status::bad_request, "BAD_REQUEST", std::move(message)};
}

http_error http_error::not_found() {
  return {beast_http::status::not_found, "NOT_FOUND", "no such endpoint"};
}

http_error http_error::method_not_allowed(std::string allow) {
  std::string message = "method not allowed; allowed: " + allow;
  return {beast_http::status::method_not_allowed,
          "METHOD_NOT_ALLOWED",
          std::move(message),
          {{"Allow", std::move(allow)}}};
}

http_error http_error::unknown_parameter(std::string_view name) {
  return {beast_http::status::bad_request, "UNKNOWN_PARAMETER",
          "unknown query parameter '" + std::string(name) + "'"};
}

http_error http_error::invalid_parameter(std::string message) {
  return {beast_http::status::bad_request, "INVALID_PARAMETER", std::move(message)};
}

http_error http_error::unauthorized(std::string message) {
  return {beast_http::status::unauthorized,
          "UNAUTHORIZED",
          std::move(message),
          {{"WWW-Authenticate", "Bearer realm=\"badges-health\""}}};
}

http_error http_error::version_not_supported() {
  return {beast_http::status::http_version_not_supported, "HTTP_VERSION_NOT_SUPPORTED",
          "this service speaks HTTP/1.0 and HTTP/1.1 in the request line"};
}

http_error http_error::body_not_allowed() {
  return {beast_http::status::bad_request, "BODY_NOT_ALLOWED",
          "request bodies are not accepted by this service"};
}

http_error http_error::header_too_large() {
  return {beast_http::status::request_header_fields_too_large, "HEADER_TOO_LARGE",
          "request header block is too large"};
}

http_error http_error::target_too_long() {
  return {beast_http::status::uri_too_long, "TARGET_TOO_LONG", "request target is too long"};
}

http_error http_error::too_many_connections() {
  return {beast_http::status::service_unavailable, "TOO_MANY_CONNECTIONS",
          "too many open connections; try again later"};
}

void throw_exception_from_error(const http_error& e, const boost::source_location& loc) {
  boost::throw_exception(std::runtime_error(e.code() + ": " + e.message()), loc);
}

}  // namespace badges_health::http
