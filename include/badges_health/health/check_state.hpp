// The state of one check over time: the first result decides at once, then
// `fall` consecutive failures or `rise` consecutive passes change it; a
// result older than the stale age counts as failing. Pure logic, with time
// passed in, so tests drive it without sleeping.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace badges_health::health {

enum class check_status { pending, pass, fail };

std::string_view to_string(check_status s) noexcept;

/// One attempt's outcome.
struct probe_result {
  bool pass = false;
  /// Why it failed (or what it saw when it passed).
  std::string output;
};

/// One change of a check's status, as operators read it to see flapping.
struct transition {
  std::chrono::system_clock::time_point at;
  check_status from;
  check_status to;
  /// The output of the attempt that made the change.
  std::string reason;
};

class check_state {
 public:
  /// Transitions kept per check.
  static constexpr std::size_t max_transitions = 10;

  using steady_time = std::chrono::steady_clock::time_point;
  using system_time = std::chrono::system_clock::time_point;

  /// A pending check created at `created` (the reference for staleness
  /// until its first result).
  explicit check_state(steady_time created = steady_time{}) noexcept : observed_steady_(created) {}

  /// Records one attempt. Returns true when the (hysteresis) status changed.
  bool apply(const probe_result& r, unsigned rise, unsigned fall, steady_time now,
             system_time wall_now, std::chrono::microseconds duration);

  /// Status with hysteresis, not counting staleness.
  check_status status() const noexcept { return status_; }
  /// Status as requests should see it at `now`: failing when the last
  /// result (or the creation, while pending) is older than `stale_after`.
  check_status effective(steady_time now, std::chrono::milliseconds stale_after) const noexcept;
  bool stale(steady_time now, std::chrono::milliseconds stale_after) const noexcept;
  /// When the current result stops counting.
  steady_time stale_at(std::chrono::milliseconds stale_after) const noexcept {
    return observed_steady_ + stale_after;
  }

  unsigned consecutive_failures() const noexcept { return consecutive_failures_; }
  unsigned consecutive_passes() const noexcept { return consecutive_passes_; }
  std::uint64_t total_failures() const noexcept { return total_failures_; }
  bool has_result() const noexcept { return status_ != check_status::pending; }
  system_time observed_at() const noexcept { return observed_at_; }
  std::chrono::microseconds duration() const noexcept { return duration_; }
  /// Output of the most recent failed attempt.
  const std::string& failure_output() const noexcept { return failure_output_; }
  /// Output of the most recent attempt.
  const std::string& last_output() const noexcept { return last_output_; }
  /// The last max_transitions changes of status, oldest first.
  const std::vector<transition>& transitions() const noexcept;

 private:
  check_status status_ = check_status::pending;
  unsigned consecutive_failures_ = 0;
  unsigned consecutive_passes_ = 0;
  std::uint64_t total_failures_ = 0;
  steady_time observed_steady_;
  system_time observed_at_{};
  std::chrono::microseconds duration_{0};
  std::string failure_output_;
  std::string last_output_;
  // Shared between the copies of this state that are published, and
  // replaced only when the status changes: a result that changes nothing
  // copies a pointer, not ten strings.
  std::shared_ptr<const std::vector<transition>> transitions_;
};

}  // namespace badges_health::health
