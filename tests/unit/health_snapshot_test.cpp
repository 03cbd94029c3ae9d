// Aggregation of check states and the health model's read path.
#include "badges_health/health/health_snapshot.hpp"

#include <gtest/gtest.h>

#include "badges_health/health/health_model.hpp"

namespace badges_health::health {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

check_snapshot make_check(const std::string& name, bool critical, check_status status,
                          steady::time_point at, std::chrono::milliseconds interval = 1s) {
  auto spec = std::make_shared<check_spec>();
  spec->name = name;
  spec->critical = critical;
  spec->interval = interval;
  spec->timeout = 100ms;
  check_state st(at);
  if (status != check_status::pending) {
    st.apply({status, "x"}, 1, 1, at, std::chrono::system_clock::now(), 0us);
  }
  return {spec, st};
}

class aggregate_test : public ::testing::Test {
 protected:
  steady::time_point t0_ = steady::now();
};

TEST_F(aggregate_test, no_checks_is_ok_and_ready) {
  const auto s = aggregate({}, t0_);
  EXPECT_EQ(s.overall, status::ok);
  EXPECT_TRUE(s.ready);
}

TEST_F(aggregate_test, failing_critical_check_is_down) {
  const auto s = aggregate({make_check("a", true, check_status::fail, t0_),
                            make_check("b", false, check_status::pass, t0_)},
                           t0_);
  EXPECT_EQ(s.overall, status::down);
}

TEST_F(aggregate_test, failing_non_critical_check_is_degraded) {
  const auto s = aggregate({make_check("a", true, check_status::pass, t0_),
                            make_check("b", false, check_status::fail, t0_)},
                           t0_);
  EXPECT_EQ(s.overall, status::degraded);
  EXPECT_TRUE(s.ready);
}

TEST_F(aggregate_test, critical_failure_wins_over_degraded) {
  const auto s = aggregate({make_check("a", true, check_status::fail, t0_),
                            make_check("b", false, check_status::fail, t0_)},
                           t0_);
  EXPECT_EQ(s.overall, status::down);
}

TEST_F(aggregate_test, a_warning_critical_check_is_degraded_not_down) {
  const auto s = aggregate({make_check("a", true, check_status::warn, t0_),
                            make_check("b", false, check_status::pass, t0_)},
                           t0_);
  EXPECT_EQ(s.overall, status::degraded);
  EXPECT_TRUE(s.ready);
}

TEST_F(aggregate_test, critical_failure_wins_over_a_warning) {
  const auto s = aggregate({make_check("a", false, check_status::warn, t0_),
                            make_check("b", true, check_status::fail, t0_)},
                           t0_);
  EXPECT_EQ(s.overall, status::down);
}

TEST_F(aggregate_test, snapshot_says_when_it_was_taken) {
  const auto snap = make_snapshot({make_check("a", true, check_status::pass, t0_)}, t0_ + 3s);
  EXPECT_EQ(snap->taken_at, t0_ + 3s);
}

TEST_F(aggregate_test, pending_check_is_not_ready_but_not_failing) {
  const auto s = aggregate({make_check("a", true, check_status::pending, t0_),
                            make_check("b", true, check_status::pass, t0_)},
                           t0_);
  EXPECT_EQ(s.overall, status::ok);
  EXPECT_FALSE(s.ready);
}

TEST_F(aggregate_test, stale_passing_critical_check_counts_as_failing) {
  // stale after 2 x 1s + 100ms
  const std::vector<check_snapshot> checks{make_check("a", true, check_status::pass, t0_)};
  EXPECT_EQ(aggregate(checks, t0_ + 2100ms).overall, status::ok);
  EXPECT_EQ(aggregate(checks, t0_ + 2101ms).overall, status::down);
}

TEST_F(aggregate_test, snapshot_fresh_until_is_the_earliest_stale_moment) {
  const auto snap = make_snapshot({make_check("a", true, check_status::pass, t0_, 10s),
                                   make_check("b", true, check_status::pass, t0_, 1s)},
                                  t0_);
  EXPECT_EQ(snap->fresh_until, t0_ + 2100ms);
  EXPECT_EQ(snap->base.overall, status::ok);
}

TEST_F(aggregate_test, skipped_checks_do_not_count_toward_the_summary) {
  const auto snap = make_snapshot({make_check("db", true, check_status::fail, t0_),
                                   make_check("cache", false, check_status::fail, t0_),
                                   make_check("queue", true, check_status::pending, t0_),
                                   make_check("api", true, check_status::pass, t0_)},
                                  t0_);
  const summary live = snap->base;
  EXPECT_EQ(live.overall, status::down);
  EXPECT_FALSE(live.ready);
  // Nothing skipped: the aggregate itself.
  auto s = aggregate_without(*snap, {}, live);
  EXPECT_EQ(s.overall, status::down);
  EXPECT_FALSE(s.ready);
  // Without the failing critical check: degraded by the other failure.
  s = aggregate_without(*snap, {true, false, false, false}, live);
  EXPECT_EQ(s.overall, status::degraded);
  EXPECT_FALSE(s.ready) << "queue still has no first result";
  // Without it and the pending one: ready, degraded.
  s = aggregate_without(*snap, {true, false, true, false}, live);
  EXPECT_EQ(s.overall, status::degraded);
  EXPECT_TRUE(s.ready);
  EXPECT_TRUE(s.readiness());
  // Only the passing one kept: ok.
  s = aggregate_without(*snap, {true, true, true, false}, live);
  EXPECT_EQ(s.overall, status::ok);
  EXPECT_TRUE(s.ready);
}

TEST_F(aggregate_test, skipping_checks_keeps_draining) {
  const auto snap = make_snapshot({make_check("db", true, check_status::fail, t0_)}, t0_);
  summary live;
  live.draining = true;
  const auto s = aggregate_without(*snap, {true}, live);
  EXPECT_TRUE(s.draining);
  EXPECT_EQ(s.overall, status::down);
  EXPECT_FALSE(s.readiness());
}

TEST_F(aggregate_test, skipped_checks_are_judged_at_the_snapshots_instant) {
  // "a" goes stale after 2 x 1s + 100ms: the snapshot taken after that
  // counts it as failing, even with the other check skipped.
  const auto snap = make_snapshot({make_check("a", true, check_status::pass, t0_),
                                   make_check("b", false, check_status::fail, t0_)},
                                  t0_ + 2101ms);
  EXPECT_EQ(aggregate_without(*snap, {false, true}, summary{}).overall, status::down);
}

TEST_F(aggregate_test, effective_reason_says_why_or_that_the_result_is_too_old) {
  const auto c = make_check("a", true, check_status::fail, t0_);
  EXPECT_EQ(effective_reason(c, t0_), "x");
  EXPECT_EQ(effective_reason(c, t0_ + 2101ms), "no result for more than 2100ms (stale)");
  const auto pending = make_check("b", true, check_status::pending, t0_);
  EXPECT_EQ(effective_reason(pending, t0_ + 2101ms),
            "no result for more than 2100ms since the check started");
}

TEST(health_model_checks, published_failure_is_read_back) {
  health_model model;
  const auto now = steady::now();
  model.publish(make_snapshot({make_check("db", true, check_status::fail, now, 60s)}, now));
  EXPECT_EQ(model.current().overall, status::down);
  ASSERT_NE(model.details(), nullptr);
  EXPECT_EQ(model.details()->checks.size(), 1u);
}

TEST(health_model_checks, stale_snapshot_is_reaggregated_on_read) {
  // A passing result observed long ago: the published aggregate says ok,
  // but a wedged scheduler must not report stale green.
  health_model model;
  const auto long_ago = steady::now() - 1h;
  model.publish(make_snapshot({make_check("db", true, check_status::pass, long_ago)}, long_ago));
  EXPECT_EQ(model.current().overall, status::down);
}

TEST(health_model_checks, draining_overrides_passing_checks) {
  health_model model;
  const auto now = steady::now();
  model.publish(make_snapshot({make_check("db", true, check_status::pass, now, 60s)}, now));
  model.set_draining();
  const auto s = model.current();
  EXPECT_EQ(s.overall, status::down);
  EXPECT_FALSE(s.ready);
  EXPECT_TRUE(s.draining);
}

}  // namespace
}  // namespace badges_health::health
