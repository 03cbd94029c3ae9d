// event_feed: the events a change of the health model makes, who gets the
// check events, the ring a stream reads from its cursor (a fresh state when
// it fell behind), and batches bounded by size.
#include "badges_health/app/event_feed.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "badges_health/health/health_model.hpp"
#include "badges_health/health/health_snapshot.hpp"

namespace badges_health::app::event_feed_tests {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;
using steady = std::chrono::steady_clock;

std::shared_ptr<const health::check_spec> spec(const std::string& name) {
  auto s = std::make_shared<health::check_spec>();
  s->name = name;
  s->critical = true;
  s->interval = 1h;
  s->timeout = 100ms;
  return s;
}

class event_feed_test : public ::testing::Test {
 protected:
  void SetUp() override {
    model_.on_change([this] { feed_.update(); });
  }

  void publish(const std::vector<std::string>& names) {
    std::vector<health::check_snapshot> checks;
    for (const auto& n : names) checks.push_back({spec(n), health::check_state(now_)});
    model_.publish(health::make_snapshot(std::move(checks), now_));
  }

  void report(std::size_t index, health::check_status status, const std::string& output) {
    health::check_state st(now_);
    st.apply({status, output}, 1, 1, now_, std::chrono::system_clock::now(), 0us);
    model_.update(index, st);
  }

  steady::time_point now_ = steady::now();
  health::health_model model_;
  event_feed feed_{model_};
};

TEST_F(event_feed_test, a_failing_check_makes_a_status_event_and_a_check_event) {
  publish({"db"});
  report(0, health::check_status::pass, "fine");
  std::string state;
  const auto cursor = feed_.snapshot(true, state);
  EXPECT_THAT(state, HasSubstr("event: state\n"));
  EXPECT_THAT(state, HasSubstr(R"("checks":{"db":{"status":"pass"}})"));

  report(0, health::check_status::fail, "refused");
  std::string with_checks;
  const auto after = feed_.since(cursor, true, with_checks, 1 << 20);
  EXPECT_EQ(after, cursor + 2);
  EXPECT_THAT(with_checks, HasSubstr(R"(event: status
data: {"status":"down","from":"ok","to":"down","reason":"critical check failing: db",)"));
  EXPECT_THAT(with_checks, HasSubstr(R"(event: check
data: {"status":"down","check":"db","from":"pass","to":"fail","reason":"refused",)"));

  std::string status_only;
  EXPECT_EQ(feed_.since(cursor, false, status_only, 1 << 20), cursor + 2);
  EXPECT_THAT(status_only, HasSubstr("event: status\n"));
  EXPECT_THAT(status_only, Not(HasSubstr("event: check")));
  std::string anonymous_state;
  feed_.snapshot(false, anonymous_state);
  EXPECT_THAT(anonymous_state, Not(HasSubstr("checks")));

  std::string nothing;
  EXPECT_EQ(feed_.since(after, true, nothing, 1 << 20), after);
  EXPECT_EQ(nothing, "");
}

TEST_F(event_feed_test, reads_stop_at_the_batch_size) {
  publish({"db"});
  std::string state;
  const auto cursor = feed_.snapshot(true, state);
  report(0, health::check_status::fail, "refused");  // a status and a check event
  std::string one;
  EXPECT_EQ(feed_.since(cursor, true, one, 1), cursor + 1);
  EXPECT_THAT(one, HasSubstr("event: status"));
  EXPECT_THAT(one, Not(HasSubstr("event: check")));
}

TEST_F(event_feed_test, a_stream_behind_the_ring_gets_the_state_again) {
  publish({"db"});
  std::string state;
  const auto cursor = feed_.snapshot(true, state);
  for (std::size_t i = 0; i < event_feed::ring_size; ++i) {
    report(0, i % 2 == 0 ? health::check_status::fail : health::check_status::pass, "x");
  }
  std::string out;
  const auto after = feed_.since(cursor, true, out, 1 << 20);
  EXPECT_GT(after, cursor + event_feed::ring_size);
  EXPECT_THAT(out, HasSubstr("event: state\n"));
  EXPECT_THAT(out, Not(HasSubstr("event: check")));
}

TEST_F(event_feed_test, checks_that_appear_or_leave_move_from_or_to_null) {
  publish({"db"});
  std::string state;
  const auto cursor = feed_.snapshot(true, state);
  publish({"cache"});
  std::string out;
  feed_.since(cursor, true, out, 1 << 20);
  EXPECT_THAT(out, HasSubstr(R"("check":"cache","from":null,"to":"pending")"));
  EXPECT_THAT(out, HasSubstr(R"("check":"db","from":"pending","to":null)"));
}

TEST_F(event_feed_test, draining_is_a_status_event_to_down) {
  publish({"db"});
  report(0, health::check_status::pass, "fine");
  std::string state;
  const auto cursor = feed_.snapshot(false, state);
  model_.set_draining();
  std::string out;
  feed_.since(cursor, false, out, 1 << 20);
  EXPECT_THAT(out, HasSubstr(R"("status":"down","from":"ok","to":"down","reason":"draining)"));
}

}  // namespace
}  // namespace badges_health::app::event_feed_tests
