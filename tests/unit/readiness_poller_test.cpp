// The worker's epoll registrations: events reach the registered target, a
// removed registration gets nothing more (not even an event fetched in the
// same batch), and its slot's next owner never sees the old owner's events.
#include "badges_health/http/readiness_poller.hpp"

#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace badges_health::http {
namespace {

struct counting_target : readiness_poller::target {
  std::function<void()> on_event;
  int events = 0;
  void on_ready(std::uint32_t) override {
    ++events;
    if (on_event) on_event();
  }
};

// An eventfd that is readable (or not) on demand, closed at the end.
struct event_fd {
  explicit event_fd(bool readable) : fd(::eventfd(readable ? 1 : 0, EFD_NONBLOCK)) {}
  ~event_fd() {
    if (fd >= 0) ::close(fd);
  }
  event_fd(const event_fd&) = delete;
  event_fd& operator=(const event_fd&) = delete;
  void signal() const {
    const std::uint64_t one = 1;
    ASSERT_EQ(::write(fd, &one, sizeof one), static_cast<ssize_t>(sizeof one));
  }
  int fd;
};

class ReadinessPoller : public ::testing::Test {
 protected:
  ReadinessPoller() { poller_.start(); }
  // Runs what is ready without blocking: the poller's batch included.
  void run_ready() {
    ioc_.restart();
    ioc_.poll();
  }

  boost::asio::io_context ioc_{1};
  readiness_poller poller_{ioc_};
};

TEST_F(ReadinessPoller, AReadableDescriptorReachesItsTargetOnceForOneArrival) {
  event_fd fd(false);
  auto target = std::make_shared<counting_target>();
  ASSERT_NE(poller_.add(fd.fd, EPOLLIN, target), 0U);
  run_ready();
  EXPECT_EQ(target->events, 0);

  fd.signal();
  run_ready();
  EXPECT_EQ(target->events, 1);
  // Edge-triggered: nothing new arrived, so nothing more is reported even
  // though the descriptor is still readable.
  run_ready();
  EXPECT_EQ(target->events, 1);
  fd.signal();
  run_ready();
  EXPECT_EQ(target->events, 2);
}

TEST_F(ReadinessPoller, MoreReadyDescriptorsThanOneBatchHoldAllReachTheirTargets) {
  // More than the 256 events one epoll_wait fetches, all ready at once.
  constexpr int count = 600;
  std::vector<std::unique_ptr<event_fd>> fds;
  std::vector<std::shared_ptr<counting_target>> targets;
  for (int i = 0; i < count; ++i) {
    fds.push_back(std::make_unique<event_fd>(true));
    targets.push_back(std::make_shared<counting_target>());
    ASSERT_NE(poller_.add(fds.back()->fd, EPOLLIN, targets.back()), 0U);
  }
  // Each poll() runs what is ready now; a later batch may need another.
  for (int pass = 0; pass < 8; ++pass) run_ready();
  int reached = 0;
  for (const auto& t : targets) {
    EXPECT_EQ(t->events, 1);
    reached += t->events;
  }
  EXPECT_EQ(reached, count);
}

TEST_F(ReadinessPoller, RemoveDropsThePollersHoldOnTheTarget) {
  event_fd fd(false);
  auto target = std::make_shared<counting_target>();
  const std::weak_ptr<counting_target> watch = target;
  const auto token = poller_.add(fd.fd, EPOLLIN, std::move(target));
  ASSERT_NE(token, 0U);
  EXPECT_FALSE(watch.expired());
  poller_.remove(token);
  EXPECT_TRUE(watch.expired());
  poller_.remove(token);  // a stale token is ignored
}

TEST_F(ReadinessPoller, AnEventFetchedForARemovedTargetReachesNeitherItNorTheSlotsNextOwner) {
  // Both descriptors are readable, so one batch fetches both events. The
  // first target called closes the other's descriptor and removes it, then
  // registers a new, idle descriptor that reuses the freed slot.
  auto a = std::make_unique<event_fd>(true);
  auto b = std::make_unique<event_fd>(true);
  event_fd idle(false);
  auto ta = std::make_shared<counting_target>();
  auto tb = std::make_shared<counting_target>();
  auto newcomer = std::make_shared<counting_target>();
  std::uint64_t token_a = 0;
  std::uint64_t token_b = 0;
  std::uint64_t token_new = 0;
  const auto swap_out = [&](std::unique_ptr<event_fd>& other, std::uint64_t other_token) {
    other.reset();
    poller_.remove(other_token);
    token_new = poller_.add(idle.fd, EPOLLIN, newcomer);
  };
  ta->on_event = [&] {
    if (token_new == 0) swap_out(b, token_b);
  };
  tb->on_event = [&] {
    if (token_new == 0) swap_out(a, token_a);
  };
  token_a = poller_.add(a->fd, EPOLLIN, ta);
  token_b = poller_.add(b->fd, EPOLLIN, tb);
  ASSERT_NE(token_a, 0U);
  ASSERT_NE(token_b, 0U);

  run_ready();
  run_ready();

  ASSERT_NE(token_new, 0U);
  EXPECT_EQ(ta->events + tb->events, 1) << "the removed target was called";
  EXPECT_EQ(newcomer->events, 0) << "the slot's next owner got its predecessor's event";
  // The slot was reused, under a token the old one does not match.
  EXPECT_NE(token_new, token_a);
  EXPECT_NE(token_new, token_b);
  EXPECT_TRUE((token_new & 0xffffffffU) == (token_a & 0xffffffffU) ||
              (token_new & 0xffffffffU) == (token_b & 0xffffffffU));
}

TEST_F(ReadinessPoller, AddOfAnInvalidDescriptorFailsWithoutKeepingTheTarget) {
  auto target = std::make_shared<counting_target>();
  const std::weak_ptr<counting_target> watch = target;
  EXPECT_EQ(poller_.add(-1, EPOLLIN, std::move(target)), 0U);
  EXPECT_TRUE(watch.expired());
}

}  // namespace
}  // namespace badges_health::http
