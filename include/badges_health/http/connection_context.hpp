// What the sessions of one worker thread share: options, the middleware,
// the registry of live sessions (touched only on that thread) and the
// process-wide connection counter.
#pragma once

#include <array>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <list>

#include "badges_health/http/error_middleware.hpp"
#include "badges_health/http/request_metrics.hpp"
#include "badges_health/http/server_options.hpp"

namespace badges_health::http {

class readiness_poller;
class session;

struct connection_context {
  const server_options& options;
  const error_middleware& middleware;
  std::atomic<std::size_t>& open_connections;
  request_metrics& metrics;
  /// The worker's io_context (one thread) and the poller its sockets are
  /// registered with; set by the worker once both exist.
  boost::asio::io_context* io = nullptr;
  readiness_poller* poller = nullptr;
  /// Live sessions of this worker; only the worker's thread touches it.
  std::list<session*> sessions;
  /// Where this worker's sessions read into; bytes that do not complete a
  /// request are copied out to the session, so no connection holds a
  /// buffer while it waits.
  std::array<char, 16 * 1024> read_buffer{};
};

}  // namespace badges_health::http
