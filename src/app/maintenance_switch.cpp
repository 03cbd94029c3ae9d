// Opening, replacing and ending maintenance windows; the expiry timer.
#include "badges_health/app/maintenance_switch.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "badges_health/util/duration.hpp"
#include "badges_health/util/timestamp.hpp"

namespace badges_health::app {

namespace {

using std::chrono::milliseconds;

milliseconds rounded_to_ms(std::chrono::steady_clock::duration d) {
  return std::chrono::round<milliseconds>(d < d.zero() ? d.zero() : d);
}

}  // namespace

maintenance_switch::maintenance_switch(health::health_model& model,
                                       boost::asio::any_io_executor control)
    : model_(model), control_(std::move(control)), timer_(control_) {}

std::shared_ptr<const health::maintenance_window> maintenance_switch::start(std::string reason,
                                                                            milliseconds length) {
  const auto now = std::chrono::system_clock::now();
  auto window = std::make_shared<const health::maintenance_window>(health::maintenance_window{
      std::move(reason), now, now + length, std::chrono::steady_clock::now() + length});
  {
    const std::lock_guard lock(mutex_);
    const auto previous = model_.set_maintenance(window);
    spdlog::info("maintenance {}: /status reports down until {} ({}): {}",
                 previous ? "replaced" : "started", util::format_iso8601(window->until),
                 util::format_duration(length), window->reason);
  }
  // The timer is the control thread's; it reads the window in force there.
  boost::asio::post(control_, [this] { arm(); });
  return window;
}

std::shared_ptr<const health::maintenance_window> maintenance_switch::end() {
  std::shared_ptr<const health::maintenance_window> ended;
  {
    const std::lock_guard lock(mutex_);
    ended = model_.set_maintenance(nullptr);
    if (!ended) return nullptr;
    spdlog::info(
        "maintenance ended: cleared {} before its end ({})",
        util::format_duration(rounded_to_ms(ended->ends - std::chrono::steady_clock::now())),
        ended->reason);
  }
  boost::asio::post(control_, [this] { arm(); });
  return ended;
}

void maintenance_switch::arm() {
  auto window = model_.maintenance();
  if (!window) {
    timer_.cancel();
    return;
  }
  // Re-arming cancels the wait for a window since replaced.
  timer_.expires_at(window->ends);
  timer_.async_wait([this, window](boost::system::error_code ec) {
    if (!ec) expire(window);
  });
}

void maintenance_switch::expire(const std::shared_ptr<const health::maintenance_window>& window) {
  const std::lock_guard lock(mutex_);
  // Replaced or ended since the timer was armed: that change re-arms.
  if (model_.maintenance() != window) return;
  model_.set_maintenance(nullptr);
  spdlog::info("maintenance ended: expired at {} ({})", util::format_iso8601(window->until),
               window->reason);
}

}  // namespace badges_health::app
