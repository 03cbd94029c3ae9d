// The vocabulary of health: the three overall states and the summary that
// request handlers read. This is the narrow interface between the HTTP side
// and whatever keeps health up to date.
#pragma once

#include <memory>
#include <string_view>

namespace badges_health::health {

struct health_snapshot;
struct maintenance_window;

/// Overall state of the service, as the spec's `status` enum spells it.
enum class status { ok, degraded, down };

/// The spec's spelling: "ok", "degraded" or "down".
std::string_view to_string(status s) noexcept;

/// What a probe needs to know, read without locks or I/O.
struct summary {
  status overall = status::ok;
  /// Every check has produced a first result and the service is not draining.
  bool ready = true;
  bool draining = false;
  /// An operator has put the service in maintenance (PUT /maintenance):
  /// overall is then down and it is not ready.
  bool maintenance = false;

  /// What /readyz answers: every check has a first result, the service is
  /// not draining nor in maintenance, and it is not down.
  bool readiness() const noexcept {
    return ready && !draining && !maintenance && overall != status::down;
  }
};

/// Source of the current summary. Implementations must make `current()`
/// cheap (no I/O, no lock a background task can hold for long).
class status_source {
 public:
  virtual ~status_source() = default;
  virtual summary current() const noexcept = 0;
  /// Per-check details for verbose output and metrics; null when the
  /// source has none.
  virtual std::shared_ptr<const health_snapshot> details() const noexcept { return nullptr; }
  /// The maintenance window in force, or null (off the hot path: verbose
  /// output, the agent's words, metrics).
  virtual std::shared_ptr<const maintenance_window> maintenance() const noexcept { return nullptr; }
};

}  // namespace badges_health::health
