// Exact-match routing; a handful of routes make a linear scan the fastest
// and simplest lookup.
#include "badges_health/http/router.hpp"

#include <algorithm>

namespace badges_health::http {

void router::add_get(std::string path, handler h, std::vector<std::string> params) {
  routes_.push_back(route{std::move(path), std::move(h), std::move(params)});
}

std::size_t router::find(std::string_view path) const noexcept {
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    if (routes_[i].path == path) return i;
  }
  return routes_.size();
}

std::vector<std::string> router::paths() const {
  std::vector<std::string> out;
  out.reserve(routes_.size());
  for (const auto& r : routes_) out.push_back(r.path);
  return out;
}

response router::dispatch(const request_view& req, std::size_t* matched) const {
  using beast_http::verb;
  const std::size_t index = find(req.path());
  if (matched != nullptr) *matched = index;
  if (req.path() == "*") {
    if (req.method() != verb::options) {
      throw http_error::bad_request("the target '*' is only valid for OPTIONS");
    }
    response res;
    res.status = beast_http::status::no_content;
    res.headers.emplace_back("Allow", std::string(allow));
    return res;
  }

  if (index == routes_.size()) throw http_error::not_found();
  const route* r = &routes_[index];

  switch (req.method()) {
    case verb::get:
    case verb::head:
      break;
    case verb::options: {
      response res;
      res.status = beast_http::status::no_content;
      res.headers.emplace_back("Allow", std::string(allow));
      return res;
    }
    default:
      throw http_error::method_not_allowed(std::string(allow));
  }

  for (const auto& p : req.query()) {
    if (std::find(r->params.begin(), r->params.end(), p.name) == r->params.end()) {
      throw http_error::unknown_parameter(p.name);
    }
  }
  return r->get(req);
}

}  // namespace badges_health::http
