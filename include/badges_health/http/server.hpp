// The HTTP server: one io_context per worker thread, each with its own
// listening socket on the port (SO_REUSEPORT), its connections and their
// deadline sweep; worker 0 also serves the HAProxy agent port. The app
// layer drives its lifecycle (start, stop accepting, abort) from its own
// control thread.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "badges_health/http/access_log.hpp"
#include "badges_health/http/endpoint.hpp"
#include "badges_health/http/error_middleware.hpp"
#include "badges_health/http/event_source.hpp"
#include "badges_health/http/grpc_health.hpp"
#include "badges_health/http/request_metrics.hpp"
#include "badges_health/http/server_options.hpp"

namespace badges_health::http {

class server {
 public:
  using clock = std::chrono::steady_clock;
  /// Where every connection deadline is read from (the deadline tests
  /// move their own clock).
  using now_function = clock::time_point (*)() noexcept;
  /// HAProxy's agent words for this instant (`up ready 100%`, `drain`,
  /// `down #reason`), without the newline. Called on a worker thread.
  using agent_line_source = std::function<std::string()>;

  /// `metrics` must have one slot per thread in `options`. `grpc` answers
  /// the gRPC health service on HTTP/2 connections; null leaves its
  /// methods UNIMPLEMENTED. Both must outlive the server. `access_log`
  /// receives every answer (empty: the access log is off).
  server(server_options options, const error_middleware& middleware, metrics_registry& metrics,
         const grpc_health_source* grpc = nullptr, access_log_sink access_log = {},
         now_function now = &clock::now);
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  struct endpoints {
    boost::asio::ip::tcp::endpoint http;
    std::optional<boost::asio::ip::tcp::endpoint> agent;
  };

  /// Binds every worker's listening socket to the configured address, and
  /// the agent port (0: any free one) on the same address when
  /// `agent_port` is set. Throws std::system_error whose message names the
  /// address.
  endpoints bind(std::optional<unsigned short> agent_port = std::nullopt,
                 agent_line_source agent_line = {});

  /// Starts the worker threads. `on_stopped` runs (on a worker thread) once
  /// every worker has finished after stop_accepting() or abort().
  void start(std::function<void()> on_stopped);

  /// The drain begins: from now on every response carries
  /// `Connection: close`, so keep-alive clients move to other instances
  /// while this one still accepts. Thread-safe.
  void begin_drain();

  /// Graceful stop (implies begin_drain): close the listening sockets,
  /// close idle connections, answer in-flight requests with
  /// `Connection: close`. Thread-safe.
  void stop_accepting();

  /// What event streams (GET /status/events) send; must outlive the
  /// server. Set before start().
  void set_event_source(const event_source* events);

  /// Health changed: gRPC Watch streams and event streams send the news. Thread-safe;
  /// cheap enough to call on every change of a check's status.
  void health_changed();

  /// Every worker enforces the deadlines due by now at once, instead of
  /// at its next wake-up (the deadline tests, after moving their clock).
  /// Thread-safe.
  void enforce_deadlines();

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
  access_log_sink access_log_;
  std::vector<std::unique_ptr<worker>> workers_;
};

}  // namespace badges_health::http
