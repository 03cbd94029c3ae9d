// Hysteresis and staleness of one check, driven with explicit time points.
#include "badges_health/health/check_state.hpp"

#include <gtest/gtest.h>

namespace badges_health::health {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

class check_state_test : public ::testing::Test {
 protected:
  // Applies a pass or a failure one second after the previous one.
  bool step(bool pass, unsigned rise = 2, unsigned fall = 3) {
    return result(pass ? check_status::pass : check_status::fail, rise, fall);
  }
  // Applies a result of `status` one second after the previous one.
  bool result(check_status status, unsigned rise = 2, unsigned fall = 3) {
    now_ += 1s;
    const char* output = status == check_status::pass   ? "ok"
                         : status == check_status::warn ? "slow"
                                                        : "refused";
    return state_.apply({status, output}, rise, fall, now_, std::chrono::system_clock::now(),
                        1500us);
  }
  steady::time_point now_{steady::duration{1'000'000'000}};
  check_state state_{now_};
};

TEST_F(check_state_test, starts_pending_without_result) {
  EXPECT_EQ(state_.status(), check_status::pending);
  EXPECT_FALSE(state_.has_result());
}

TEST_F(check_state_test, first_failure_decides_at_once) {
  EXPECT_TRUE(step(false));
  EXPECT_EQ(state_.status(), check_status::fail);
  EXPECT_EQ(state_.failure_output(), "refused");
}

TEST_F(check_state_test, counts_changes_of_status_but_not_the_first_result) {
  step(true);
  EXPECT_EQ(state_.total_transitions(), 0u) << "pending to pass is the first result";
  step(false, 1, 1);
  step(false, 1, 1);
  EXPECT_EQ(state_.total_transitions(), 1u) << "pass to fail";
  result(check_status::warn, 1, 1);
  EXPECT_EQ(state_.total_transitions(), 2u) << "fail to warn";
  step(true, 2, 1);
  EXPECT_EQ(state_.total_transitions(), 2u) << "one pass of the two rise asks for";
  step(true, 2, 1);
  EXPECT_EQ(state_.total_transitions(), 3u) << "warn to pass";
}

TEST_F(check_state_test, first_pass_decides_at_once) {
  EXPECT_TRUE(step(true));
  EXPECT_EQ(state_.status(), check_status::pass);
}

TEST_F(check_state_test, passing_check_fails_only_after_fall_consecutive_failures) {
  step(true);
  EXPECT_FALSE(step(false));
  EXPECT_FALSE(step(false));
  EXPECT_EQ(state_.status(), check_status::pass);
  EXPECT_TRUE(step(false));
  EXPECT_EQ(state_.status(), check_status::fail);
  EXPECT_EQ(state_.consecutive_failures(), 3u);
}

TEST_F(check_state_test, a_pass_resets_the_failure_streak) {
  step(true);
  step(false);
  step(false);
  step(true);
  step(false);
  step(false);
  EXPECT_EQ(state_.status(), check_status::pass);
  EXPECT_EQ(state_.total_failures(), 4u);
}

TEST_F(check_state_test, failing_check_recovers_only_after_rise_consecutive_passes) {
  step(false);
  EXPECT_FALSE(step(true));
  EXPECT_EQ(state_.status(), check_status::fail);
  EXPECT_TRUE(step(true));
  EXPECT_EQ(state_.status(), check_status::pass);
}

TEST_F(check_state_test, rise_and_fall_of_one_follow_every_result) {
  step(true, 1, 1);
  EXPECT_TRUE(step(false, 1, 1));
  EXPECT_TRUE(step(true, 1, 1));
}

TEST_F(check_state_test, result_counts_until_stale_age_then_fails) {
  step(true);
  const auto stale_after = 5s;
  EXPECT_EQ(state_.effective(now_ + 5s, stale_after), check_status::pass);
  EXPECT_EQ(state_.effective(now_ + 5s + 1ms, stale_after), check_status::fail);
  EXPECT_TRUE(state_.stale(now_ + 6s, stale_after));
  EXPECT_EQ(state_.stale_at(stale_after), now_ + 5s);
}

TEST_F(check_state_test, pending_check_goes_stale_from_its_creation) {
  EXPECT_EQ(state_.effective(now_ + 1s, 2s), check_status::pending);
  EXPECT_EQ(state_.effective(now_ + 3s, 2s), check_status::fail);
}

TEST_F(check_state_test, records_duration_and_output_of_latest_attempt) {
  step(false);
  step(true);
  EXPECT_EQ(state_.duration(), 1500us);
  EXPECT_EQ(state_.last_output(), "ok");
  EXPECT_EQ(state_.failure_output(), "refused");
}

// ---- warn: the third state ----

TEST_F(check_state_test, first_warning_decides_at_once_and_keeps_its_output) {
  EXPECT_TRUE(result(check_status::warn));
  EXPECT_EQ(state_.status(), check_status::warn);
  EXPECT_EQ(state_.warning_output(), "slow");
  EXPECT_EQ(state_.reason(), "slow");
  EXPECT_EQ(state_.consecutive_failures(), 0u);
  EXPECT_EQ(state_.total_failures(), 0u);
}

TEST_F(check_state_test, passing_check_warns_only_after_fall_results_at_warn_or_worse) {
  result(check_status::pass);
  EXPECT_FALSE(result(check_status::warn));
  EXPECT_FALSE(result(check_status::fail));
  EXPECT_EQ(state_.status(), check_status::pass);
  // Warn, fail, warn: all at least warn, not all fail: the check warns.
  EXPECT_TRUE(result(check_status::warn));
  EXPECT_EQ(state_.status(), check_status::warn);
  EXPECT_EQ(state_.streak(), 3u);
}

TEST_F(check_state_test, fall_failures_in_a_row_fail_a_passing_check_even_through_warn) {
  result(check_status::pass);
  result(check_status::fail);
  result(check_status::fail);
  EXPECT_TRUE(result(check_status::fail));
  EXPECT_EQ(state_.status(), check_status::fail);
}

TEST_F(check_state_test, warning_check_fails_after_fall_failures_and_recovers_after_rise_passes) {
  result(check_status::warn);
  result(check_status::fail);
  result(check_status::fail);
  EXPECT_EQ(state_.status(), check_status::warn);
  EXPECT_TRUE(result(check_status::fail));
  EXPECT_EQ(state_.status(), check_status::fail);
  // Back up: a pass and a warning are two results at warn or better.
  EXPECT_FALSE(result(check_status::pass));
  EXPECT_TRUE(result(check_status::warn));
  EXPECT_EQ(state_.status(), check_status::warn);
  EXPECT_FALSE(result(check_status::pass));
  EXPECT_TRUE(result(check_status::pass));
  EXPECT_EQ(state_.status(), check_status::pass);
}

TEST_F(check_state_test, a_result_equal_to_the_state_breaks_a_run) {
  result(check_status::warn);
  result(check_status::pass);
  result(check_status::warn);  // the run toward pass is broken
  result(check_status::pass);
  EXPECT_EQ(state_.status(), check_status::warn);
}

TEST_F(check_state_test, transitions_record_warn) {
  result(check_status::pass, 1, 1);
  result(check_status::warn, 1, 1);
  result(check_status::fail, 1, 1);
  const auto& t = state_.transitions();
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[1].from, check_status::pass);
  EXPECT_EQ(t[1].to, check_status::warn);
  EXPECT_EQ(t[1].reason, "slow");
  EXPECT_EQ(t[2].to, check_status::fail);
}

TEST_F(check_state_test, a_warning_goes_stale_as_a_failure) {
  result(check_status::warn);
  EXPECT_EQ(state_.effective(now_ + 5s, 5s), check_status::warn);
  EXPECT_EQ(state_.effective(now_ + 5s + 1ms, 5s), check_status::fail);
}

TEST_F(check_state_test, keeps_the_observed_value_of_the_latest_result) {
  state_.apply({check_status::pass, "free", observation{1024, "bytes"}}, 2, 3, now_ + 1s,
               std::chrono::system_clock::now(), 1us);
  ASSERT_TRUE(state_.observed());
  EXPECT_EQ(state_.observed()->value, 1024);
  EXPECT_EQ(state_.observed()->unit, "bytes");
  result(check_status::pass);
  EXPECT_FALSE(state_.observed());
}

}  // namespace
}  // namespace badges_health::health
