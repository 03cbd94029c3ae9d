// The service's health model: combines the draining flag with the state of
// dependency checks into one summary that handlers read lock-free.
#pragma once

#include <atomic>

#include "badges_health/health/status.hpp"

namespace badges_health::health {

/// Holds the published health state. Writers (the lifecycle, later the check
/// scheduler) update atomics; readers never block.
class health_model final : public status_source {
 public:
  summary current() const noexcept override;

  /// Marks the service as draining: from now on it reports `down`.
  void set_draining() noexcept;
  bool draining() const noexcept;

 private:
  std::atomic<bool> draining_{false};
};

}  // namespace badges_health::health
