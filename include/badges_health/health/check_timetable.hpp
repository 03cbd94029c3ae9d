// The times in the scheduler's timetable (one entry per check, moved as it
// goes round: its next attempt while idle, its deadline while an attempt
// is in flight) are rounded up to a slot: start times to one of about a
// hundredth of the interval, so that checks due within a few milliseconds
// of each other share one wake-up of the event loop, as a kernel's timer
// slack does; deadlines to the millisecond. Slots are powers of two
// milliseconds counted from the clock's epoch, so a coarse slot boundary
// is also a fine one and checks with different intervals still meet.
#pragma once

#include <algorithm>
#include <chrono>

namespace badges_health::health {

/// The slot for a check that runs every `interval`: about a hundredth of
/// it, a power of two between 1 and 16 ms.
inline std::chrono::milliseconds timetable_slot(std::chrono::milliseconds interval) noexcept {
  std::chrono::milliseconds slot{1};
  while (slot < std::chrono::milliseconds{16} && slot * 2 * 100 <= interval) slot *= 2;
  return slot;
}

/// `at` rounded up to the next slot boundary strictly after `at` and after
/// `now`: a time that has already passed cannot be due again in the same
/// turn, so a turn of the scheduler always ends.
inline std::chrono::steady_clock::time_point timetable_round(
    std::chrono::steady_clock::time_point at, std::chrono::steady_clock::time_point now,
    std::chrono::milliseconds slot) noexcept {
  const auto from = std::max(at, now).time_since_epoch();
  const auto step = std::chrono::duration_cast<std::chrono::steady_clock::duration>(slot);
  const auto slots = from / step + 1;
  return std::chrono::steady_clock::time_point{slots * step};
}

}  // namespace badges_health::health
