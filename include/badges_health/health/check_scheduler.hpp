// Runs every check on its own jittered schedule on one io_context, never
// overlapping itself, enforces timeouts, applies hysteresis, and hands each
// result to the health model (which updates that check's cell only). Logs
// one line per change of a check and of the overall status.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <random>
#include <vector>

#include "badges_health/health/check_spec.hpp"
#include "badges_health/health/check_state.hpp"
#include "badges_health/health/health_model.hpp"

namespace badges_health::health {

class check_scheduler {
 public:
  check_scheduler(boost::asio::any_io_executor ex, health_model& model);
  ~check_scheduler();
  check_scheduler(const check_scheduler&) = delete;
  check_scheduler& operator=(const check_scheduler&) = delete;

  /// Starts the given checks, or replaces the running ones: a check whose
  /// spec did not change keeps its state and schedule; others start over.
  /// Must run on the scheduler's executor.
  void apply(const std::vector<check_spec>& specs);

  /// Stops every check.
  void stop();

  std::size_t size() const noexcept { return runners_.size(); }

 private:
  class runner;
  void on_result(runner& r, bool changed, check_status before);
  // Logs a change of the overall status, naming the failing checks.
  void report(status overall, std::chrono::steady_clock::time_point now);
  std::chrono::milliseconds jitter(std::chrono::milliseconds interval);

  boost::asio::any_io_executor ex_;
  health_model& model_;
  std::vector<std::shared_ptr<runner>> runners_;
  std::mt19937_64 rng_;
  status last_overall_ = status::ok;
};

}  // namespace badges_health::health
