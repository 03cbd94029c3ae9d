// The state of one check over time: the first result decides at once, then
// `fall` consecutive results worse than the current state or `rise`
// consecutive better ones change it; a result older than the stale age
// counts as failing. Pure logic, with time passed in, so tests drive it
// without sleeping.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace badges_health::health {

/// A check's state, and (pass, warn or fail) one result's.
enum class check_status { pending, pass, warn, fail };

std::string_view to_string(check_status s) noexcept;

/// What an attempt measured besides its status, where it has such a value:
/// a disk's free space, a plugin's first performance datum, the days a
/// certificate has left.
struct observation {
  double value = 0;
  /// "bytes", "days", a plugin's unit of measure ("ms", "%", "B"...), or
  /// empty when the plugin gave none.
  std::string unit;
  bool operator==(const observation&) const = default;
};

/// One attempt's outcome, or one report of a ttl check.
struct check_result {
  /// pass, warn or fail.
  check_status status = check_status::fail;
  /// Why (or what it saw when it passed).
  std::string output;
  std::optional<observation> observed = std::nullopt;
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

  /// Records one result. Returns true when the (hysteresis) status changed.
  bool apply(const check_result& r, unsigned rise, unsigned fall, steady_time now,
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
  /// The length of the run of results that made the last change of status.
  unsigned streak() const noexcept { return streak_; }
  std::uint64_t total_failures() const noexcept { return total_failures_; }
  /// Changes of status after the first result (pending to a result is not
  /// one): the counter an alert on flapping reads.
  std::uint64_t total_transitions() const noexcept { return total_transitions_; }
  bool has_result() const noexcept { return status_ != check_status::pending; }
  system_time observed_at() const noexcept { return observed_at_; }
  std::chrono::microseconds duration() const noexcept { return duration_; }
  /// What the most recent result measured, if it measured anything.
  const std::optional<observation>& observed() const noexcept { return observed_; }
  /// Output of the most recent failed attempt.
  const std::string& failure_output() const noexcept { return failure_output_; }
  /// Output of the most recent attempt that warned.
  const std::string& warning_output() const noexcept { return warning_output_; }
  /// Output of the most recent attempt.
  const std::string& last_output() const noexcept { return last_output_; }
  /// Why the check is in its current status: the latest failure's output
  /// while failing, the latest warning's while warning, else the latest.
  const std::string& reason() const noexcept;
  /// The last max_transitions changes of status, oldest first.
  const std::vector<transition>& transitions() const noexcept;

 private:
  check_status status_ = check_status::pending;
  unsigned consecutive_failures_ = 0;
  unsigned consecutive_passes_ = 0;
  // The current run of results worse (or better) than status_, and the
  // state all of them reach: the least bad of a worse run, the worst of a
  // better one. A run long enough moves status_ there.
  unsigned worse_run_ = 0;
  check_status worse_reach_ = check_status::fail;
  unsigned better_run_ = 0;
  check_status better_reach_ = check_status::pass;
  unsigned streak_ = 0;
  std::uint64_t total_failures_ = 0;
  std::uint64_t total_transitions_ = 0;
  steady_time observed_steady_;
  system_time observed_at_{};
  std::chrono::microseconds duration_{0};
  std::optional<observation> observed_;
  std::string failure_output_;
  std::string warning_output_;
  std::string last_output_;
  // Shared between the copies of this state that are published, and
  // replaced only when the status changes: a result that changes nothing
  // copies a pointer, not ten strings.
  std::shared_ptr<const std::vector<transition>> transitions_;
};

}  // namespace badges_health::health
