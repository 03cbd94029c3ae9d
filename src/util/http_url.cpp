// Splitting of http:// and https:// URLs for the http check and the probe command.
#include "badges_health/util/http_url.hpp"

namespace badges_health::util {

namespace {

using url_result = boost::system::result<http_url, std::string>;

// An error result (a string would also construct an http_url, whose first
// member is one).
url_result refuse(std::string why) { return {boost::system::in_place_error, std::move(why)}; }

}  // namespace

url_result parse_http_url(std::string_view text) {
  http_url url;
  const std::string quoted = "\"" + std::string(text) + "\"";
  url.tls = text.starts_with("https://");
  const std::string_view scheme = url.tls ? "https://" : "http://";
  if (!text.starts_with(scheme))
    return refuse("expected an http:// or https:// URL, got " + quoted);
  const std::string_view rest = text.substr(scheme.size());
  const std::size_t slash = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, slash);
  std::string target =
      slash == std::string_view::npos ? std::string() : std::string(rest.substr(slash));
  if (const auto hash = target.find('#'); hash != std::string::npos) target.resize(hash);
  if (target.empty() || target.front() == '?') target.insert(target.begin(), '/');
  url.target = std::move(target);
  if (authority.find('@') != std::string_view::npos) {
    return refuse(std::string("credentials in the URL are not supported"));
  }
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return refuse("unterminated IPv6 literal in " + quoted);
    url.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return refuse("malformed host in " + quoted);
      port_text = authority.substr(close + 2);
    }
  } else {
    const auto colon = authority.find(':');
    url.host = authority.substr(0, colon);
    if (colon != std::string_view::npos) port_text = authority.substr(colon + 1);
  }
  if (url.host.empty()) return refuse("missing host in " + quoted);
  url.port = url.tls ? 443 : 80;
  if (!port_text.empty()) {
    unsigned long p = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9' || p > 65535) return refuse("bad port in " + quoted);
      p = p * 10 + static_cast<unsigned long>(c - '0');
    }
    if (p == 0 || p > 65535) return refuse("bad port in " + quoted);
    url.port = static_cast<unsigned short>(p);
  }
  url.text = std::string(text);
  return url;
}

}  // namespace badges_health::util
