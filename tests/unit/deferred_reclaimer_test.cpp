// The grace periods of deferred_reclaimer, driven from one thread: what a
// reader section may hold is kept, and freed once that section has ended.
#include "badges_health/health/deferred_reclaimer.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace badges_health::health {
namespace {

class deferred_reclaimer_test : public ::testing::Test {
 protected:
  // Retires a fresh object and returns a watch on it.
  std::weak_ptr<const int> retire_one() {
    auto p = std::make_shared<const int>(42);
    std::weak_ptr<const int> watch = p;
    reclaimer_.retire(std::move(p));
    return watch;
  }

  deferred_reclaimer reclaimer_;
};

TEST_F(deferred_reclaimer_test, frees_at_once_when_no_reader_is_in) {
  const auto watch = retire_one();
  reclaimer_.collect();
  EXPECT_TRUE(watch.expired());
  EXPECT_EQ(reclaimer_.pending(), 0u);
}

TEST_F(deferred_reclaimer_test, keeps_what_a_reader_may_hold_until_it_leaves) {
  std::weak_ptr<const int> watch;
  {
    const deferred_reclaimer::read_guard reader(reclaimer_);
    watch = retire_one();
    reclaimer_.collect();
    EXPECT_FALSE(watch.expired());
    reclaimer_.collect();
    EXPECT_FALSE(watch.expired());
  }
  reclaimer_.collect();
  EXPECT_TRUE(watch.expired());
}

TEST_F(deferred_reclaimer_test, readers_arriving_later_do_not_hold_back_earlier_retirements) {
  auto early = std::make_unique<deferred_reclaimer::read_guard>(reclaimer_);
  const auto watch = retire_one();
  reclaimer_.collect();  // starts a grace period that waits for `early`
  const deferred_reclaimer::read_guard late(reclaimer_);
  early.reset();
  reclaimer_.collect();
  EXPECT_TRUE(watch.expired());
}

TEST_F(deferred_reclaimer_test, retirements_during_a_grace_period_wait_for_the_next) {
  std::weak_ptr<const int> first;
  std::weak_ptr<const int> second;
  {
    const deferred_reclaimer::read_guard reader(reclaimer_);
    first = retire_one();
    reclaimer_.collect();
    second = retire_one();
    reclaimer_.collect();
    EXPECT_EQ(reclaimer_.pending(), 2u);
  }
  reclaimer_.collect();  // ends the first period, and the second finds no reader
  EXPECT_TRUE(first.expired());
  EXPECT_TRUE(second.expired());
  EXPECT_EQ(reclaimer_.pending(), 0u);
}

}  // namespace
}  // namespace badges_health::health
