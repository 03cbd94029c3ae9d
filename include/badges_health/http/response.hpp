// A response as handlers and the middleware produce it, before it is
// finished (response_fields) and serialized by HTTP/1.1 or HTTP/2.
#pragma once

#include <boost/beast/http/status.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "badges_health/http/http_error.hpp"

namespace badges_health::http {

/// Bytes that many responses send without copying them: a document built
/// into the binary (no owner), or an immutable string kept alive by the
/// responses still sending it.
class shared_bytes {
 public:
  shared_bytes() noexcept = default;
  /// Storage that lives as long as the program (a string literal).
  static shared_bytes of_static(std::string_view bytes) noexcept {
    shared_bytes b;
    b.bytes_ = bytes;
    return b;
  }
  explicit shared_bytes(std::shared_ptr<const std::string> owner) noexcept
      : bytes_(owner ? std::string_view(*owner) : std::string_view{}), owner_(std::move(owner)) {}

  std::string_view view() const noexcept { return bytes_; }
  explicit operator bool() const noexcept { return bytes_.data() != nullptr; }

 private:
  std::string_view bytes_;
  std::shared_ptr<const void> owner_;
};

struct response {
  beast_http::status status = beast_http::status::ok;
  /// A body built for this response.
  std::string body;
  /// A large body that does not change (the OpenAPI document): shared by
  /// every response that sends it, never copied per request or stream.
  /// When set, it is the payload and `body` is ignored.
  shared_bytes shared_body;
  /// Must point to static storage (a literal).
  std::string_view content_type = "application/json";
  /// Headers beyond the ones every response carries (Allow, Vary, ...).
  std::vector<header> headers;
  /// Close the connection after this response (errors that leave the
  /// stream in an unknown state).
  bool close = false;
  /// The answer opens a live event stream (GET /status/events): the
  /// headers go out without a length, then the server's event_source
  /// feeds the body until the stream ends. `event_checks`: the stream also
  /// carries check events (the request held the details token).
  bool event_stream = false;
  bool event_checks = false;

  /// The bytes of the body, wherever they live.
  std::string_view payload() const noexcept {
    return shared_body ? shared_body.view() : std::string_view(body);
  }
};

}  // namespace badges_health::http
