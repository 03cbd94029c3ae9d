// Serializes finished responses (response_fields) to HTTP/1.1 wire bytes,
// adding Connection when the connection closes or an HTTP/1.0 client
// keeps it. Pipelined responses are appended to one queue so that a batch
// goes out in a single write; a shared body is referred to, not copied.
#pragma once

#include <string>

#include "badges_health/http/output_queue.hpp"
#include "badges_health/http/response.hpp"

namespace badges_health::http {

struct write_options {
  bool head = false;       ///< HEAD request: same headers, no body.
  bool keep_alive = true;  ///< false adds `Connection: close`.
  unsigned version = 11;   ///< 10 with keep_alive adds `Connection: keep-alive`.
};

/// Appends the wire form of `res` to `out`; a large body is moved in or
/// referred to, not copied.
void write_response(response&& res, const write_options& opts, output_queue& out);

/// Appends the whole wire form of `res` to `out` (tests, one-off replies).
void write_response(const response& res, const write_options& opts, std::string& out);

}  // namespace badges_health::http
