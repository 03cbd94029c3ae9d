// The Kubernetes-style text report: each line as a check's state gives it,
// reasons withheld or shown, exclusion, draining and the last line.
#include "badges_health/app/text_report.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "badges_health/health/check_spec.hpp"

namespace badges_health::app {
namespace {

using namespace std::chrono_literals;
using health::check_status;
using steady = std::chrono::steady_clock;

health::check_snapshot make_check(const std::string& name, check_status status,
                                  steady::time_point at, bool critical = true,
                                  const std::string& output = "why") {
  auto spec = std::make_shared<health::check_spec>();
  spec->name = name;
  spec->critical = critical;
  spec->interval = 1s;
  spec->timeout = 100ms;
  health::check_state st(at);
  if (status != check_status::pending) {
    st.apply({status, output}, 1, 1, at, std::chrono::system_clock::now(), 0us);
  }
  return {spec, st};
}

std::string line(const health::check_snapshot& c, steady::time_point now, bool excluded,
                 report_reasons reasons) {
  std::string out;
  append_check_line(out, c, now, excluded, reasons);
  return out;
}

class text_report_test : public ::testing::Test {
 protected:
  steady::time_point t0_ = steady::now();
};

struct line_case {
  const char* name;
  check_status status;
  bool critical;
  bool excluded;
  const char* withheld;
  const char* shown;
};

class text_report_lines : public ::testing::TestWithParam<line_case> {};

TEST_P(text_report_lines, say_the_state_and_the_reason_only_when_shown) {
  const auto& p = GetParam();
  const auto t0 = steady::now();
  const auto c = make_check("db", p.status, t0, p.critical, "connect refused");
  EXPECT_EQ(line(c, t0, p.excluded, report_reasons::withheld), p.withheld);
  EXPECT_EQ(line(c, t0, p.excluded, report_reasons::shown), p.shown);
}

INSTANTIATE_TEST_SUITE_P(
    states, text_report_lines,
    ::testing::Values(
        line_case{"pass", check_status::pass, true, false, "[+]db ok\n", "[+]db ok\n"},
        line_case{"warn", check_status::warn, true, false, "[+]db warn: reason withheld\n",
                  "[+]db warn: connect refused\n"},
        line_case{"fail", check_status::fail, true, false, "[-]db failed: reason withheld\n",
                  "[-]db failed: connect refused\n"},
        line_case{"fail_not_critical", check_status::fail, false, false,
                  "[-]db failed (not critical): reason withheld\n",
                  "[-]db failed (not critical): connect refused\n"},
        line_case{"pending", check_status::pending, true, false, "[-]db pending: no result yet\n",
                  "[-]db pending: no result yet\n"},
        line_case{"excluded_pass", check_status::pass, true, true, "[+]db excluded: ok\n",
                  "[+]db excluded: ok\n"},
        line_case{"excluded_fail", check_status::fail, true, true,
                  "[+]db excluded: failed: reason withheld\n",
                  "[+]db excluded: failed: connect refused\n"},
        line_case{"excluded_pending", check_status::pending, true, true,
                  "[+]db excluded: pending: no result yet\n",
                  "[+]db excluded: pending: no result yet\n"}),
    [](const ::testing::TestParamInfo<line_case>& param_info) {
      return std::string(param_info.param.name);
    });

TEST_F(text_report_test, a_stale_result_fails_with_its_age_as_the_reason) {
  const auto c = make_check("db", check_status::pass, t0_);
  EXPECT_EQ(line(c, t0_ + 2101ms, false, report_reasons::shown),
            "[-]db failed: no result for more than 2100ms (stale)\n");
  EXPECT_FALSE(check_passes(c, t0_ + 2101ms));
  EXPECT_TRUE(check_passes(c, t0_));
}

TEST_F(text_report_test, control_characters_in_a_reason_do_not_break_the_line) {
  const auto c = make_check("exec", check_status::fail, t0_, true, "first\nsecond\r\tthird");
  EXPECT_EQ(line(c, t0_, false, report_reasons::shown), "[-]exec failed: first second  third\n");
}

TEST_F(text_report_test, check_passes_on_pass_and_warn_only) {
  EXPECT_TRUE(check_passes(make_check("a", check_status::pass, t0_), t0_));
  EXPECT_TRUE(check_passes(make_check("a", check_status::warn, t0_), t0_));
  EXPECT_FALSE(check_passes(make_check("a", check_status::fail, t0_), t0_));
  EXPECT_FALSE(check_passes(make_check("a", check_status::fail, t0_, false), t0_));
  EXPECT_FALSE(check_passes(make_check("a", check_status::pending, t0_), t0_));
}

TEST_F(text_report_test, readiness_report_lists_the_checks_then_the_verdict) {
  auto snap = std::make_shared<health::health_snapshot>();
  snap->taken_at = t0_;
  snap->checks = {make_check("db", check_status::pass, t0_),
                  make_check("redis", check_status::fail, t0_),
                  make_check("catalyst", check_status::fail, t0_)};
  health::summary failed{health::status::down, true, false};
  EXPECT_EQ(
      readiness_report(*snap, {false, false, true}, failed, nullptr, report_reasons::withheld),
      "[+]db ok\n"
      "[-]redis failed: reason withheld\n"
      "[+]catalyst excluded: failed: reason withheld\n"
      "readyz check failed\n");
  health::summary passed{health::status::ok, true, false};
  EXPECT_EQ(readiness_report(*snap, {false, true, true}, passed, nullptr, report_reasons::shown),
            "[+]db ok\n"
            "[+]redis excluded: failed: why\n"
            "[+]catalyst excluded: failed: why\n"
            "readyz check passed\n");
}

TEST_F(text_report_test, readiness_report_says_draining_and_fails) {
  health::health_snapshot snap;
  snap.taken_at = t0_;
  snap.checks = {make_check("db", check_status::pass, t0_)};
  const health::summary draining{health::status::down, false, true};
  EXPECT_EQ(readiness_report(snap, {}, draining, nullptr, report_reasons::withheld),
            "[+]db ok\n[-]shutdown draining\nreadyz check failed\n");
}

TEST_F(text_report_test, readiness_report_without_checks_is_its_last_line) {
  const health::health_snapshot snap;
  EXPECT_EQ(readiness_report(snap, {}, health::summary{}, nullptr, report_reasons::shown),
            "readyz check passed\n");
}

TEST_F(text_report_test, check_failure_report_names_the_check_and_draining) {
  const auto c = make_check("redis", check_status::fail, t0_);
  EXPECT_EQ(check_failure_report(c, t0_, false, nullptr, report_reasons::withheld),
            "[-]redis failed: reason withheld\nreadyz check failed\n");
  const auto ok = make_check("db", check_status::pass, t0_);
  EXPECT_EQ(check_failure_report(ok, t0_, true, nullptr, report_reasons::withheld),
            "[+]db ok\n[-]shutdown draining\nreadyz check failed\n");
}

TEST_F(text_report_test, maintenance_is_a_line_with_its_end_and_the_reason_for_those_allowed) {
  health::health_snapshot snap;
  snap.taken_at = t0_;
  snap.checks = {make_check("db", check_status::pass, t0_)};
  health::maintenance_window window;
  window.reason = "db\nmigration";
  window.until = std::chrono::sys_days{std::chrono::year{2026} / 12 / 7} + std::chrono::hours{23};
  health::summary in{health::status::down, false, false};
  in.maintenance = true;
  EXPECT_EQ(readiness_report(snap, {}, in, &window, report_reasons::withheld),
            "[+]db ok\n[-]maintenance until 2026-12-07T23:00:00.000Z: reason withheld\n"
            "readyz check failed\n");
  EXPECT_EQ(readiness_report(snap, {}, in, &window, report_reasons::shown),
            "[+]db ok\n[-]maintenance until 2026-12-07T23:00:00.000Z: db migration\n"
            "readyz check failed\n");
  // A window the summary no longer reports (it ended between two reads)
  // is not shown.
  const health::summary after{health::status::ok, true, false};
  EXPECT_EQ(readiness_report(snap, {}, after, &window, report_reasons::shown),
            "[+]db ok\nreadyz check passed\n");
  EXPECT_EQ(check_failure_report(snap.checks[0], t0_, false, &window, report_reasons::shown),
            "[+]db ok\n[-]maintenance until 2026-12-07T23:00:00.000Z: db migration\n"
            "readyz check failed\n");
}

TEST(liveness_report, is_the_ping_line_and_its_verdict) {
  EXPECT_EQ(liveness_report(), "[+]ping ok\nlivez check passed\n");
}

}  // namespace
}  // namespace badges_health::app
