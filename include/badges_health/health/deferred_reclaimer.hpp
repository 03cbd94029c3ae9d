// Deferred deletion for data that request threads read without locks: one
// writer replaces objects and retires the old ones; they are freed once
// every reader that could still be looking at them has left its section.
// Readers never wait and the writer never waits for them.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace badges_health::health {

/// Readers bracket their loads with a `read_guard`; the (single) writer
/// unlinks an object with a seq_cst store, hands it to `retire`, and calls
/// `collect` from time to time (after each retire is enough).
///
/// Two reader counters alternate by epoch. A grace period flips the epoch
/// and waits, without blocking, for the counter of the previous epoch to
/// drain: a reader counted there may hold an object retired before the
/// flip; a reader that arrives after the flip counts on the other side and
/// can only load what was stored before it. A reader re-reads the epoch
/// after counting itself so that it is never counted on the side a grace
/// period has already found empty. Every operation is seq_cst: the argument
/// rests on one total order of the epoch flip, the counters and the
/// writer's stores and readers' loads of the pointers being protected.
class deferred_reclaimer {
 public:
  deferred_reclaimer() = default;
  deferred_reclaimer(const deferred_reclaimer&) = delete;
  deferred_reclaimer& operator=(const deferred_reclaimer&) = delete;

  /// While it lives, what the reader loads (seq_cst) stays allocated.
  class read_guard {
   public:
    explicit read_guard(const deferred_reclaimer& r) noexcept : r_(r) {
      for (;;) {
        const std::uint64_t epoch = r_.epoch_.load();
        slot_ = static_cast<std::size_t>(epoch & 1U);
        r_.readers_[slot_].fetch_add(1);
        // A flip in between: the grace period may already have read this
        // counter as empty, so count on the new side instead.
        if (r_.epoch_.load() == epoch) return;
        r_.readers_[slot_].fetch_sub(1);
      }
    }
    ~read_guard() { r_.readers_[slot_].fetch_sub(1); }
    read_guard(const read_guard&) = delete;
    read_guard& operator=(const read_guard&) = delete;

   private:
    const deferred_reclaimer& r_;
    std::size_t slot_ = 0;
  };

  /// Writer only: `old` is unreachable for readers that start from now on.
  void retire(std::shared_ptr<const void> old) { retired_.push_back(std::move(old)); }

  /// Writer only: frees what no reader can hold any more and starts the
  /// next grace period. Never waits; amortised O(1) per retired object.
  void collect() noexcept {
    if (!waiting_.empty()) {
      if (readers_[waiting_slot_].load() != 0) return;
      waiting_.clear();
    }
    if (retired_.empty()) return;
    waiting_.swap(retired_);
    waiting_slot_ = static_cast<std::size_t>(epoch_.fetch_add(1) & 1U);
    // Usually nobody is reading: free at once.
    if (readers_[waiting_slot_].load() == 0) waiting_.clear();
  }

  /// Objects retired and not yet freed (for tests).
  std::size_t pending() const noexcept { return retired_.size() + waiting_.size(); }

 private:
  std::atomic<std::uint64_t> epoch_{0};
  mutable std::array<std::atomic<std::uint64_t>, 2> readers_{};
  std::vector<std::shared_ptr<const void>> retired_;  // since the last flip
  std::vector<std::shared_ptr<const void>> waiting_;  // before it, until its counter drains
  std::size_t waiting_slot_ = 0;
};

}  // namespace badges_health::health
