// An immutable picture of every check, published by the scheduler and read
// by requests; plus the aggregation rules that turn it into a summary.
#pragma once

#include <chrono>
#include <memory>
#include <vector>

#include "badges_health/health/check_spec.hpp"
#include "badges_health/health/check_state.hpp"
#include "badges_health/health/status.hpp"

namespace badges_health::health {

struct check_snapshot {
  std::shared_ptr<const check_spec> spec;
  check_state state;
};

struct health_snapshot {
  std::vector<check_snapshot> checks;
  /// The instant the snapshot describes (the health model's clock):
  /// whoever reads it judges staleness at this time.
  std::chrono::steady_clock::time_point taken_at{};
  /// The aggregate computed at publication (draining not included).
  summary base;
  /// Until when `base` holds: the first moment a result goes stale.
  std::chrono::steady_clock::time_point fresh_until = std::chrono::steady_clock::time_point::max();
};

/// down if any critical check is failing (or stale); else degraded if any
/// non-critical one is failing or any check warns; else ok. Ready when every check has a first
/// result. Draining is applied by the health model, not here.
class aggregator {
 public:
  explicit aggregator(std::chrono::steady_clock::time_point now) noexcept : now_(now) {}
  void add(const check_snapshot& c) noexcept;
  summary result() const noexcept;

 private:
  std::chrono::steady_clock::time_point now_;
  bool ready_ = true;
  bool critical_failing_ = false;
  bool optional_failing_ = false;
  bool warning_ = false;
};

/// The aggregator's answer for a whole list.
summary aggregate(const std::vector<check_snapshot>& checks,
                  std::chrono::steady_clock::time_point now);

/// Builds a snapshot with its aggregate and freshness horizon.
std::shared_ptr<const health_snapshot> make_snapshot(std::vector<check_snapshot> checks,
                                                     std::chrono::steady_clock::time_point now);

}  // namespace badges_health::health
