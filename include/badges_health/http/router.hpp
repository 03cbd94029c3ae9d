// Method + path routing: exact paths, and paths whose last segment is a
// parameter ("/checks/{name}"). The route table is the one source for
// dispatch, the `Allow` header, which requests may carry a body, and the
// endpoint list. The router owns the rules every route shares: HEAD
// mirrors GET, OPTIONS answers 204 with Allow (and a CORS preflight with
// what a browser may send), a wrong method is 405, an unknown query
// parameter is 400. A plain `OPTIONS /` or
// `OPTIONS *` is also a server probe (HAProxy's bare `option httpchk`) and
// answers 503 while the service is unavailable. Client errors are returned
// as values; a handler's fault is thrown, to the middleware.
#pragma once

#include <boost/system/result.hpp>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "badges_health/http/http_error.hpp"
#include "badges_health/http/request.hpp"
#include "badges_health/http/response.hpp"

namespace badges_health::http {

/// What a handler returns: its response, or a client error for the mapper.
using handler_result = boost::system::result<response, http_error>;

/// A handler answers one request. It returns client errors; what it throws
/// is an internal error (500).
using handler = std::function<handler_result(const request_view&)>;

class router {
 public:
  struct route {
    /// An exact path, or one ending in "/{name}": any one non-empty
    /// segment there (the handler reads it from the path).
    std::string path;
    handler get;
    /// PUT: the one method that takes a request body.
    handler put;
    /// DELETE: no body, like GET.
    handler del;
    /// The query parameters the route accepts (GET's).
    std::vector<std::string> params;
    /// The route's Allow header: its methods.
    std::string allow;
  };

  /// Registers `path` for GET (and so HEAD and OPTIONS), accepting only the
  /// query parameters named in `params`.
  void add_get(std::string path, handler h, std::vector<std::string> params = {});

  /// Registers `path` (which may end in "/{name}") for PUT (and OPTIONS):
  /// the request's body, at most max_body_bytes, is the handler's input.
  void add_put(std::string path, handler h);

  /// Registers `path` for DELETE (and OPTIONS). A DELETE carries no body:
  /// one with a body is refused as a GET's is.
  void add_delete(std::string path, handler h);

  // A path registered again for another method is the same route: one
  // entry, one Allow header listing every method it has.

  /// Whether a request with this method and target may carry a body: a
  /// PUT to a route that has one. Decided from the head, before a byte of
  /// the body is read.
  bool takes_body(boost::beast::http::verb method, std::string_view target) const noexcept;

  /// Says whether the service should be taken out of rotation now. The
  /// router knows nothing of health; whoever does sets this before serving.
  using unavailable_probe = std::function<bool()>;

  /// A plain (non-preflight) `OPTIONS /` or `OPTIONS *` answers 503
  /// SERVICE_UNAVAILABLE while `probe` says so, 204 otherwise. Unset, they
  /// always answer 204. Called from every worker: it must be cheap and
  /// thread-safe.
  void set_unavailable(unavailable_probe probe) { unavailable_ = std::move(probe); }

  /// Routes a request. `matched` is set to the index (in routes()) of the
  /// route whose path matched before its handler runs, so that a fault is
  /// still counted on it. The response to HEAD is the GET response; the
  /// writer drops the body. What a handler throws propagates.
  handler_result dispatch(const request_view& req, std::optional<std::size_t>& matched) const;

  const std::vector<route>& routes() const noexcept { return routes_; }
  /// Registered paths, in registration order.
  std::vector<std::string> paths() const;

  /// The methods of a route that answers GET (its Allow header).
  static constexpr std::string_view allow = "GET, HEAD, OPTIONS";
  /// The largest request body a write route takes (413 above it).
  static constexpr std::size_t max_body_bytes = 4096;

 private:
  std::optional<std::size_t> find(std::string_view path) const noexcept;
  route& route_for(std::string path);
  handler_result answer_options(const request_view& req, std::string_view allowed) const;

  std::vector<route> routes_;
  unavailable_probe unavailable_;
};

}  // namespace badges_health::http
