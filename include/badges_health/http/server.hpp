// The HTTP server: one io_context and one acceptor per worker thread, all
// on the same port. Owns the workers; the app layer drives its lifecycle
// (start, stop accepting, abort) from its own control thread.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <vector>

#include "badges_health/http/error_middleware.hpp"
#include "badges_health/http/grpc_health.hpp"
#include "badges_health/http/request_metrics.hpp"
#include "badges_health/http/server_options.hpp"

namespace badges_health::http {

class server {
 public:
  /// `metrics` must have one slot per thread in `options`. `grpc` answers
  /// the gRPC health service on HTTP/2 connections; null leaves its
  /// methods UNIMPLEMENTED. Both must outlive the server.
  server(server_options options, const error_middleware& middleware, metrics_registry& metrics,
         const grpc_health_source* grpc = nullptr);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Binds every worker's acceptor to the configured address. Throws
  /// std::system_error whose message names the address.
  boost::asio::ip::tcp::endpoint bind();

  /// Starts the worker threads. `on_stopped` runs (on a worker thread) once
  /// every worker has finished after stop_accepting() or abort().
  void start(std::function<void()> on_stopped);

  /// The drain begins: from now on every response carries
  /// `Connection: close`, so keep-alive clients move to other instances
  /// while this one still accepts. Thread-safe.
  void begin_drain();

  /// Graceful stop (implies begin_drain): close the acceptors, close idle connections, answer
  /// in-flight requests with `Connection: close`. Thread-safe.
  void stop_accepting();

  /// Health changed: gRPC Watch streams send the new status. Thread-safe;
  /// cheap enough to call on every change of a check's status.
  void health_changed();

  /// Hard stop: abandon whatever is still open. Thread-safe.
  void abort();

  /// Waits for the worker threads.
  void join();

  std::size_t open_connections() const noexcept {
    return metrics_.open_connections.load(std::memory_order_relaxed);
  }

 private:
  struct worker;

  server_options options_;
  const error_middleware& middleware_;
  metrics_registry& metrics_;
  std::atomic<std::size_t> running_workers_{0};
  std::atomic<bool> draining_{false};
  std::function<void()> on_stopped_;
  std::vector<std::unique_ptr<worker>> workers_;
};

/// Parses a host flag value ("0.0.0.0", "::1", "[::1]", "localhost").
/// Throws std::system_error when it is neither an address nor resolvable.
boost::asio::ip::address resolve_host(const std::string& host);

/// "127.0.0.1:8080" or "[::1]:8080".
std::string format_endpoint(const boost::asio::ip::tcp::endpoint& ep);

}  // namespace badges_health::http
