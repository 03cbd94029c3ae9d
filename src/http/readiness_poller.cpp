// The worker's epoll instance: registration by token, and one batch of events
// dispatched each time Asio reports the instance readable.
#include "badges_health/http/readiness_poller.hpp"

#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <system_error>
#include <utility>

namespace badges_health::http {

namespace asio = boost::asio;

namespace {

int create_epoll() {
  const int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  return fd;
}

constexpr std::uint64_t make_token(std::uint32_t index, std::uint32_t generation) {
  return (static_cast<std::uint64_t>(generation) << 32) | index;
}

}  // namespace

readiness_poller::readiness_poller(asio::io_context& ioc) : epoll_(ioc, create_epoll()) {}

std::uint64_t readiness_poller::add(int fd, std::uint32_t events, std::shared_ptr<target> owner) {
  std::uint32_t index = 0;
  if (free_.empty()) {
    index = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  } else {
    index = free_.back();
    free_.pop_back();
  }
  slot& s = slots_[index];
  const std::uint64_t token = make_token(index, s.generation);
  if (!control(EPOLL_CTL_ADD, fd, token, events)) {
    free_.push_back(index);
    return 0;
  }
  s.owner = std::move(owner);
  return token;
}

bool readiness_poller::modify(int fd, std::uint64_t token, std::uint32_t events) noexcept {
  return control(EPOLL_CTL_MOD, fd, token, events);
}

bool readiness_poller::control(int op, int fd, std::uint64_t token, std::uint32_t events) noexcept {
  epoll_event ev{};
  ev.events = events | EPOLLET;
  ev.data.u64 = token;
  return ::epoll_ctl(epoll_.native_handle(), op, fd, &ev) == 0;
}

void readiness_poller::remove(std::uint64_t token) noexcept {
  const auto index = static_cast<std::uint32_t>(token);
  if (index >= slots_.size() || slots_[index].generation != (token >> 32)) return;
  slot& s = slots_[index];
  ++s.generation;
  if (s.generation == 0) s.generation = 1;  // 0 would make a token equal to "refused"
  free_.push_back(index);
  // Last: this may destroy the target, whose remove() call is returning.
  auto released = std::move(s.owner);
}

void readiness_poller::close_and_remove(int& fd, std::uint64_t& token) noexcept {
  const int closing = std::exchange(fd, -1);
  const std::uint64_t leaving = std::exchange(token, 0);
  if (closing >= 0) ::close(closing);
  if (leaving != 0) remove(leaving);  // may destroy the owner of fd and token
}

void readiness_poller::start() { wait(); }

void readiness_poller::stop() {
  stopped_ = true;
  boost::system::error_code ignored;
  epoll_.close(ignored);
}

void readiness_poller::wait() {
  epoll_.async_wait(asio::posix::stream_descriptor::wait_read,
                    [this](boost::system::error_code ec) {
                      if (!ec && !stopped_) drain();
                    });
}

void readiness_poller::drain() {
  const bool full = dispatch();
  if (stopped_) return;
  if (!full) return wait();
  // A full batch may have left events behind: fetch them after the handlers
  // queued meanwhile, without waiting for the instance to signal again.
  asio::post(epoll_.get_executor(), [this] {
    if (!stopped_) drain();
  });
}

bool readiness_poller::dispatch() {
  // Not waiting: Asio said the instance is readable (or a full batch came
  // before).
  int n = 0;
  do {
    n = ::epoll_wait(epoll_.native_handle(), events_.data(), static_cast<int>(events_.size()), 0);
  } while (n < 0 && errno == EINTR);
  for (int i = 0; i < n; ++i) {
    const std::uint64_t token = events_[i].data.u64;
    const auto index = static_cast<std::uint32_t>(token);
    if (index >= slots_.size()) continue;
    const slot& s = slots_[index];
    if (s.generation != (token >> 32) || !s.owner) continue;
    // A copy: the target may remove itself (and the slot vector may grow)
    // during the call.
    const std::shared_ptr<target> owner = s.owner;
    owner->on_ready(events_[i].events);
  }
  return n == static_cast<int>(events_.size());
}

}  // namespace badges_health::http
