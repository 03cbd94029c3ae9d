// A response as handlers and the middleware produce it, before it is
// written to the wire by response_writer.
#pragma once

#include <boost/beast/http/status.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "badges_health/http/http_error.hpp"

namespace badges_health::http {

struct response {
  beast_http::status status = beast_http::status::ok;
  std::string body;
  /// Must point to static storage (a literal).
  std::string_view content_type = "application/json";
  /// Headers beyond the ones every response carries (Allow, x-envoy-degraded...).
  std::vector<header> headers;
  /// Close the connection after this response (errors that leave the
  /// stream in an unknown state).
  bool close = false;
};

}  // namespace badges_health::http
