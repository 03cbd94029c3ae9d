// Runs every check on its own jittered schedule on one io_context, never
// overlapping itself, enforces timeouts, applies hysteresis, and hands each
// result to the health model (which updates that check's cell only). Logs
// one line per change of a check and of the overall status.
//
// One timer serves every check: the timetable holds each check's next
// attempt or deadline, and a turn of the scheduler starts or times out
// everything that is due, so checks due in the same slot cost one wake-up.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <random>
#include <vector>

#include "badges_health/health/check_spec.hpp"
#include "badges_health/health/check_state.hpp"
#include "badges_health/health/health_model.hpp"
#include "badges_health/util/indexed_heap.hpp"

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
  // Moves a runner's one entry in the timetable to `at`, rounded up to
  // `slot`. The timer follows the earliest entry.
  void reschedule(runner& r, std::chrono::steady_clock::time_point at,
                  std::chrono::milliseconds slot);
  // Starts or times out every check that is due, then sleeps until the next.
  void turn();
  void arm();
  // Logs a change of the overall status, naming the failing checks.
  void report(status overall, std::chrono::steady_clock::time_point now);
  std::chrono::milliseconds jitter(std::chrono::milliseconds interval);

  boost::asio::any_io_executor ex_;
  health_model& model_;
  std::vector<std::shared_ptr<runner>> runners_;
  // Each runner's next attempt or deadline, by its index in runners_.
  util::indexed_heap<std::chrono::steady_clock::time_point> timetable_;
  boost::asio::steady_timer tick_;
  // When tick_ is due (max when not waiting).
  std::chrono::steady_clock::time_point armed_ = std::chrono::steady_clock::time_point::max();
  bool in_turn_ = false;
  // Handlers of tick_ that outlive the scheduler find this expired.
  std::shared_ptr<char> alive_ = std::make_shared<char>();
  std::mt19937_64 rng_;
  status last_overall_ = status::ok;
};

}  // namespace badges_health::health
