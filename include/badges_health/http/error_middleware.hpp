// The one place where failures become responses: client errors
// (http_error values) keep their status and code, anything thrown is logged
// and answered with a bare 500. Handlers never build error JSON themselves.
#pragma once

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>
#include <cstddef>
#include <optional>
#include <string_view>

#include "badges_health/http/http_error.hpp"
#include "badges_health/http/protocol.hpp"
#include "badges_health/http/response.hpp"
#include "badges_health/http/router.hpp"

namespace badges_health::http {

/// One answered request: the response, the route it matched, if any, and
/// the error's machine code when it is an error (for the access log).
struct answer {
  response res;
  std::optional<std::size_t> route;
  std::string_view error_code = {};
};

class error_middleware {
 public:
  explicit error_middleware(const http::router& r) noexcept : router_(r) {}

  /// Builds the request view, routes it and maps every failure: client
  /// errors to their JSON body, anything thrown to a logged 500. Never
  /// throws.
  answer handle(boost::beast::http::verb method, std::string_view method_text,
                std::string_view target, http::protocol protocol,
                const boost::beast::http::fields* fields,
                std::string_view body = {}) const noexcept;

  const http::router& router() const noexcept { return router_; }

  /// The JSON error body `{"error": ..., "code": ...}` and status for a
  /// client error, wherever it came from (parser, limits, routing, handler,
  /// connection cap).
  static response to_response(const http_error& e);

  /// The 500 response; says nothing about what failed (that goes to the log).
  static response internal_error() noexcept;

 private:
  const http::router& router_;
};

}  // namespace badges_health::http
