// Aggregation of check states into ok / degraded / down.
#include "badges_health/health/health_snapshot.hpp"

#include <algorithm>

#include "badges_health/util/duration.hpp"

namespace badges_health::health {

std::string effective_reason(const check_snapshot& c, std::chrono::steady_clock::time_point now) {
  const auto& st = c.state;
  const auto stale_after = c.spec->stale_after();
  if (st.stale(now, stale_after)) {
    return "no result for more than " + util::format_duration(stale_after) +
           (st.has_result() ? " (stale)" : " since the check started");
  }
  return st.reason();
}

void aggregator::add(const check_snapshot& c) noexcept {
  if (!c.state.has_result()) ready_ = false;
  const check_status s = c.state.effective(now_, c.spec->stale_after());
  if (s == check_status::warn) warning_ = true;
  if (s != check_status::fail) return;
  (c.spec->critical ? critical_failing_ : optional_failing_) = true;
}

summary aggregator::result() const noexcept {
  summary s;
  s.ready = ready_;
  s.overall = critical_failing_               ? status::down
              : optional_failing_ || warning_ ? status::degraded
                                              : status::ok;
  return s;
}

summary aggregate(const std::vector<check_snapshot>& checks,
                  std::chrono::steady_clock::time_point now) {
  aggregator a(now);
  for (const auto& c : checks) a.add(c);
  return a.result();
}

summary aggregate_without(const health_snapshot& snap, const std::vector<bool>& skip,
                          const summary& live) {
  aggregator a(snap.taken_at);
  for (std::size_t i = 0; i < snap.checks.size(); ++i) {
    if (i >= skip.size() || !skip[i]) a.add(snap.checks[i]);
  }
  summary s = a.result();
  // Draining and maintenance win over any check, as in
  // health_model::current: no exclusion takes them away.
  if (live.draining || live.maintenance) {
    s.draining = live.draining;
    s.maintenance = live.maintenance;
    s.overall = status::down;
    s.ready = false;
  }
  return s;
}

std::shared_ptr<const health_snapshot> make_snapshot(std::vector<check_snapshot> checks,
                                                     std::chrono::steady_clock::time_point now) {
  auto snap = std::make_shared<health_snapshot>();
  snap->checks = std::move(checks);
  snap->taken_at = now;
  snap->base = aggregate(snap->checks, now);
  for (const auto& c : snap->checks) {
    snap->fresh_until = std::min(snap->fresh_until, c.state.stale_at(c.spec->stale_after()));
  }
  return snap;
}

}  // namespace badges_health::health
