// The service's health model: one cell per check holding its latest result,
// the aggregate of all of them in one atomic word, and the draining and
// maintenance flags. Requests read it without locks, waits or I/O; a
// result is published in time independent of the number of checks.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "badges_health/health/check_clock.hpp"
#include "badges_health/health/deferred_reclaimer.hpp"
#include "badges_health/health/health_snapshot.hpp"
#include "badges_health/health/maintenance.hpp"
#include "badges_health/health/status.hpp"

namespace badges_health::health {

class health_model final : public status_source {
 public:
  /// Staleness is judged by `clock`, which must outlive the model.
  explicit health_model(const check_clock& clock = system_clock());
  ~health_model() override;
  health_model(const health_model&) = delete;
  health_model& operator=(const health_model&) = delete;

  /// The summary at this instant: the published aggregate while no result
  /// has gone stale (one atomic load, one clock read), recomputed from the
  /// checks' cells after.
  summary current() const noexcept override;

  /// A snapshot of every check's latest result, with its aggregate; built
  /// per call (verbose output and metrics).
  std::shared_ptr<const health_snapshot> details() const noexcept override;

  // Writer side: one thread at a time (the scheduler's), never a request.

  /// Replaces the whole set of checks (start-up and reload); `snapshot`'s
  /// `base` and `fresh_until` are published as they are. O(checks).
  void publish(std::shared_ptr<const health_snapshot> snapshot);

  /// Records the new state of check `index` (its position in the last
  /// snapshot published) and returns the aggregate as of now, staleness
  /// included. O(log checks), in practice constant.
  summary update(std::size_t index, const check_state& state);

  /// Called after every change a reader could see: a check's status, the
  /// set of checks, draining, maintenance. Not called for results that
  /// change nothing (most of them). Runs on the thread that made the
  /// change (the writer's, the one that sets draining, or a request
  /// worker that sets maintenance), never two calls at once; set it
  /// before the first publication.
  void on_change(std::function<void()> listener);

  /// Marks the service as draining: from now on it reports `down`.
  void set_draining() noexcept;
  bool draining() const noexcept;

  /// Puts the service in maintenance (`window` not null: it reports `down`
  /// and not ready until the window is replaced or cleared) or ends it
  /// (null). Any thread; readers see it as soon as this returns. Returns
  /// the window it replaced (null when there was none). The model does
  /// not end a window at its `until`: whoever sets it does.
  std::shared_ptr<const maintenance_window> set_maintenance(
      std::shared_ptr<const maintenance_window> window);
  std::shared_ptr<const maintenance_window> maintenance() const noexcept override;

 private:
  struct check_table;
  struct writer;

  summary aggregate_cells(check_clock::time_point now) const noexcept;
  void store_summary(summary s, check_clock::time_point fresh_until) noexcept;
  void notify() noexcept;

  const check_clock& clock_;
  // The aggregate without staleness, packed with the moment it stops
  // holding (the first result to go stale), so that a reader gets both from
  // one load and never a pair from two different publications.
  std::atomic<std::uint64_t> summary_word_;
  // Draining and maintenance, one bit each: a probe reads both in one load.
  std::atomic<std::uint8_t> flags_{0};
  // The maintenance window itself, read off the hot path; set rarely.
  mutable std::mutex maintenance_mutex_;
  std::shared_ptr<const maintenance_window> maintenance_;
  // Calls to the listener come from more than one thread; one at a time.
  std::mutex listener_mutex_;
  // One atomic pointer per check to its latest immutable record; replaced
  // as a whole on reload. Old tables and records are freed by `reclaimer_`
  // once no reader can hold them.
  std::atomic<const check_table*> table_{nullptr};
  deferred_reclaimer reclaimer_;
  std::unique_ptr<writer> writer_;
  std::function<void()> on_change_;
};

}  // namespace badges_health::health
