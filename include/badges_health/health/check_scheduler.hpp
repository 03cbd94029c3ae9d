// Runs every check on its own jittered schedule on one executor, never
// overlapping itself, enforces timeouts, applies hysteresis, and hands each
// result to the health model (which updates that check's cell only). Logs
// one line per change of a check and of the overall status. Reports of ttl
// checks come in through report_sink from any thread.
//
// One timer serves every check: the timetable holds each check's next
// attempt, deadline or ttl expiry, and a turn of the scheduler starts or
// times out everything that is due, so checks due in the same slot cost one
// wake-up. The time comes from the context's clock, so tests run it on a
// manual one.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "badges_health/health/check_clock.hpp"
#include "badges_health/health/check_spec.hpp"
#include "badges_health/health/check_state.hpp"
#include "badges_health/health/checker.hpp"
#include "badges_health/health/health_model.hpp"
#include "badges_health/health/report_sink.hpp"
#include "badges_health/util/indexed_heap.hpp"

namespace badges_health::health {

class check_scheduler final : public report_sink {
 public:
  /// Runs on `context.executor`, with `context.clock` (the system clock
  /// when null).
  check_scheduler(checker_context context, health_model& model);
  ~check_scheduler() override;
  check_scheduler(const check_scheduler&) = delete;
  check_scheduler& operator=(const check_scheduler&) = delete;

  /// Starts the given checks, or replaces the running ones: a check whose
  /// spec did not change keeps its state, schedule and checker (which
  /// reloads what it loaded once, a CA store); others start over. Must run
  /// on the scheduler's executor.
  void apply(const std::vector<check_spec>& specs);

  /// Stops every check.
  void stop();

  std::size_t size() const noexcept { return runners_.size(); }

  report_outcome submit(std::string_view name, check_result result) override;

 private:
  class runner;
  using time_point = check_clock::time_point;

  void on_result(runner& r, bool changed, check_status before);
  // Moves a runner's one entry in the timetable to `at`, rounded up to
  // `slot`. The timer follows the earliest entry.
  void reschedule(runner& r, time_point at, std::chrono::milliseconds slot);
  // Starts or times out every check that is due, then sleeps until the next.
  void turn();
  void arm();
  // Logs a change of the overall status, naming the checks behind it.
  void report(status overall, time_point now);
  std::chrono::milliseconds jitter(std::chrono::milliseconds interval);
  // A report handed over by submit(), on the executor.
  void deliver(const std::string& name, check_result result);

  checker_context context_;
  const check_clock& clock_;
  health_model& model_;
  std::vector<std::shared_ptr<runner>> runners_;
  // The runners that take reports, by check name.
  std::unordered_map<std::string, runner*> reported_;
  // Each runner's next attempt or deadline, by its index in runners_.
  util::indexed_heap<time_point> timetable_;
  std::unique_ptr<check_clock::timer> tick_;
  // When tick_ is due (max when not waiting).
  time_point armed_ = time_point::max();
  bool in_turn_ = false;
  // Handlers that outlive the scheduler find this expired.
  std::shared_ptr<char> alive_ = std::make_shared<char>();
  std::mt19937_64 rng_;
  status last_overall_ = status::ok;

  // For submit(), from any thread: whether each check takes reports.
  std::mutex names_mutex_;
  std::map<std::string, bool, std::less<>> takes_reports_;
};

}  // namespace badges_health::health
