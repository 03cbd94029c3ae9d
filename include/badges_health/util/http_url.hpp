// http:// and https:// URLs as the http check and the probe command take
// them: split into what a client needs to connect and ask.
#pragma once

#include <ostream>  // Boost 1.81 string_view.hpp needs it before its own use

#include <boost/system/result.hpp>
#include <string>
#include <string_view>

namespace badges_health::util {

struct http_url {
  /// The URL as written.
  std::string text;
  /// Without brackets for an IPv6 literal.
  std::string host;
  unsigned short port = 80;
  /// Path and query ("/" at least), without a fragment.
  std::string target = "/";
  /// https://
  bool tls = false;
  bool operator==(const http_url&) const = default;
};

/// Splits http[s]://host[:port][/path][?query] (IPv6 literals in
/// brackets); the error says what is wrong with the URL.
boost::system::result<http_url, std::string> parse_http_url(std::string_view url);

}  // namespace badges_health::util
