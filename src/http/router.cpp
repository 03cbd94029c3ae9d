// Exact-match routing; a handful of routes make a linear scan the fastest
// and simplest lookup.
#include "badges_health/http/router.hpp"

#include <algorithm>

namespace badges_health::http {

namespace {

using beast_http::verb;

bool is_preflight(const request_view& req) {
  return !req.header("Access-Control-Request-Method").empty();
}

// OPTIONS: 204 with Allow. A CORS preflight (it names the method it wants
// in Access-Control-Request-Method) also learns which methods and request
// headers a browser page may use, so a dashboard can send the bearer token.
response options_response(const request_view& req) {
  response res;
  res.status = beast_http::status::no_content;
  res.headers.emplace_back("Allow", std::string(router::allow));
  if (is_preflight(req)) {
    res.headers.emplace_back("Access-Control-Allow-Methods", std::string(router::allow));
    res.headers.emplace_back("Access-Control-Allow-Headers", "Authorization");
    res.headers.emplace_back("Access-Control-Max-Age", "600");
  }
  return res;
}

// HAProxy's bare `option httpchk` sends `OPTIONS / HTTP/1.0` and reads only
// the status; `OPTIONS *` asks about the server as a whole. Both are about
// the service, so they answer what the service is. A preflight is a
// browser's question about a route, not a probe.
bool is_server_probe(const request_view& req) {
  return (req.path() == "/" || req.path() == "*") && !is_preflight(req);
}

}  // namespace

void router::add_get(std::string path, handler h, std::vector<std::string> params) {
  routes_.push_back(route{std::move(path), std::move(h), std::move(params)});
}

std::optional<std::size_t> router::find(std::string_view path) const noexcept {
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    if (routes_[i].path == path) return i;
  }
  return std::nullopt;
}

std::vector<std::string> router::paths() const {
  std::vector<std::string> out;
  out.reserve(routes_.size());
  for (const auto& r : routes_) out.push_back(r.path);
  return out;
}

handler_result router::answer_options(const request_view& req) const {
  if (unavailable_ && is_server_probe(req) && unavailable_()) {
    // An error like any other refusal: the JSON error body, and Allow still
    // says what the server answers.
    return http_error{errors::service_unavailable,
                      "the service is down or draining",
                      {{"Allow", std::string(allow)}}};
  }
  return options_response(req);
}

handler_result router::dispatch(const request_view& req,
                                std::optional<std::size_t>& matched) const {
  if (req.path() == "*") {
    if (req.method() != verb::options) {
      return http_error::bad_request("the target '*' is only valid for OPTIONS");
    }
    return answer_options(req);
  }

  matched = find(req.path());
  if (!matched) return http_error::not_found();
  const auto& r = routes_[*matched];

  switch (req.method()) {
    case verb::get:
    case verb::head:
      break;
    case verb::options:
      return answer_options(req);
    default:
      return http_error::method_not_allowed(std::string(allow));
  }

  for (const auto& p : req.query()) {
    if (std::find(r.params.begin(), r.params.end(), p.name) == r.params.end()) {
      return http_error::unknown_parameter(p.name);
    }
  }
  return r.get(req);
}

}  // namespace badges_health::http
