// Target splitting and query decoding for request_view.
#include "badges_health/http/request.hpp"

namespace badges_health::http {
namespace {

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool starts_with_icase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != prefix[i]) return false;
  }
  return true;
}

// Absolute-form ("http://host/path?q") is reduced to its path and query,
// as RFC 9112 section 3.2.2 asks servers to accept it.
std::string_view strip_absolute_form(std::string_view target) {
  std::size_t scheme_end = 0;
  if (starts_with_icase(target, "http://")) {
    scheme_end = 7;
  } else if (starts_with_icase(target, "https://")) {
    scheme_end = 8;
  } else {
    return target;
  }
  const std::size_t path_start = target.find_first_of("/?", scheme_end);
  if (path_start == std::string_view::npos) return "/";
  return target.substr(path_start);  // "http://h?x=1" has an empty path, read as "/"
}

}  // namespace

std::optional<std::string> percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;
      const int hi = hex_value(in[i + 1]);
      const int lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

request_view::request_view(boost::beast::http::verb method, std::string_view method_text,
                           std::string_view target, http::protocol protocol,
                           const boost::beast::http::fields* fields, std::string_view body) noexcept
    : method_(method),
      method_text_(method_text),
      target_(target),
      protocol_(protocol),
      fields_(fields),
      body_(body) {}

boost::system::result<request_view, http_error> request_view::parse(
    boost::beast::http::verb method, std::string_view method_text, std::string_view target,
    http::protocol protocol, const boost::beast::http::fields* fields, std::string_view body) {
  request_view req(method, method_text, target, protocol, fields, body);
  if (target == "*") {
    req.path_ = target;
    return req;
  }
  // Origin-form starts with '/'; only an absolute-form target reduced to
  // its query ("http://h?x") may start with '?' here.
  std::string_view rest = strip_absolute_form(target);
  const bool was_absolute = rest.data() != target.data() || rest.size() != target.size();
  if (rest.empty() || !(rest.front() == '/' || (was_absolute && rest.front() == '?'))) {
    return http_error::bad_request("request target must be an absolute path");
  }
  const std::size_t q = rest.find('?');
  req.path_ = q == std::string_view::npos ? rest : rest.substr(0, q);
  if (req.path_.empty()) req.path_ = "/";
  if (q == std::string_view::npos) return req;

  std::string_view query = rest.substr(q + 1);
  const std::size_t hash = query.find('#');
  if (hash != std::string_view::npos) query = query.substr(0, hash);
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    auto name = percent_decode(pair.substr(0, eq));
    auto value =
        percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
    if (!name || !value) return http_error::bad_request("malformed percent-encoding in query");
    req.query_.push_back({std::move(*name), std::move(*value)});
  }
  return req;
}

std::optional<std::string_view> request_view::query_value(std::string_view name) const {
  for (const auto& p : query_) {
    if (p.name == name) return std::string_view(p.value);
  }
  return std::nullopt;
}

std::string_view request_view::header(boost::beast::http::field f) const {
  if (fields_ == nullptr) return {};
  auto it = fields_->find(f);
  return it == fields_->end() ? std::string_view{} : std::string_view(it->value());
}

std::string_view request_view::header(std::string_view name) const {
  if (fields_ == nullptr) return {};
  auto it = fields_->find(name);
  return it == fields_->end() ? std::string_view{} : std::string_view(it->value());
}

}  // namespace badges_health::http
