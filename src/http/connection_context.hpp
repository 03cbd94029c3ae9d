// What the sessions of one worker thread share: options, the middleware,
// the registry of live sessions (touched only on that thread), the
// process-wide connection counter and the server's drain flag.
#pragma once

#include <atomic>
#include <cstddef>
#include <list>

#include "badges_health/http/error_middleware.hpp"
#include "badges_health/http/request_metrics.hpp"
#include "badges_health/http/server_options.hpp"

namespace badges_health::http {

class session;

struct connection_context {
  const server_options& options;
  const error_middleware& middleware;
  std::atomic<std::size_t>& open_connections;
  request_metrics& metrics;
  /// Set (from any thread) when the server starts draining: every response
  /// from then on carries `Connection: close`.
  const std::atomic<bool>& draining;
  /// Live sessions of this worker; only the worker's thread touches it.
  std::list<session*> sessions;
};

}  // namespace badges_health::http
