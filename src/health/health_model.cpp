// Per-check cells, the packed aggregate, and the read paths of the model.
#include "badges_health/health/health_model.hpp"

#include "badges_health/util/indexed_heap.hpp"

#include <utility>
#include <vector>

namespace badges_health::health {

namespace {

using time_point = check_clock::time_point;

// The summary word: bits 3.. the end of freshness in steady-clock
// nanoseconds (2^61 ns is 73 years of uptime), bits 1-2 the overall
// status, bit 0 ready.
constexpr std::uint64_t never = (std::uint64_t{1} << 61) - 1;

std::uint64_t pack(summary s, time_point fresh_until) noexcept {
  std::uint64_t until = never;
  if (fresh_until != time_point::max()) {
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(fresh_until.time_since_epoch())
            .count();
    until = ns <= 0 ? 0 : std::min(static_cast<std::uint64_t>(ns), never - 1);
  }
  return until << 3 | static_cast<std::uint64_t>(s.overall) << 1 | (s.ready ? 1U : 0U);
}

summary unpack_summary(std::uint64_t word) noexcept {
  summary s;
  s.overall = static_cast<status>((word >> 1) & 3U);
  s.ready = (word & 1U) != 0;
  return s;
}

std::uint64_t unpack_until(std::uint64_t word) noexcept { return word >> 3; }

constexpr std::uint8_t draining_bit = 1;
constexpr std::uint8_t maintenance_bit = 2;

}  // namespace

struct health_model::check_table {
  explicit check_table(std::size_t n) : cells(n) {}
  std::vector<std::atomic<const check_snapshot*>> cells;
};

// What only the writer touches: the owners of the records, and the
// counts and stale times from which the aggregate follows without a scan.
struct health_model::writer {
  std::shared_ptr<check_table> table;
  std::vector<std::shared_ptr<const check_snapshot>> records;
  // When each check's result goes stale, by index: the first one is the
  // end of freshness.
  util::indexed_heap<time_point> stale_times;
  std::size_t pending = 0;
  std::size_t critical_failing = 0;
  std::size_t optional_failing = 0;
  std::size_t warning = 0;

  std::size_t* counter(const check_snapshot& c) noexcept {
    switch (c.state.status()) {
      case check_status::pending:
        return &pending;
      case check_status::fail:
        return c.spec->critical ? &critical_failing : &optional_failing;
      case check_status::warn:
        return &warning;
      case check_status::pass:
        break;
    }
    return nullptr;
  }
  void count(const check_snapshot& c) noexcept {
    if (auto* n = counter(c)) ++*n;
  }
  void uncount(const check_snapshot& c) noexcept {
    if (auto* n = counter(c)) --*n;
  }

  // The aggregate while no result is stale.
  summary base() const noexcept {
    summary s;
    s.ready = pending == 0;
    s.overall = critical_failing > 0                  ? status::down
                : optional_failing > 0 || warning > 0 ? status::degraded
                                                      : status::ok;
    return s;
  }
  time_point fresh_until() const noexcept {
    return stale_times.empty() ? time_point::max() : stale_times.top_key();
  }
};

health_model::health_model(const check_clock& clock)
    : clock_(clock),
      summary_word_(pack(summary{}, time_point::max())),
      writer_(std::make_unique<writer>()) {
  writer_->table = std::make_shared<check_table>(0);
  table_.store(writer_->table.get());
}

health_model::~health_model() = default;

summary health_model::current() const noexcept {
  const std::uint64_t word = summary_word_.load(std::memory_order_acquire);
  summary s = unpack_summary(word);
  if (unpack_until(word) != never) {
    const auto now = clock_.now();
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch());
    if (ns.count() < 0 || static_cast<std::uint64_t>(ns.count()) > unpack_until(word)) {
      s = aggregate_cells(now);
    }
  }
  if (const std::uint8_t flags = flags_.load(std::memory_order_acquire); flags != 0) {
    s.draining = (flags & draining_bit) != 0;
    s.maintenance = (flags & maintenance_bit) != 0;
    s.overall = status::down;
    s.ready = false;
  }
  return s;
}

summary health_model::aggregate_cells(time_point now) const noexcept {
  const deferred_reclaimer::read_guard guard(reclaimer_);
  aggregator a(now);
  for (const auto& cell : table_.load()->cells) a.add(*cell.load());
  return a.result();
}

std::shared_ptr<const health_snapshot> health_model::details() const noexcept {
  try {
    const auto now = clock_.now();
    std::vector<check_snapshot> checks;
    {
      const deferred_reclaimer::read_guard guard(reclaimer_);
      const check_table* table = table_.load();
      checks.reserve(table->cells.size());
      for (const auto& cell : table->cells) checks.push_back(*cell.load());
    }
    return make_snapshot(std::move(checks), now);
  } catch (const std::bad_alloc&) {
    return nullptr;  // "no details" rather than a half-built list
  }
}

void health_model::publish(std::shared_ptr<const health_snapshot> snapshot) {
  writer& w = *writer_;
  const std::size_t n = snapshot->checks.size();
  auto table = std::make_shared<check_table>(n);
  std::vector<std::shared_ptr<const check_snapshot>> records;
  records.reserve(n);
  w.stale_times.reset(n);
  w.pending = w.critical_failing = w.optional_failing = w.warning = 0;
  for (std::size_t i = 0; i < n; ++i) {
    auto record = std::make_shared<const check_snapshot>(snapshot->checks[i]);
    table->cells[i].store(record.get());
    w.count(*record);
    w.stale_times.set(i, record->state.stale_at(record->spec->stale_after()));
    records.push_back(std::move(record));
  }
  table_.store(table.get());
  reclaimer_.retire(std::exchange(w.table, std::move(table)));
  for (auto& old : w.records) reclaimer_.retire(std::move(old));
  w.records = std::move(records);
  store_summary(snapshot->base, snapshot->fresh_until);
  reclaimer_.collect();
  notify();
}

void health_model::on_change(std::function<void()> listener) { on_change_ = std::move(listener); }

summary health_model::update(std::size_t index, const check_state& state) {
  writer& w = *writer_;
  std::shared_ptr<const check_snapshot>& slot = w.records.at(index);
  auto record = std::make_shared<const check_snapshot>(check_snapshot{slot->spec, state});
  const bool status_changed = slot->state.status() != state.status();

  w.uncount(*slot);
  w.count(*record);
  w.stale_times.set(index, record->state.stale_at(slot->spec->stale_after()));

  w.table->cells[index].store(record.get());
  reclaimer_.retire(std::exchange(slot, std::move(record)));
  const summary base = w.base();
  const auto fresh_until = w.fresh_until();
  store_summary(base, fresh_until);
  reclaimer_.collect();
  // Only a change of a check's status can change what a reader sees.
  if (status_changed) notify();

  const auto now = clock_.now();
  if (now <= fresh_until) return base;
  aggregator a(now);
  for (const auto& r : w.records) a.add(*r);
  return a.result();
}

void health_model::store_summary(summary s, time_point fresh_until) noexcept {
  const std::uint64_t word = pack(s, fresh_until);
  // Most results change nothing but the end of freshness; a store is all
  // they cost, and no reader is woken.
  if (summary_word_.load(std::memory_order_relaxed) != word) {
    summary_word_.store(word, std::memory_order_release);
  }
}

void health_model::notify() noexcept {
  if (!on_change_) return;
  const std::lock_guard lock(listener_mutex_);
  try {
    on_change_();
  } catch (...) {
    // A listener that cannot allocate leaves Watch streams a change
    // behind; the change itself has happened.
  }
}

void health_model::set_draining() noexcept {
  if ((flags_.fetch_or(draining_bit, std::memory_order_acq_rel) & draining_bit) != 0) return;
  notify();
}

bool health_model::draining() const noexcept {
  return (flags_.load(std::memory_order_acquire) & draining_bit) != 0;
}

std::shared_ptr<const maintenance_window> health_model::set_maintenance(
    std::shared_ptr<const maintenance_window> window) {
  std::shared_ptr<const maintenance_window> previous;
  const bool in_maintenance = window != nullptr;
  {
    const std::lock_guard lock(maintenance_mutex_);
    // The bit follows the record under the lock, so two setters cannot
    // leave a bit that disagrees with the window kept.
    if (window) {
      flags_.fetch_or(maintenance_bit, std::memory_order_acq_rel);
    } else {
      flags_.fetch_and(static_cast<std::uint8_t>(~maintenance_bit), std::memory_order_acq_rel);
    }
    previous = std::exchange(maintenance_, std::move(window));
  }
  // A window replaced by another changes what verbose output says, so
  // listeners hear of every set, not only of the start and the end.
  if (previous || in_maintenance) notify();
  return previous;
}

std::shared_ptr<const maintenance_window> health_model::maintenance() const noexcept {
  const std::lock_guard lock(maintenance_mutex_);
  return maintenance_;
}

}  // namespace badges_health::health
