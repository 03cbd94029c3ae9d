// What the connections of one worker thread share: options, the middleware,
// the registry of live connections (touched only on that thread), the
// process-wide connection counter and the server's drain flag.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <list>

#include "badges_health/http/error_middleware.hpp"
#include "badges_health/http/grpc_health.hpp"
#include "badges_health/http/request_metrics.hpp"
#include "badges_health/http/server_options.hpp"

namespace badges_health::http {

/// One live client connection, HTTP/1.1 or HTTP/2, as its worker sees it.
/// Every call happens on the worker's thread.
class connection {
 public:
  using clock = std::chrono::steady_clock;
  virtual ~connection() = default;

  /// When the connection's current phase runs out.
  virtual clock::time_point deadline() const noexcept = 0;
  /// The deadline passed. Called by the worker's sweep.
  virtual void expire() = 0;
  /// The server stopped accepting: finish what is in progress and close.
  virtual void shutdown() = 0;
  /// Health changed: streams that follow it (gRPC Watch) send the news.
  virtual void health_changed() {}
};

struct connection_context {
  const server_options& options;
  const error_middleware& middleware;
  std::atomic<std::size_t>& open_connections;
  request_metrics& metrics;
  /// Set (from any thread) when the server starts draining: every response
  /// from then on carries `Connection: close` (HTTP/2: GOAWAY).
  const std::atomic<bool>& draining;
  /// The gRPC health service's answers; null when it is not offered.
  const grpc_health_source* grpc = nullptr;
  /// Live connections of this worker; only the worker's thread touches it.
  std::list<connection*> connections;
};

}  // namespace badges_health::http
