// The finishing step both protocols share: which header fields a response
// carries, in which order, and whether it carries content. HTTP/1.1
// (response_writer) and HTTP/2 (h2_http_stream) only serialize this list.
#pragma once

#include <array>
#include <string_view>

#include "badges_health/http/response.hpp"

namespace badges_health::http {

/// RFC 9110 sections 6.4.1, 15.3.5 and 15.4.5: no content (and no
/// Content-Length) with a 1xx, 204 or 304.
constexpr bool status_has_content(unsigned code) noexcept {
  return code / 100 != 1 && code != 204 && code != 304;
}

/// One header field of a finished response. `lower_name` is the name as
/// HTTP/2 must send it (RFC 9113 section 8.2.1); it is empty for a
/// response's own headers, whose names the HTTP/2 side lowercases.
struct field_view {
  std::string_view name;
  std::string_view lower_name;
  std::string_view value;
};

/// Headers on every response, whatever the protocol.
inline constexpr std::array<field_view, 3> common_fields{{
    {"Cache-Control", "cache-control", "no-store"},
    {"X-Content-Type-Options", "x-content-type-options", "nosniff"},
    {"Access-Control-Allow-Origin", "access-control-allow-origin", "*"},
}};

/// Calls `f(field_view)` for every header field of `res`: Date, the common
/// fields, Content-Type and Content-Length when the status carries
/// content (no length for an event stream, whose body has none), then the
/// response's own headers. `date` is an HTTP date;
/// `content_length` the decimal size of the payload.
template <class F>
void for_each_field(const response& res, std::string_view date, std::string_view content_length,
                    F&& f) {
  f(field_view{"Date", "date", date});
  for (const auto& c : common_fields) f(c);
  if (status_has_content(static_cast<unsigned>(res.status))) {
    f(field_view{"Content-Type", "content-type", res.content_type});
    if (!res.event_stream) f(field_view{"Content-Length", "content-length", content_length});
  }
  for (const auto& [name, value] : res.headers) f(field_view{name, {}, value});
}

}  // namespace badges_health::http
