// health_model's per-check updates: the aggregate follows each result,
// staleness is judged when read, and concurrent readers never see a torn
// state (run under ThreadSanitizer too).
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "badges_health/health/health_model.hpp"

namespace badges_health::health {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

std::shared_ptr<const check_spec> make_spec(const std::string& name, bool critical,
                                            std::chrono::milliseconds interval = 1h) {
  auto spec = std::make_shared<check_spec>();
  spec->name = name;
  spec->critical = critical;
  spec->interval = interval;
  spec->timeout = 100ms;
  return spec;
}

check_state result(check_status status, steady::time_point at, const std::string& output = "x",
                   std::chrono::microseconds took = 0us) {
  check_state st(at);
  st.apply({status, output}, 1, 1, at, std::chrono::system_clock::now(), took);
  return st;
}

check_state result(bool pass, steady::time_point at, const std::string& output = "x",
                   std::chrono::microseconds took = 0us) {
  return result(pass ? check_status::pass : check_status::fail, at, output, took);
}

class health_model_updates : public ::testing::Test {
 protected:
  // Publishes pending checks, as the scheduler does at start-up.
  void start(std::vector<std::shared_ptr<const check_spec>> specs) {
    std::vector<check_snapshot> checks;
    for (auto& s : specs) checks.push_back({std::move(s), check_state(now_)});
    model_.publish(make_snapshot(std::move(checks), now_));
  }

  steady::time_point now_ = steady::now();
  health_model model_;
};

TEST_F(health_model_updates, pending_checks_are_not_ready_until_each_has_a_result) {
  start({make_spec("a", true), make_spec("b", true)});
  EXPECT_FALSE(model_.current().ready);
  EXPECT_FALSE(model_.update(0, result(true, now_)).ready);
  const summary s = model_.update(1, result(true, now_));
  EXPECT_TRUE(s.ready);
  EXPECT_EQ(model_.current().overall, status::ok);
  EXPECT_TRUE(model_.current().ready);
}

TEST_F(health_model_updates, critical_failure_is_down_until_it_passes_again) {
  start({make_spec("a", true), make_spec("b", false)});
  model_.update(1, result(true, now_));
  EXPECT_EQ(model_.update(0, result(false, now_)).overall, status::down);
  EXPECT_EQ(model_.current().overall, status::down);
  EXPECT_EQ(model_.update(0, result(true, now_)).overall, status::ok);
  EXPECT_EQ(model_.current().overall, status::ok);
}

TEST_F(health_model_updates, non_critical_failure_is_degraded) {
  start({make_spec("a", true), make_spec("b", false)});
  model_.update(0, result(true, now_));
  EXPECT_EQ(model_.update(1, result(false, now_)).overall, status::degraded);
  EXPECT_EQ(model_.current().overall, status::degraded);
}

TEST_F(health_model_updates, a_warning_is_degraded_until_it_passes_again) {
  start({make_spec("a", true), make_spec("b", true)});
  model_.update(1, result(true, now_));
  EXPECT_EQ(model_.update(0, result(check_status::warn, now_)).overall, status::degraded);
  EXPECT_EQ(model_.current().overall, status::degraded);
  EXPECT_TRUE(model_.current().ready);
  // A critical failure elsewhere is down; once it passes, degraded again.
  EXPECT_EQ(model_.update(1, result(false, now_)).overall, status::down);
  EXPECT_EQ(model_.update(1, result(true, now_)).overall, status::degraded);
  EXPECT_EQ(model_.update(0, result(true, now_)).overall, status::ok);
}

TEST_F(health_model_updates, a_check_that_stops_reporting_goes_stale_when_read) {
  // b last reported long ago; a reports now. No further publication is
  // needed for the read to count b as failing.
  start({make_spec("a", true, 1s), make_spec("b", true, 1s)});
  model_.update(0, result(true, now_));
  EXPECT_EQ(model_.update(1, result(true, now_ - 1h)).overall, status::down);
  EXPECT_EQ(model_.current().overall, status::down);
  model_.update(1, result(true, steady::now()));
  EXPECT_EQ(model_.current().overall, status::ok);
}

TEST_F(health_model_updates, details_show_the_latest_result_of_each_check) {
  start({make_spec("a", true), make_spec("b", false)});
  model_.update(1, result(false, now_, "refused"));
  const auto snap = model_.details();
  ASSERT_NE(snap, nullptr);
  ASSERT_EQ(snap->checks.size(), 2u);
  EXPECT_EQ(snap->checks[0].spec->name, "a");
  EXPECT_FALSE(snap->checks[0].state.has_result());
  EXPECT_EQ(snap->checks[1].state.status(), check_status::fail);
  EXPECT_EQ(snap->checks[1].state.failure_output(), "refused");
  EXPECT_EQ(snap->base.overall, status::degraded);
  EXPECT_FALSE(snap->base.ready);
}

TEST_F(health_model_updates, a_reload_replaces_the_checks) {
  start({make_spec("a", true)});
  model_.update(0, result(false, now_));
  start({make_spec("b", true), make_spec("c", false)});
  const auto snap = model_.details();
  ASSERT_EQ(snap->checks.size(), 2u);
  EXPECT_EQ(snap->checks[0].spec->name, "b");
  EXPECT_EQ(model_.current().overall, status::ok);
  EXPECT_EQ(model_.update(1, result(false, now_)).overall, status::degraded);
}

// One writer publishes states whose parts agree with each other; readers
// check every summary and every record they see. A summary is built from
// one publication or none: with one critical check alternating between
// "pending" (ok, not ready) and "failing" (down, ready), a torn read would
// show ok and ready, or down and not ready. A record carries its sequence
// number in both its output and its duration, and passes on even numbers.
TEST(health_model_concurrency, readers_never_see_a_torn_update) {
  constexpr std::size_t checks = 8;
  constexpr std::int64_t updates = 20'000;
  health_model model;
  const auto t0 = steady::now();
  {
    std::vector<check_snapshot> list;
    list.push_back({make_spec("flip", true), check_state(t0)});
    for (std::size_t i = 1; i < checks; ++i) {
      list.push_back({make_spec("c" + std::to_string(i), false), result(true, t0, "0")});
    }
    model.publish(make_snapshot(std::move(list), t0));
  }

  std::atomic<bool> done{false};
  std::atomic<int> started{0};
  std::atomic<std::uint64_t> summaries{0};
  std::atomic<std::uint64_t> records{0};
  const auto read_summaries = [&] {
    std::uint64_t seen = 0;
    ++started;
    while (!done.load(std::memory_order_acquire)) {
      const summary s = model.current();
      ASSERT_EQ(s.overall == status::down, s.ready) << "torn summary";
      ++seen;
    }
    summaries += seen;
  };
  const auto read_details = [&] {
    std::uint64_t seen = 0;
    ++started;
    while (!done.load(std::memory_order_acquire)) {
      const auto snap = model.details();
      ASSERT_NE(snap, nullptr);
      ASSERT_EQ(snap->checks.size(), checks);
      const auto& flip = snap->checks[0].state;
      ASSERT_EQ(snap->base.overall == status::down, snap->base.ready) << "torn snapshot";
      ASSERT_EQ(flip.status() == check_status::fail, flip.has_result());
      for (std::size_t i = 1; i < checks; ++i) {
        const auto& st = snap->checks[i].state;
        const auto n = st.duration().count();
        ASSERT_EQ(st.last_output(), std::to_string(n)) << "torn record";
        ASSERT_EQ(st.status() == check_status::pass, n % 2 == 0) << "torn record";
        if (n % 2 != 0) {
          ASSERT_EQ(st.failure_output(), st.last_output()) << "torn record";
        }
        ++seen;
      }
    }
    records += seen;
  };
  std::vector<std::thread> readers;
  readers.emplace_back(read_summaries);
  readers.emplace_back(read_summaries);
  readers.emplace_back(read_details);
  readers.emplace_back(read_details);
  // On a loaded machine the updates could all be over before a reader ran.
  while (started.load() < 4) std::this_thread::yield();

  for (std::int64_t n = 1; n <= updates; ++n) {
    const auto now = steady::now();
    if (n % 2 == 0) {
      model.update(0, n % 4 == 0 ? check_state(now) : result(false, now));
    }
    const auto i = static_cast<std::size_t>(n) % (checks - 1) + 1;
    model.update(i, result(n % 2 == 0, now, std::to_string(n), std::chrono::microseconds{n}));
  }
  done.store(true, std::memory_order_release);
  for (auto& t : readers) t.join();
  EXPECT_GT(summaries.load(), 0u);
  EXPECT_GT(records.load(), 0u);
}

}  // namespace
}  // namespace badges_health::health
