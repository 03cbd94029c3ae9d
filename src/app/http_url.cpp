// Splitting of http:// and https:// URLs for the http check and the probe command.
#include "badges_health/app/http_url.hpp"

namespace badges_health::app {

// http[s]://host[:port][/path][?query]; IPv6 literals in brackets.
std::string parse_http_url(const std::string& url, health::check_spec& spec) {
  std::string_view scheme = "http://";
  spec.tls = url.rfind("https://", 0) == 0;
  if (spec.tls) scheme = "https://";
  if (url.rfind(scheme, 0) != 0) return "expected an http:// or https:// URL, got \"" + url + "\"";
  std::string rest = url.substr(scheme.size());
  const std::size_t slash = rest.find_first_of("/?#");
  std::string authority = rest.substr(0, slash);
  std::string target = slash == std::string::npos ? std::string() : rest.substr(slash);
  if (const auto hash = target.find('#'); hash != std::string::npos) target.resize(hash);
  if (target.empty() || target.front() == '?') target.insert(target.begin(), '/');
  spec.target = std::move(target);
  if (authority.find('@') != std::string::npos) return "credentials in the URL are not supported";
  std::string port_text;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) return "unterminated IPv6 literal in \"" + url + "\"";
    spec.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return "malformed host in \"" + url + "\"";
      port_text = authority.substr(close + 2);
    }
  } else {
    const auto colon = authority.find(':');
    spec.host = authority.substr(0, colon);
    if (colon != std::string::npos) port_text = authority.substr(colon + 1);
  }
  if (spec.host.empty()) return "missing host in \"" + url + "\"";
  spec.port = spec.tls ? 443 : 80;
  if (!port_text.empty()) {
    unsigned long p = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9' || p > 65535) return "bad port in \"" + url + "\"";
      p = p * 10 + static_cast<unsigned long>(c - '0');
    }
    if (p == 0 || p > 65535) return "bad port in \"" + url + "\"";
    spec.port = static_cast<unsigned short>(p);
  }
  spec.url = url;
  return {};
}

}  // namespace badges_health::app
