// What every connection of one worker thread is and shares: the
// `connection` interface the worker drives (deadlines, shutdown, health
// changes), and the worker's context: options, the middleware, the
// registry of live connections, one read buffer, the deadline sweep and
// the clock every deadline is read from.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "badges_health/http/access_log.hpp"
#include "badges_health/http/error_middleware.hpp"
#include "badges_health/http/event_source.hpp"
#include "badges_health/http/grpc_health.hpp"
#include "badges_health/http/request_metrics.hpp"
#include "badges_health/http/server_options.hpp"

namespace badges_health::http {

using connection_hook =
    boost::intrusive::list_base_hook<boost::intrusive::link_mode<boost::intrusive::auto_unlink>>;

/// One live client connection (HTTP/1.1, HTTP/2, a lingering close, a
/// connection whose protocol is not known yet), as its worker sees it.
/// Every call happens on the worker's thread. The registry link costs no
/// allocation and leaves the registry when the connection is destroyed.
class connection : public connection_hook {
 public:
  using clock = std::chrono::steady_clock;
  virtual ~connection() = default;

  /// When the connection's current phase runs out (max: never).
  virtual clock::time_point deadline() const noexcept = 0;
  /// The deadline passed: close (a session may first send what it must).
  virtual void expire() = 0;
  /// The server stopped accepting: finish what is in progress and close.
  virtual void shutdown() = 0;
  /// Health changed: streams that follow it (gRPC Watch) send the news.
  virtual void health_changed() {}
};

/// A connection's place under --max-connections, held from accept to close
/// by whichever object serves the connection at the moment: a session
/// handing its socket to a lingering close hands its slot along.
class connection_slot {
 public:
  connection_slot() noexcept = default;
  explicit connection_slot(std::atomic<std::size_t>& open) noexcept : open_(&open) {}
  connection_slot(connection_slot&& o) noexcept : open_(o.open_) { o.open_ = nullptr; }
  connection_slot& operator=(connection_slot&& o) noexcept {
    if (this != &o) {
      release();
      open_ = o.open_;
      o.open_ = nullptr;
    }
    return *this;
  }
  connection_slot(const connection_slot&) = delete;
  connection_slot& operator=(const connection_slot&) = delete;
  ~connection_slot() { release(); }

 private:
  void release() noexcept {
    if (open_ != nullptr) open_->fetch_sub(1, std::memory_order_relaxed);
    open_ = nullptr;
  }
  std::atomic<std::size_t>* open_ = nullptr;
};

/// Where deadlines are read from: steady_clock in the service, a clock
/// the test moves in the deadline tests.
using now_function = connection::clock::time_point (*)() noexcept;

/// HAProxy's agent words for this instant, without the newline.
using agent_line_source = std::function<std::string()>;

class connection_context {
 public:
  using clock = connection::clock;

  connection_context(boost::asio::io_context& ioc, const server_options& options,
                     const error_middleware& middleware, std::atomic<std::size_t>& open_connections,
                     request_metrics& metrics, const std::atomic<bool>& draining,
                     const grpc_health_source* grpc, now_function now);
  connection_context(const connection_context&) = delete;
  connection_context& operator=(const connection_context&) = delete;

  const server_options& options;
  const error_middleware& middleware;
  /// Counted from accept to close, across every listener and protocol.
  std::atomic<std::size_t>& open_connections;
  request_metrics& metrics;
  /// Set (from any thread) when the server starts draining: every response
  /// from then on carries `Connection: close` (HTTP/2: GOAWAY).
  const std::atomic<bool>& draining;
  /// The gRPC health service's answers; null when it is not offered.
  const grpc_health_source* grpc;
  /// What event streams (GET /status/events) send; null: they send only
  /// their end.
  const event_source* events = nullptr;
  /// The agent port's line; empty when there is no agent port.
  agent_line_source agent_line;
  /// The access log; null when it is off.
  const access_log_sink* access_log = nullptr;

  answer_recorder recorder() noexcept { return {&metrics, access_log}; }

  clock::time_point now() const noexcept { return now_(); }
  now_function clock_source() const noexcept { return now_; }
  boost::asio::io_context& io_context() noexcept { return ioc_; }
  bool is_draining() const noexcept { return draining.load(std::memory_order_relaxed); }

  /// Where every read of this worker lands: a read is handled before the
  /// next one is made, so one buffer serves every connection, and an idle
  /// connection holds none.
  std::vector<char>& read_buffer() noexcept { return read_buffer_; }

  /// Registers a connection; it leaves the registry when destroyed.
  void track(connection& c) noexcept;
  /// A connection's deadline moved to `at`: the sweep wakes no later than
  /// that (rounded up to the sweep's granularity). Cheap when the sweep is
  /// already due earlier, which is the common case.
  void deadline_set(clock::time_point at);

  /// Expires every connection whose deadline is at or before `now`, then
  /// waits for the next deadline. The timer calls it; deadline tests call
  /// it with the time they set.
  void sweep(clock::time_point now);

  template <class F>
  void for_each_connection(F&& f) {
    for (auto it = connections_.begin(); it != connections_.end();) {
      connection& c = *it++;  // f may close c; the registry stays valid past it
      f(c);
    }
  }
  std::size_t connection_count() const noexcept { return connections_.size(); }
  /// When the sweep wakes next (max: it does not; an idle worker).
  clock::time_point next_wake() const noexcept { return armed_; }

  /// Stopping: once no connection is left, `then` runs and the sweep no
  /// longer waits, so the worker's io_context runs out of work.
  void stop_when_empty(std::function<void()> then);
  /// A connection is going away: lets a stopping worker finish.
  void forget(connection& c) noexcept;
  /// The worker is being destroyed: the sweep's timer goes before the
  /// io_context, and connections destroyed with the io_context only leave
  /// the registry.
  void detach() noexcept;

 private:
  void arm(clock::time_point at);
  void stop_if_empty();

  using registry = boost::intrusive::list<connection, boost::intrusive::constant_time_size<false>>;
  registry connections_;
  boost::asio::io_context& ioc_;
  now_function now_;
  std::vector<char> read_buffer_;
  std::optional<boost::asio::steady_timer> timer_;
  clock::duration granularity_;
  clock::time_point armed_ = clock::time_point::max();
  bool stopping_ = false;
  std::function<void()> on_empty_;
};

}  // namespace badges_health::http
