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
// headers a browser page may use, so a dashboard can send the bearer token
// (and, to a write route, its JSON body).
response options_response(const request_view& req, std::string_view allowed) {
  response res;
  res.status = beast_http::status::no_content;
  res.headers.emplace_back("Allow", std::string(allowed));
  if (is_preflight(req)) {
    res.headers.emplace_back("Access-Control-Allow-Methods", std::string(allowed));
    res.headers.emplace_back("Access-Control-Allow-Headers",
                             allowed.find("PUT") != std::string_view::npos
                                 ? "Authorization, Content-Type"
                                 : "Authorization");
    res.headers.emplace_back("Access-Control-Max-Age", "600");
  }
  return res;
}

// The path of a target, without its query: what routes match on. An
// absolute-form target is reduced as request_view does.
std::string_view path_of(std::string_view target) {
  if (target.size() > 7 && (target[0] == 'h' || target[0] == 'H')) {
    const std::size_t scheme = target.find("://");
    if (scheme != std::string_view::npos) {
      const std::size_t slash = target.find_first_of("/?", scheme + 3);
      target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    }
  }
  return target.substr(0, target.find('?'));
}

// A route path ending in "/{name}" matches that prefix plus one non-empty
// segment.
bool matches(std::string_view pattern, std::string_view path) noexcept {
  constexpr std::string_view param = "{name}";
  if (pattern.size() > param.size() && pattern.substr(pattern.size() - param.size()) == param) {
    const std::string_view prefix = pattern.substr(0, pattern.size() - param.size());
    if (path.size() <= prefix.size() || path.substr(0, prefix.size()) != prefix) return false;
    return path.find('/', prefix.size()) == std::string_view::npos;
  }
  return pattern == path;
}

// HAProxy's bare `option httpchk` sends `OPTIONS / HTTP/1.0` and reads only
// the status; `OPTIONS *` asks about the server as a whole. Both are about
// the service, so they answer what the service is. A preflight is a
// browser's question about a route, not a probe.
bool is_server_probe(const request_view& req) {
  return (req.path() == "/" || req.path() == "*") && !is_preflight(req);
}

// The Allow header of a route: its methods in one fixed order.
std::string allow_of(const router::route& r) {
  std::string out;
  if (r.get) out += "GET, HEAD, ";
  if (r.put) out += "PUT, ";
  if (r.del) out += "DELETE, ";
  return out + "OPTIONS";
}

}  // namespace

router::route& router::route_for(std::string path) {
  for (auto& r : routes_) {
    if (r.path == path) return r;
  }
  routes_.push_back(route{std::move(path), {}, {}, {}, {}, {}});
  return routes_.back();
}

void router::add_get(std::string path, handler h, std::vector<std::string> params) {
  route& r = route_for(std::move(path));
  r.get = std::move(h);
  r.params = std::move(params);
  r.allow = allow_of(r);
}

void router::add_put(std::string path, handler h) {
  route& r = route_for(std::move(path));
  r.put = std::move(h);
  r.allow = allow_of(r);
}

void router::add_delete(std::string path, handler h) {
  route& r = route_for(std::move(path));
  r.del = std::move(h);
  r.allow = allow_of(r);
}

std::optional<std::size_t> router::find(std::string_view path) const noexcept {
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    if (matches(routes_[i].path, path)) return i;
  }
  return std::nullopt;
}

bool router::takes_body(verb method, std::string_view target) const noexcept {
  if (method != verb::put) return false;
  const auto index = find(path_of(target));
  return index && routes_[*index].put;
}

std::vector<std::string> router::paths() const {
  std::vector<std::string> out;
  out.reserve(routes_.size());
  for (const auto& r : routes_) out.push_back(r.path);
  return out;
}

handler_result router::answer_options(const request_view& req, std::string_view allowed) const {
  if (unavailable_ && is_server_probe(req) && unavailable_()) {
    // An error like any other refusal: the JSON error body, and Allow still
    // says what the server answers.
    return http_error{errors::service_unavailable,
                      "the service is down or draining",
                      {{"Allow", std::string(allowed)}}};
  }
  return options_response(req, allowed);
}

handler_result router::dispatch(const request_view& req,
                                std::optional<std::size_t>& matched) const {
  if (req.path() == "*") {
    if (req.method() != verb::options) {
      return http_error::bad_request("the target '*' is only valid for OPTIONS");
    }
    return answer_options(req, allow);
  }

  matched = find(req.path());
  if (!matched) return http_error::not_found();
  const auto& r = routes_[*matched];

  switch (req.method()) {
    case verb::get:
    case verb::head:
      if (!r.get) return http_error::method_not_allowed(r.allow);
      break;
    case verb::put:
      if (!r.put) return http_error::method_not_allowed(r.allow);
      break;
    case verb::delete_:
      if (!r.del) return http_error::method_not_allowed(r.allow);
      break;
    case verb::options:
      return answer_options(req, r.allow);
    default:
      return http_error::method_not_allowed(r.allow);
  }

  // Only GET and HEAD take query parameters; a write takes none.
  const bool read = req.method() == verb::get || req.method() == verb::head;
  for (const auto& p : req.query()) {
    if (!read || std::find(r.params.begin(), r.params.end(), p.name) == r.params.end()) {
      return http_error::unknown_parameter(p.name);
    }
  }
  switch (req.method()) {
    case verb::put:
      return r.put(req);
    case verb::delete_:
      return r.del(req);
    default:
      return r.get(req);
  }
}

}  // namespace badges_health::http
