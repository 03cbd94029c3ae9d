// The maintenance switch: opens a window in the health model for a given
// time, replaces or ends it on request, and ends it by itself at its
// expiry with a timer on the control io_context. Logs every change.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "badges_health/health/health_model.hpp"
#include "badges_health/health/maintenance.hpp"

namespace badges_health::app {

class maintenance_switch {
 public:
  /// The expiry timer runs on `control`; `model` must outlive the switch.
  maintenance_switch(health::health_model& model, boost::asio::any_io_executor control);
  maintenance_switch(const maintenance_switch&) = delete;
  maintenance_switch& operator=(const maintenance_switch&) = delete;

  /// Puts the service in maintenance from now for `length`, replacing any
  /// window in force. Any thread; in force when it returns.
  std::shared_ptr<const health::maintenance_window> start(std::string reason,
                                                          std::chrono::milliseconds length);

  /// Ends the window in force at once; the one ended, or null when there
  /// was none. Any thread.
  std::shared_ptr<const health::maintenance_window> end();

  /// The window in force, or null.
  std::shared_ptr<const health::maintenance_window> current() const { return model_.maintenance(); }

 private:
  void arm();
  void expire(const std::shared_ptr<const health::maintenance_window>& window);

  health::health_model& model_;
  boost::asio::any_io_executor control_;
  // Touched only on the control executor.
  boost::asio::steady_timer timer_;
  // Orders start, end and expiry, so that an expiry never ends a window
  // that replaced the one it was armed for.
  std::mutex mutex_;
};

}  // namespace badges_health::app
