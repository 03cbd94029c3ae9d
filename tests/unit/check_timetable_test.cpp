// Unit tests for the scheduler's timetable: slots, rounding, and the
// indexed heap that orders the checks. The scheduler itself is tested on a
// manual clock in check_scheduler_test.cpp.
#include "badges_health/health/check_timetable.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <vector>

#include "badges_health/util/indexed_heap.hpp"

namespace badges_health::health {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

steady_clock::time_point at_ms(long long ms) { return steady_clock::time_point{milliseconds{ms}}; }

TEST(timetable_slot, is_about_a_hundredth_of_the_interval_as_a_power_of_two) {
  EXPECT_EQ(timetable_slot(10ms), 1ms);
  EXPECT_EQ(timetable_slot(199ms), 1ms);
  EXPECT_EQ(timetable_slot(200ms), 2ms);
  EXPECT_EQ(timetable_slot(1s), 8ms);
  EXPECT_EQ(timetable_slot(1600ms), 16ms);
  EXPECT_EQ(timetable_slot(60s), 16ms);
}

TEST(timetable_round, goes_up_to_the_next_boundary_strictly_after_both_times) {
  // On a boundary already: the next one, so a due time never stays due.
  EXPECT_EQ(timetable_round(at_ms(16), at_ms(0), 8ms), at_ms(24));
  EXPECT_EQ(timetable_round(at_ms(17), at_ms(0), 8ms), at_ms(24));
  EXPECT_EQ(timetable_round(at_ms(23), at_ms(0), 8ms), at_ms(24));
  // A time in the past counts from now.
  EXPECT_EQ(timetable_round(at_ms(5), at_ms(40), 8ms), at_ms(48));
  EXPECT_EQ(timetable_round(at_ms(41) + 300us, at_ms(41), 1ms), at_ms(42));
}

TEST(timetable_round, coarse_boundaries_are_also_fine_ones) {
  // Checks with different slots due close together share a boundary.
  const auto coarse = timetable_round(at_ms(1003), at_ms(0), 16ms);
  EXPECT_EQ(coarse, at_ms(1008));
  EXPECT_EQ(timetable_round(at_ms(1001), at_ms(0), 8ms), coarse);
}

TEST(indexed_heap, yields_the_smallest_and_follows_moves) {
  util::indexed_heap<steady_clock::time_point> h;
  h.reset(4);
  EXPECT_TRUE(h.empty());
  h.set(1, at_ms(30));
  h.set(2, at_ms(10));
  h.set(3, at_ms(20));
  EXPECT_EQ(h.size(), 3u);
  EXPECT_FALSE(h.contains(0));
  EXPECT_TRUE(h.contains(3));
  EXPECT_EQ(h.top_id(), 2u);
  EXPECT_EQ(h.top_key(), at_ms(10));

  h.set(2, at_ms(40));  // later: the next one comes first
  EXPECT_EQ(h.top_id(), 3u);
  h.set(1, at_ms(5));  // earlier: first now
  EXPECT_EQ(h.top_id(), 1u);
  EXPECT_EQ(h.key_of(1), at_ms(5));

  h.erase(1);
  EXPECT_FALSE(h.contains(1));
  EXPECT_EQ(h.top_id(), 3u);
  h.erase(3);
  h.erase(3);  // absent: nothing happens
  EXPECT_EQ(h.top_id(), 2u);
  EXPECT_EQ(h.top_key(), at_ms(40));
  h.erase(2);
  EXPECT_TRUE(h.empty());
}

// Against a sorted reference: random moves, inserts and erases of a
// thousand ids, as a thousand checks going round (and being reloaded) do.
TEST(indexed_heap, stays_ordered_through_random_moves_and_erases) {
  constexpr std::size_t n = 1000;
  util::indexed_heap<long long> h;
  h.reset(n);
  std::vector<long long> key(n, -1);  // -1: absent
  std::mt19937_64 rng(42);
  for (int step = 0; step < 20000; ++step) {
    const auto id = static_cast<std::size_t>(rng() % n);
    const auto what = rng() % 10;
    if (what == 0) {
      h.erase(id);
      key[id] = -1;
    } else {
      key[id] = static_cast<long long>(rng() % 5000);
      h.set(id, key[id]);
    }
    if (step % 97 == 0 || step == 19999) {
      long long least = -1;
      std::size_t present = 0;
      for (std::size_t i = 0; i < n; ++i) {
        if (key[i] < 0) continue;
        ++present;
        ASSERT_TRUE(h.contains(i));
        ASSERT_EQ(h.key_of(i), key[i]);
        if (least < 0 || key[i] < least) least = key[i];
      }
      ASSERT_EQ(h.size(), present);
      if (present > 0) {
        ASSERT_EQ(h.top_key(), least);
        ASSERT_EQ(key[h.top_id()], least);
      }
    }
  }
  // Draining yields the keys in order.
  long long last = -1;
  while (!h.empty()) {
    ASSERT_GE(h.top_key(), last);
    last = h.top_key();
    h.erase(h.top_id());
  }
}

}  // namespace
}  // namespace badges_health::health
