// Serialises responses to HTTP/1.1 wire bytes, adding the headers every
// response carries (Date, Cache-Control, nosniff, CORS, Content-Length,
// Connection). Pipelined responses are appended to one buffer so that a
// batch goes out in a single write.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "badges_health/http/response.hpp"

namespace badges_health::http {

/// Headers on every response, prepared once.
inline constexpr std::string_view common_headers =
    "Cache-Control: no-store\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Access-Control-Allow-Origin: *\r\n";

struct write_options {
  bool head = false;       ///< HEAD request: same headers, no body.
  bool keep_alive = true;  ///< false adds `Connection: close`.
  unsigned version = 11;   ///< 10 with keep_alive adds `Connection: keep-alive`.
};

/// Appends the wire form of `res` to `out`.
void write_response(const response& res, const write_options& opts, std::string& out);

}  // namespace badges_health::http
