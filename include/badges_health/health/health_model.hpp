// The service's health model: the latest published snapshot of the checks
// plus the draining flag, combined into one summary that requests read
// without taking any lock a check holds and without I/O.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

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
  // Publication: the snapshot is swapped under a mutex that requests never
  // take on the fast path. Each thread keeps its own reference to the last
  // snapshot it saw and compares one atomic version number per read; only
  // after a publish does it take the mutex once to copy the new pointer.
  // (libstdc++ 12's std::atomic<std::shared_ptr> releases its internal lock
  // with memory_order_relaxed after a load, which ThreadSanitizer rightly
  // reports as a race with the next store; it also costs a locked
  // read-modify-write and a reference count round trip per request.)
  const health_snapshot& local_snapshot() const noexcept;

  mutable std::mutex mutex_;
  std::shared_ptr<const health_snapshot> snapshot_;  // guarded by mutex_
  std::atomic<std::uint64_t> version_;
  std::atomic<bool> draining_{false};
};

}  // namespace badges_health::health
