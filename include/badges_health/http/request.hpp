// The view of a parsed request that handlers see: method, path, decoded
// query parameters and header lookup. It borrows from the session's parser
// and never outlives one dispatch.
#pragma once

#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/system/result.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "badges_health/http/http_error.hpp"
#include "badges_health/http/protocol.hpp"

namespace badges_health::http {

/// One decoded query parameter.
struct query_param {
  std::string name;
  std::string value;
};

/// What a handler may know about a request. No socket, no parser.
class request_view {
 public:
  /// Splits `target` into path and query. A target that is neither
  /// origin-form, absolute-form nor `*`, or whose query is not valid
  /// percent-encoding, is a client error (400).
  static boost::system::result<request_view, http_error> parse(
      boost::beast::http::verb method, std::string_view method_text, std::string_view target,
      http::protocol protocol, const boost::beast::http::fields* fields = nullptr,
      std::string_view body = {});

  boost::beast::http::verb method() const noexcept { return method_; }
  std::string_view method_text() const noexcept { return method_text_; }
  std::string_view target() const noexcept { return target_; }
  /// Path part of the target ("/status"), or "*" for an asterisk-form target.
  std::string_view path() const noexcept { return path_; }
  const std::vector<query_param>& query() const noexcept { return query_; }
  /// First value of a query parameter, if present.
  std::optional<std::string_view> query_value(std::string_view name) const;
  http::protocol protocol() const noexcept { return protocol_; }
  /// The request's body: empty but for a write route (router::add_put).
  std::string_view body() const noexcept { return body_; }
  /// Header value, empty when absent.
  std::string_view header(boost::beast::http::field f) const;
  std::string_view header(std::string_view name) const;

 private:
  request_view(boost::beast::http::verb method, std::string_view method_text,
               std::string_view target, http::protocol protocol,
               const boost::beast::http::fields* fields, std::string_view body) noexcept;

  boost::beast::http::verb method_;
  std::string_view method_text_;
  std::string_view target_;
  std::string_view path_;
  std::vector<query_param> query_;
  http::protocol protocol_;
  const boost::beast::http::fields* fields_;
  std::string_view body_;
};

/// Percent-decodes a query component (`+` is a space). Returns nullopt on
/// malformed escapes.
std::optional<std::string> percent_decode(std::string_view in);

}  // namespace badges_health::http
