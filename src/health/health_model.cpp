// Reading the published snapshot and applying the draining flag.
#include "badges_health/health/health_model.hpp"

#include <utility>

namespace badges_health::health {

namespace {

// Versions are unique across every model in the process, so a thread's
// cached reference can never be mistaken for another model's.
std::atomic<std::uint64_t> next_version{1};

struct thread_cache {
  const void* owner = nullptr;
  std::uint64_t version = 0;
  std::shared_ptr<const health_snapshot> snapshot;
};

thread_local thread_cache cache;

}  // namespace

health_model::health_model()
    : snapshot_(make_snapshot({}, std::chrono::steady_clock::now())),
      version_(next_version.fetch_add(1, std::memory_order_relaxed)) {}

const health_snapshot& health_model::local_snapshot() const noexcept {
  const std::uint64_t version = version_.load(std::memory_order_acquire);
  if (cache.owner != this || cache.version != version) {
    const std::lock_guard lock(mutex_);
    cache.owner = this;
    cache.version = version_.load(std::memory_order_relaxed);
    cache.snapshot = snapshot_;
  }
  return *cache.snapshot;
}

summary health_model::current() const noexcept {
  const health_snapshot& snap = local_snapshot();
  summary s = snap.base;
  if (!snap.checks.empty()) {
    const auto now = std::chrono::steady_clock::now();
    if (now > snap.fresh_until) s = aggregate(snap.checks, now);
  }
  if (draining_.load(std::memory_order_acquire)) {
    s.draining = true;
    s.overall = status::down;
    s.ready = false;
  }
  return s;
}

void health_model::publish(std::shared_ptr<const health_snapshot> snapshot) noexcept {
  std::shared_ptr<const health_snapshot> previous;
  {
    const std::lock_guard lock(mutex_);
    previous = std::exchange(snapshot_, std::move(snapshot));
    version_.store(next_version.fetch_add(1, std::memory_order_relaxed), std::memory_order_release);
  }
  // `previous` is released here, outside the lock.
}

std::shared_ptr<const health_snapshot> health_model::details() const noexcept {
  const std::lock_guard lock(mutex_);
  return snapshot_;
}

void health_model::set_draining() noexcept { draining_.store(true, std::memory_order_release); }

bool health_model::draining() const noexcept { return draining_.load(std::memory_order_acquire); }

}  // namespace badges_health::health
