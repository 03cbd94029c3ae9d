// Wiring and lifecycle: builds the health model, routes and server from
// the configuration, then runs until a signal stops it. Signals, timers
// (and later the check scheduler) live on a control io_context on the
// main thread, apart from the request workers.
#pragma once

#include "badges_health/app/config.hpp"

namespace badges_health::app {

class application {
 public:
  explicit application(config cfg) : cfg_(std::move(cfg)) {}

  /// Serves until SIGTERM or SIGINT has drained the server. Returns the
  /// process exit code (0 after a clean stop, 1 when it cannot listen).
  int run();

 private:
  config cfg_;
};

}  // namespace badges_health::app
