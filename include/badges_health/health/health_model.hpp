// The service's health model: the latest published snapshot of the checks
// plus the draining flag, combined into one summary that requests read
// without taking any lock a check holds and without I/O.
#pragma once

#include <atomic>
#include <memory>

#include "badges_health/health/health_snapshot.hpp"
#include "badges_health/health/status.hpp"

namespace badges_health::health {

class health_model final : public status_source {
 public:
  health_model();

  /// The summary at this instant: the published aggregate while no result
  /// has gone stale (one clock read), recomputed from the snapshot after.
  summary current() const noexcept override;

  /// Replaces the published snapshot (called by the scheduler).
  void publish(std::shared_ptr<const health_snapshot> snapshot) noexcept;
  /// The latest snapshot, for verbose output and metrics.
  std::shared_ptr<const health_snapshot> details() const noexcept override;

  /// Marks the service as draining: from now on it reports `down`.
  void set_draining() noexcept;
  bool draining() const noexcept;

 private:
  std::atomic<std::shared_ptr<const health_snapshot>> snapshot_;
  std::atomic<bool> draining_{false};
};

}  // namespace badges_health::health
