// blocking_call: the file and disk checks' system calls run off the
// control thread, so a call that hangs (a dead NFS mount) stalls neither
// the control io_context nor the check's next attempts beyond failing them.
#include "health/blocking_call.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace badges_health::health {
namespace {

using namespace std::chrono_literals;

// Stands in for stat() on a dead mount: returns once the test says so.
std::function<check_result()> hanging_call(std::shared_ptr<std::atomic<bool>> released) {
  return [released] {
    while (!released->load()) std::this_thread::sleep_for(1ms);
    return check_result{check_status::pass, "returned at last"};
  };
}

// Runs `io` until `done` holds or 5 s pass.
template <class Done>
void run_until(boost::asio::io_context& io, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(10ms);
  }
}

TEST(blocking_call, a_hanging_call_leaves_the_control_thread_free) {
  auto released = std::make_shared<std::atomic<bool>>(false);
  boost::asio::io_context control;
  blocking_call call(control.get_executor());

  std::optional<check_result> first;
  call.start(
      hanging_call(released), [&](check_result r) { first = std::move(r); }, "busy");
  // The control thread goes on with its other work (here, a timer) while
  // the call hangs.
  bool timer_fired = false;
  boost::asio::steady_timer timer(control, 50ms);
  timer.async_wait([&](boost::system::error_code) { timer_fired = true; });
  control.run();
  EXPECT_TRUE(timer_fired);
  EXPECT_FALSE(first) << "completed although the call has not returned";

  // When the call returns at last, its result arrives on the control thread.
  released->store(true);
  run_until(control, [&] { return first.has_value(); });
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, check_status::pass);
  EXPECT_EQ(first->output, "returned at last");
}

// The checker keeps its blocking_call across attempts: the attempt after a
// hung (timed-out) one fails at once rather than taking another thread.
TEST(blocking_call, the_next_attempt_fails_at_once_while_a_call_hangs) {
  auto released = std::make_shared<std::atomic<bool>>(false);
  boost::asio::io_context control;
  blocking_call call(control.get_executor());
  bool first_done = false;
  call.start(
      hanging_call(released), [&](check_result) { first_done = true; }, "busy");
  call.cancel();  // the scheduler's timeout

  std::optional<check_result> second;
  call.start(
      hanging_call(released), [&](check_result r) { second = std::move(r); },
      "the previous check of /mnt/dead has not returned yet");
  run_until(control, [&] { return second.has_value(); });
  ASSERT_TRUE(second) << "the second attempt queued behind the hung call";
  EXPECT_EQ(second->status, check_status::fail);
  EXPECT_EQ(second->output, "the previous check of /mnt/dead has not returned yet");

  // Another check's call is not held up by it.
  blocking_call other(control.get_executor());
  std::optional<check_result> third;
  other.start(
      [] {
        return check_result{check_status::pass, "fine"};
      },
      [&](check_result r) { third = std::move(r); }, "busy");
  run_until(control, [&] { return third.has_value(); });
  ASSERT_TRUE(third);
  EXPECT_EQ(third->status, check_status::pass);

  // Once the hung call returns, its late result goes nowhere (its attempt
  // was cancelled) and the check runs again.
  released->store(true);
  std::optional<check_result> fourth;
  for (int i = 0; i < 500 && !(fourth && fourth->status == check_status::pass); ++i) {
    if (i > 0) std::this_thread::sleep_for(10ms);
    fourth.reset();
    call.start(
        [] {
          return check_result{check_status::pass, "again"};
        },
        [&](check_result r) { fourth = std::move(r); }, "busy");
    run_until(control, [&] { return fourth.has_value(); });
  }
  ASSERT_TRUE(fourth);
  EXPECT_EQ(fourth->output, "again");
  EXPECT_FALSE(first_done) << "a cancelled attempt's late result was delivered";
}

TEST(blocking_call, a_call_that_returns_after_its_owner_is_gone_posts_nothing) {
  auto released = std::make_shared<std::atomic<bool>>(false);
  auto control = std::make_unique<boost::asio::io_context>();
  auto call = std::make_unique<blocking_call>(control->get_executor());
  auto returned = std::make_shared<std::atomic<bool>>(false);
  bool completed = false;
  call->start(
      [released, returned] {
        while (!released->load()) std::this_thread::sleep_for(1ms);
        returned->store(true);
        return check_result{check_status::pass, "late"};
      },
      [&](check_result) { completed = true; }, "busy");
  // The scheduler stops: the checker, then the control io_context, go away
  // while the call still hangs; its late return must touch neither.
  call.reset();
  control.reset();
  released->store(true);
  while (!returned->load()) std::this_thread::sleep_for(1ms);
  std::this_thread::sleep_for(20ms);
  EXPECT_FALSE(completed);
}

}  // namespace
}  // namespace badges_health::health
