// Aggregation of the draining flag into the published summary.
#include "badges_health/health/health_model.hpp"

namespace badges_health::health {

summary health_model::current() const noexcept {
  const bool draining = draining_.load(std::memory_order_acquire);
  summary s;
  s.draining = draining;
  s.overall = draining ? status::down : status::ok;
  s.ready = !draining;
  return s;
}

void health_model::set_draining() noexcept { draining_.store(true, std::memory_order_release); }

bool health_model::draining() const noexcept { return draining_.load(std::memory_order_acquire); }

}  // namespace badges_health::health
