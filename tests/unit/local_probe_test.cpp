// Unit tests for local_probe: the file and disk checks' system calls run
// off the control thread, so a call that hangs (a dead NFS mount) stalls
// neither the control io_context nor, beyond one thread, the pool.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "health/local_probes.hpp"

namespace badges_health::health {
namespace {

using namespace std::chrono_literals;

std::atomic<bool> released{false};

// Stands in for stat() on a dead mount: returns once the test says so.
probe_result hanging_call(const check_spec&) {
  while (!released.load()) std::this_thread::sleep_for(1ms);
  return {true, "returned at last"};
}

// A check of a file on a mount that does not answer.
check_spec dead_mount(const std::string& name, const std::string& path) {
  check_spec spec;
  spec.name = name;
  spec.path = path;
  return spec;
}

TEST(local_probe, a_hanging_call_leaves_the_control_thread_free) {
  released = false;
  boost::asio::io_context control;
  const check_spec spec = dead_mount("nfs", "/mnt/dead");
  auto probe = std::make_shared<local_probe>(spec, &hanging_call, control.get_executor());

  std::optional<probe_result> first;
  probe->start([&](probe_result r) { first = std::move(r); });
  // The control thread goes on with its other work (here, a timer) while
  // the call hangs.
  bool timer_fired = false;
  boost::asio::steady_timer timer(control, 50ms);
  timer.async_wait([&](boost::system::error_code) { timer_fired = true; });
  control.run();
  EXPECT_TRUE(timer_fired);
  EXPECT_FALSE(first) << "completed although the call has not returned";

  // The next attempt does not queue behind the hanging one: it fails now.
  std::optional<probe_result> second;
  probe->start([&](probe_result r) { second = std::move(r); });
  control.restart();
  control.run();
  ASSERT_TRUE(second);
  EXPECT_FALSE(second->pass);
  EXPECT_NE(second->output.find("has not returned yet"), std::string::npos) << second->output;

  // When the call returns at last, its result arrives on the control thread.
  released = true;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!first && std::chrono::steady_clock::now() < deadline) {
    control.restart();
    control.run_for(10ms);
  }
  ASSERT_TRUE(first);
  EXPECT_TRUE(first->pass);
  EXPECT_EQ(first->output, "returned at last");
}

// The scheduler builds a new probe for every attempt: the next probe of the
// same check must still see the hung call, or each attempt would take
// another pool thread until none is left for the other checks.
TEST(local_probe, a_new_probe_of_the_same_check_sees_the_hung_call) {
  released = false;
  boost::asio::io_context control;
  const check_spec spec = dead_mount("nfs", "/mnt/dead-shared");
  auto first = std::make_shared<local_probe>(spec, &hanging_call, control.get_executor());
  bool first_done = false;
  first->start([&](probe_result) { first_done = true; });
  first->cancel();  // timed out
  first.reset();    // and dropped, as the scheduler does

  auto second = std::make_shared<local_probe>(spec, &hanging_call, control.get_executor());
  std::optional<probe_result> r;
  second->start([&](probe_result res) { r = std::move(res); });
  control.run_for(200ms);
  ASSERT_TRUE(r) << "the second attempt queued behind the hung call";
  EXPECT_FALSE(r->pass);
  EXPECT_NE(r->output.find("has not returned yet"), std::string::npos) << r->output;

  // Another check is not held up by it.
  const check_spec other = dead_mount("other", "/mnt/other");
  released = true;  // let the hung call (and this one) return
  auto third = std::make_shared<local_probe>(other, &hanging_call, control.get_executor());
  std::optional<probe_result> r3;
  third->start([&](probe_result res) { r3 = std::move(res); });
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!r3 && std::chrono::steady_clock::now() < deadline) {
    control.restart();
    control.run_for(10ms);
  }
  ASSERT_TRUE(r3);
  EXPECT_TRUE(r3->pass);
  EXPECT_FALSE(first_done) << "a dropped probe's late result was delivered";
}

TEST(local_probe, a_call_that_returns_after_the_probe_is_gone_posts_nothing) {
  released = false;
  auto control = std::make_unique<boost::asio::io_context>();
  const check_spec spec = dead_mount("", "/mnt/dead");
  auto probe = std::make_shared<local_probe>(spec, &hanging_call, control->get_executor());
  bool completed = false;
  probe->start([&](probe_result) { completed = true; });
  // The scheduler stops: the probe, then the control io_context, go away
  // while the call still hangs; its late return must touch neither.
  probe.reset();
  control.reset();
  released = true;
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(completed);
}

}  // namespace
}  // namespace badges_health::health
