// The scheduler on a manual clock: cadence, timeouts, long-lived checkers,
// reloads, ttl expiry and reports, and staleness, all exact to the
// millisecond and without sleeping.
#include "badges_health/health/check_scheduler.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "badges_health/health/check_clock.hpp"
#include "badges_health/health/check_reader.hpp"
#include "badges_health/health/health_model.hpp"
#include "badges_health/health/health_snapshot.hpp"

namespace badges_health::health {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

// What the test's checkers did, shared with the test.
struct fake_log {
  int made = 0;
  int started = 0;
  int cancelled = 0;
  int reloaded = 0;
  // When each attempt started, on the manual clock.
  std::vector<check_clock::time_point> starts;
  // Attempts complete at once with `next`, or hang until cancelled.
  bool hang = false;
  check_result next{check_status::pass, "fine"};
  // make_checker throws this, when set.
  std::string refuse;
};

const check_type fake_type{"fake", "component", {}, false, nullptr};

class fake_checker final : public checker {
 public:
  fake_checker(std::shared_ptr<fake_log> log, boost::asio::any_io_executor ex,
               const check_clock& clock)
      : log_(std::move(log)), ex_(std::move(ex)), clock_(clock) {}
  void start(completion done) override {
    ++log_->started;
    log_->starts.push_back(clock_.now());
    if (log_->hang) return;
    boost::asio::post(ex_, [done = std::move(done), r = log_->next] { done(r); });
  }
  void cancel() noexcept override { ++log_->cancelled; }
  void reload() override { ++log_->reloaded; }

 private:
  std::shared_ptr<fake_log> log_;
  boost::asio::any_io_executor ex_;
  const check_clock& clock_;
};

class fake_settings final : public check_settings {
 public:
  fake_settings(std::shared_ptr<fake_log> log, int version)
      : log_(std::move(log)), version_(version) {}
  const check_type& type() const noexcept override { return fake_type; }
  bool equals(const check_settings& other) const noexcept override {
    const auto* same = dynamic_cast<const fake_settings*>(&other);
    return same != nullptr && same->log_ == log_ && same->version_ == version_;
  }
  void describe(nlohmann::ordered_json&) const override {}
  std::shared_ptr<checker> make_checker(const check_spec&,
                                        const checker_context& context) const override {
    ++log_->made;
    if (!log_->refuse.empty()) throw std::runtime_error(log_->refuse);
    return std::make_shared<fake_checker>(log_, context.executor, *context.clock);
  }

 private:
  std::shared_ptr<fake_log> log_;
  int version_;
};

class check_scheduler_test : public ::testing::Test {
 protected:
  check_spec fake(const std::string& name, milliseconds interval, milliseconds timeout,
                  int version = 1) {
    check_spec s;
    s.name = name;
    s.interval = interval;
    s.timeout = timeout;
    s.rise = 1;
    s.fall = 1;
    s.settings = std::make_shared<fake_settings>(log_, version);
    return s;
  }

  const check_snapshot& check(std::size_t i) {
    snap_ = model_.details();
    return snap_->checks.at(i);
  }

  manual_clock clock_;
  boost::asio::io_context io_;
  health_model model_{clock_};
  check_scheduler scheduler_{{io_.get_executor(), &clock_, nullptr}, model_};
  std::shared_ptr<fake_log> log_ = std::make_shared<fake_log>();
  std::shared_ptr<const health_snapshot> snap_;
};

TEST_F(check_scheduler_test, each_attempt_starts_an_interval_after_the_last_plus_at_most_a_tenth) {
  scheduler_.apply({fake("a", 1s, 200ms)});
  clock_.run_for(io_, 20s);
  // The first within half a second (spread over 50 ms), then every 1 s plus
  // up to 10 % jitter, rounded up to the 8 ms slot of a 1 s interval.
  ASSERT_GE(log_->starts.size(), 18u);
  for (std::size_t i = 1; i < log_->starts.size(); ++i) {
    const auto gap = log_->starts[i] - log_->starts[i - 1];
    EXPECT_GE(gap, 1s) << "attempt " << i;
    EXPECT_LE(gap, 1s + 100ms + 8ms) << "attempt " << i;
  }
  EXPECT_EQ(log_->made, 1) << "the checker is made once and kept across attempts";
  EXPECT_EQ(check(0).state.status(), check_status::pass);
}

TEST_F(check_scheduler_test, the_first_attempt_goes_out_at_once) {
  scheduler_.apply({fake("a", 10s, 2s)});
  clock_.run_for(io_, 49ms);
  EXPECT_LE(log_->started, 1);
  clock_.run_for(io_, 20ms);
  EXPECT_EQ(log_->started, 1) << "the first attempt waits at most a tenth of 500 ms, rounded";
}

TEST_F(check_scheduler_test, an_attempt_still_running_at_its_timeout_fails_and_is_cancelled) {
  log_->hang = true;
  scheduler_.apply({fake("slow", 1s, 200ms)});
  clock_.run_for(io_, 100ms);
  ASSERT_EQ(log_->started, 1);
  const auto started = log_->starts.front();
  // Deadlines are rounded up to the millisecond, never coalesced.
  clock_.run_for(io_, started + 200ms - clock_.now());
  EXPECT_EQ(check(0).state.status(), check_status::pending);
  EXPECT_EQ(log_->cancelled, 0);
  clock_.run_for(io_, 1ms);
  EXPECT_EQ(check(0).state.status(), check_status::fail);
  EXPECT_EQ(check(0).state.failure_output(), "timed out after 200ms");
  EXPECT_EQ(log_->cancelled, 1);
  // The next attempt keeps the cadence from the start of this one.
  clock_.run_for(io_, started + 1s - clock_.now() - 1ms);
  EXPECT_EQ(log_->started, 1);
  clock_.run_for(io_, 120ms);
  EXPECT_EQ(log_->started, 2);
}

TEST_F(check_scheduler_test, an_unchanged_check_keeps_its_checker_and_state_and_reloads_it) {
  scheduler_.apply({fake("a", 1s, 200ms), fake("b", 1s, 200ms)});
  clock_.run_for(io_, 3s);
  const int made = log_->made;
  const auto before = check(0).state.observed_at();
  scheduler_.apply({fake("a", 1s, 200ms), fake("b", 1s, 200ms, /*version=*/2)});
  EXPECT_EQ(log_->made, made + 1) << "only the changed check gets a new checker";
  EXPECT_EQ(log_->reloaded, 1) << "the kept checker reloads (SIGHUP)";
  EXPECT_EQ(check(0).state.observed_at(), before);
  EXPECT_EQ(check(1).state.status(), check_status::pending);
}

TEST_F(check_scheduler_test, a_checker_that_cannot_be_made_fails_every_attempt_saying_why) {
  log_->refuse = "CA file is not PEM";
  scheduler_.apply({fake("a", 1s, 200ms)});
  clock_.run_for(io_, 100ms);
  EXPECT_EQ(check(0).state.status(), check_status::fail);
  EXPECT_EQ(check(0).state.failure_output(), "cannot start the check: CA file is not PEM");
  // A reload tries again.
  log_->refuse.clear();
  scheduler_.apply({fake("a", 1s, 200ms)});
  clock_.run_for(io_, 2s);
  EXPECT_EQ(check(0).state.status(), check_status::pass);
}

TEST_F(check_scheduler_test, nothing_runs_after_stop) {
  scheduler_.apply({fake("a", 1s, 200ms)});
  clock_.run_for(io_, 3s);
  scheduler_.stop();
  const int started = log_->started;
  clock_.run_for(io_, 10s);
  EXPECT_EQ(log_->started, started);
}

TEST_F(check_scheduler_test, a_warning_result_makes_the_service_degraded) {
  log_->next = {check_status::warn, "slow"};
  scheduler_.apply({fake("a", 1s, 200ms)});
  clock_.run_for(io_, 100ms);
  EXPECT_EQ(model_.current().overall, status::degraded);
  EXPECT_EQ(check(0).state.reason(), "slow");
}

// A result goes stale on the model's clock: a scheduler that stops
// delivering cannot leave stale green behind.
TEST_F(check_scheduler_test, a_result_older_than_its_stale_age_counts_as_failing) {
  scheduler_.apply({fake("a", 1s, 200ms)});
  clock_.run_for(io_, 100ms);
  ASSERT_EQ(model_.current().overall, status::ok);
  scheduler_.stop();  // wedged: no more results
  // Stale 2 x interval + timeout = 2.2 s after the result.
  const auto stale_at = check(0).state.stale_at(2200ms);
  clock_.run_for(io_, stale_at - clock_.now());
  EXPECT_EQ(model_.current().overall, status::ok);
  clock_.run_for(io_, 1ms);
  EXPECT_EQ(model_.current().overall, status::down);
  EXPECT_EQ(check(0).state.effective(model_.details()->taken_at, 2200ms), check_status::fail);
}

// ---- ttl: reported results ----

class ttl_schedule : public check_scheduler_test {
 protected:
  check_spec ttl_check(const std::string& name, const std::string& ttl) {
    read_options options;
    options.accept_reports = true;
    return read_check(nlohmann::json{{"name", name}, {"type", "ttl"}, {"ttl", ttl}}, "checks[0]",
                      options);
  }
};

TEST_F(ttl_schedule, no_result_until_the_first_report_then_it_sets_the_state) {
  scheduler_.apply({ttl_check("processor", "30s")});
  clock_.run_for(io_, 10s);
  EXPECT_EQ(check(0).state.status(), check_status::pending);
  EXPECT_FALSE(model_.current().ready);
  EXPECT_EQ(scheduler_.submit("processor", {check_status::warn, "queue is long"}),
            report_outcome::accepted);
  clock_.run_for(io_, 0ms);
  EXPECT_EQ(check(0).state.status(), check_status::warn);
  EXPECT_EQ(check(0).state.reason(), "queue is long");
  EXPECT_TRUE(model_.current().ready);
  EXPECT_EQ(model_.current().overall, status::degraded);
}

TEST_F(ttl_schedule, a_ttl_without_a_report_is_a_failure_and_each_report_restarts_it) {
  scheduler_.apply({ttl_check("processor", "30s")});
  // No report at all: the first ttl's end fails the check.
  clock_.run_for(io_, 30s);
  EXPECT_EQ(check(0).state.status(), check_status::pending);
  clock_.run_for(io_, 2ms);
  EXPECT_EQ(check(0).state.status(), check_status::fail);
  EXPECT_EQ(check(0).state.failure_output(), "no report for 30s");

  ASSERT_EQ(scheduler_.submit("processor", {check_status::pass, "ok"}), report_outcome::accepted);
  clock_.run_for(io_, 0ms);
  EXPECT_EQ(check(0).state.status(), check_status::pass);
  // Reports every 20 s keep it passing however long it runs.
  for (int i = 0; i < 5; ++i) {
    clock_.run_for(io_, 20s);
    ASSERT_EQ(scheduler_.submit("processor", {check_status::pass, "ok"}), report_outcome::accepted);
    clock_.run_for(io_, 0ms);
    EXPECT_EQ(check(0).state.status(), check_status::pass) << "report " << i;
  }
  const auto last = clock_.now();
  clock_.run_for(io_, 30s - 1ms);
  EXPECT_EQ(check(0).state.status(), check_status::pass);
  clock_.run_for(io_, 3ms);
  EXPECT_EQ(check(0).state.status(), check_status::fail);
  EXPECT_EQ(check(0).state.failure_output(), "no report for 30s");
  EXPECT_LE(clock_.now() - last, 30s + 2ms);
}

TEST_F(ttl_schedule, a_report_for_another_name_or_type_is_refused) {
  scheduler_.apply({ttl_check("processor", "30s"), fake("db", 1s, 200ms)});
  EXPECT_EQ(scheduler_.submit("nope", {check_status::pass, ""}), report_outcome::unknown_check);
  EXPECT_EQ(scheduler_.submit("db", {check_status::pass, ""}), report_outcome::not_reported);
}

TEST_F(ttl_schedule, a_reported_state_survives_a_reload_that_leaves_the_check_unchanged) {
  scheduler_.apply({ttl_check("processor", "30s")});
  ASSERT_EQ(scheduler_.submit("processor", {check_status::warn, "lagging"}),
            report_outcome::accepted);
  clock_.run_for(io_, 10s);
  scheduler_.apply({ttl_check("processor", "30s"), fake("db", 1s, 200ms)});
  EXPECT_EQ(check(0).state.status(), check_status::warn);
  EXPECT_EQ(check(0).state.reason(), "lagging");
  // The ttl runs on from the report, not from the reload.
  clock_.run_for(io_, 20s - 1ms);
  EXPECT_EQ(check(0).state.status(), check_status::warn);
  clock_.run_for(io_, 3ms);
  EXPECT_EQ(check(0).state.status(), check_status::fail);
  // A changed ttl is a new check: no result again.
  scheduler_.apply({ttl_check("processor", "60s")});
  EXPECT_EQ(check(0).state.status(), check_status::pending);
}

TEST_F(ttl_schedule, a_report_output_is_cut_to_one_kib) {
  scheduler_.apply({ttl_check("processor", "30s")});
  ASSERT_EQ(scheduler_.submit("processor", {check_status::fail, std::string(5000, 'x')}),
            report_outcome::accepted);
  clock_.run_for(io_, 0ms);
  EXPECT_EQ(check(0).state.failure_output(), std::string(1024, 'x') + "...");
}

}  // namespace
}  // namespace badges_health::health
