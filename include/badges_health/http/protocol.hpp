// The protocol a request arrived in, as the router, handlers, the access
// log and the metrics see it. HTTP/2 is itself, not a version number.
#pragma once

#include <string_view>

namespace badges_health::http {

enum class protocol : unsigned char { http1_0, http1_1, http2 };

/// "HTTP/1.0", "HTTP/1.1" or "HTTP/2".
constexpr std::string_view to_string(protocol p) noexcept {
  switch (p) {
    case protocol::http1_0:
      return "HTTP/1.0";
    case protocol::http1_1:
      return "HTTP/1.1";
    case protocol::http2:
      break;
  }
  return "HTTP/2";
}

}  // namespace badges_health::http
