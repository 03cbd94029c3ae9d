// Reading the published snapshot and applying the draining flag.
#include "badges_health/health/health_model.hpp"

namespace badges_health::health {

health_model::health_model() : snapshot_(make_snapshot({}, std::chrono::steady_clock::now())) {}

summary health_model::current() const noexcept {
  const auto snap = snapshot_.load(std::memory_order_acquire);
  summary s = snap->base;
  if (!snap->checks.empty()) {
    const auto now = std::chrono::steady_clock::now();
    if (now > snap->fresh_until) s = aggregate(snap->checks, now);
  }
  if (draining_.load(std::memory_order_acquire)) {
    s.draining = true;
    s.overall = status::down;
    s.ready = false;
  }
  return s;
}

void health_model::publish(std::shared_ptr<const health_snapshot> snapshot) noexcept {
  snapshot_.store(std::move(snapshot), std::memory_order_release);
}

std::shared_ptr<const health_snapshot> health_model::details() const noexcept {
  return snapshot_.load(std::memory_order_acquire);
}

void health_model::set_draining() noexcept { draining_.store(true, std::memory_order_release); }

bool health_model::draining() const noexcept { return draining_.load(std::memory_order_acquire); }

}  // namespace badges_health::health
