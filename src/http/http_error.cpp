// Constructors of the typed client errors and their machine codes.
#include "badges_health/http/http_error.hpp"

#include <boost/throw_exception.hpp>
#include <stdexcept>

namespace badges_health::http {

http_error::http_error(const error_kind& kind, std::string message, std::vector<header> headers)
    : status_(kind.status),
      code_(kind.code),
      message_(std::move(message)),
      headers_(std::move(headers)) {}

http_error http_error::bad_request(std::string message) {
  return {errors::bad_request, std::move(message)};
}

http_error http_error::not_found() { return {errors::not_found, "no such endpoint"}; }

http_error http_error::method_not_allowed(std::string allow) {
  std::string message = "method not allowed; allowed: " + allow;
  return {errors::method_not_allowed, std::move(message), {{"Allow", std::move(allow)}}};
}

http_error http_error::unknown_parameter(std::string_view name) {
  return {errors::unknown_parameter, "unknown query parameter '" + std::string(name) + "'"};
}

http_error http_error::invalid_parameter(std::string message) {
  return {errors::invalid_parameter, std::move(message)};
}

http_error http_error::unauthorized(std::string message) {
  return {errors::unauthorized,
          std::move(message),
          {{"WWW-Authenticate", "Bearer realm=\"badges-health\""}}};
}

http_error http_error::version_not_supported() {
  return {errors::version_not_supported,
          "this service speaks HTTP/1.0 and HTTP/1.1 in the request line"};
}

http_error http_error::body_not_allowed() {
  return {errors::body_not_allowed, "request bodies are not accepted by this service"};
}

http_error http_error::header_too_large() {
  return {errors::header_too_large, "request header block is too large"};
}

http_error http_error::target_too_long() {
  return {errors::target_too_long, "request target is too long"};
}

http_error http_error::too_many_connections() {
  return {errors::too_many_connections, "too many open connections; try again later"};
}

http_error http_error::body_too_large(std::size_t limit) {
  return {errors::body_too_large,
          "request body is larger than " + std::to_string(limit) + " bytes"};
}

http_error http_error::request_timeout() {
  return {errors::request_timeout, "the request was not complete within the request timeout"};
}

void throw_exception_from_error(const http_error& e, const boost::source_location& loc) {
  boost::throw_exception(std::runtime_error(std::string(e.code()) + ": " + e.message()), loc);
}

}  // namespace badges_health::http
