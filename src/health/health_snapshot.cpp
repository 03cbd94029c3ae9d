// Aggregation of check states into ok / degraded / down.
#include "badges_health/health/health_snapshot.hpp"

#include <algorithm>

namespace badges_health::health {

summary aggregate(const std::vector<check_snapshot>& checks,
                  std::chrono::steady_clock::time_point now) {
  summary s;
  bool critical_failing = false;
  bool optional_failing = false;
  for (const auto& c : checks) {
    if (!c.state.has_result()) s.ready = false;
    if (c.state.effective(now, c.spec->stale_after()) != check_status::fail) continue;
    (c.spec->critical ? critical_failing : optional_failing) = true;
  }
  s.overall = critical_failing ? status::down : optional_failing ? status::degraded : status::ok;
  return s;
}

std::shared_ptr<const health_snapshot> make_snapshot(std::vector<check_snapshot> checks,
                                                     std::chrono::steady_clock::time_point now) {
  auto snap = std::make_shared<health_snapshot>();
  snap->checks = std::move(checks);
  snap->base = aggregate(snap->checks, now);
  for (const auto& c : snap->checks) {
    snap->fresh_until = std::min(snap->fresh_until, c.state.stale_at(c.spec->stale_after()));
  }
  return snap;
}

}  // namespace badges_health::health
