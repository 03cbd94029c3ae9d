// An immutable picture of every check, published by the scheduler and read
// by requests; plus the aggregation rules that turn it into a summary.
#pragma once

#include <chrono>
#include <memory>
#include <string>
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

/// Why check `c` is, at `now`, in the status it is: that no result counts
/// (too old, or none since the check started) when it is stale, else its
/// state's reason (the latest failure while failing, warning while warning).
std::string effective_reason(const check_snapshot& c, std::chrono::steady_clock::time_point now);

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

/// The summary a request that leaves some checks out is answered: the
/// aggregate, at the instant `snap` describes, of the checks whose flag in
/// `skip` (one per check of `snap`, in order) is false; what `live` (the
/// model's summary) says beyond the checks, draining, still holds.
summary aggregate_without(const health_snapshot& snap, const std::vector<bool>& skip,
                          const summary& live);

/// Builds a snapshot with its aggregate and freshness horizon.
std::shared_ptr<const health_snapshot> make_snapshot(std::vector<check_snapshot> checks,
                                                     std::chrono::steady_clock::time_point now);

}  // namespace badges_health::health
