// Method + path routing with exact path matches. The router owns the rules
// every route shares: HEAD mirrors GET, OPTIONS answers 204 with Allow, a
// wrong method is 405, an unknown query parameter is 400.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "badges_health/http/request.hpp"
#include "badges_health/http/response.hpp"

namespace badges_health::http {

/// A handler answers one request; it may throw http_error for client errors.
using handler = std::function<response(const request_view&)>;

class router {
 public:
  /// Registers `path` for GET (and so HEAD and OPTIONS), accepting only the
  /// query parameters named in `params`.
  void add_get(std::string path, handler h, std::vector<std::string> params = {});

  /// Routes a request. Throws http_error for 404, 405 and unknown parameters.
  /// The response to HEAD is the GET response; the writer drops the body.
  /// `matched` (if given) receives the index of the matched path in paths(),
  /// or paths().size() when no route matched.
  response dispatch(const request_view& req, std::size_t* matched = nullptr) const;

  /// Registered paths, in registration order.
  std::vector<std::string> paths() const;
  std::size_t paths_size() const noexcept { return routes_.size(); }

  /// Value of the Allow header for every registered path.
  static constexpr std::string_view allow = "GET, HEAD, OPTIONS";

 private:
  struct route {
    std::string path;
    handler get;
    std::vector<std::string> params;
  };
  std::size_t find(std::string_view path) const noexcept;

  std::vector<route> routes_;
};

}  // namespace badges_health::http
