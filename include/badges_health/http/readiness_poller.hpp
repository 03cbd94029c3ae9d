// Edge-triggered readiness for one worker's connections and acceptor, kept in
// an epoll instance of our own that the worker's io_context waits on as one
// descriptor. A descriptor is registered once for its whole life, as nginx
// does, so going back to waiting for a client's next request costs no system
// call; Asio's own reactor re-arms a descriptor (epoll_ctl) for every wait.
#pragma once

#include <sys/epoll.h>

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstdint>
#include <memory>
#include <vector>

namespace badges_health::http {

class readiness_poller {
 public:
  /// What a registered descriptor reports to.
  class target {
   public:
    virtual ~target() = default;
    /// The descriptor's epoll events. Runs on the worker's thread; the
    /// poller holds the target alive for the call.
    virtual void on_ready(std::uint32_t events) = 0;

   protected:
    target() = default;
    target(const target&) = default;
    target& operator=(const target&) = default;
  };

  /// Creates the epoll instance; throws std::system_error when it cannot.
  explicit readiness_poller(boost::asio::io_context& ioc);
  readiness_poller(const readiness_poller&) = delete;
  readiness_poller& operator=(const readiness_poller&) = delete;

  /// Registers `fd` for `events` (edge-triggered) and keeps `owner` alive
  /// until remove(). Returns a token for remove(), or 0 with errno set when
  /// the kernel refuses (out of memory, or of epoll watches).
  std::uint64_t add(int fd, std::uint32_t events, std::shared_ptr<target> owner);
  /// Changes the events `fd` (registered under `token`) is watched for; an
  /// event already due under the new set is reported. False with errno set
  /// when the kernel refuses.
  bool modify(int fd, std::uint64_t token, std::uint32_t events) noexcept;
  /// Forgets a registration and drops the poller's hold on its target, which
  /// may destroy it: call it last, after closing the descriptor. Events
  /// already fetched for it are dropped.
  void remove(std::uint64_t token) noexcept;
  /// What a target does to leave: closes `fd` (which takes it out of the
  /// epoll instance), then remove()s `token`. Both are reset first, since
  /// they usually belong to the target that remove() may destroy.
  void close_and_remove(int& fd, std::uint64_t& token) noexcept;

  void start();
  /// Stops waiting; once nothing else is pending the io_context can return.
  void stop();

 private:
  /// epoll_ctl with a token and edge-triggered `events`; false with errno
  /// set when the kernel refuses.
  bool control(int op, int fd, std::uint64_t token, std::uint32_t events) noexcept;
  void wait();
  /// Dispatches one batch, then waits again or, after a full batch, comes
  /// back for the rest.
  void drain();
  /// One batch of events to their targets; true when the batch was full.
  bool dispatch();

  struct slot {
    std::shared_ptr<target> owner;
    // Bumped on every remove, so that a token, and an event carrying it,
    // never reaches the slot's next owner.
    std::uint32_t generation = 1;
  };

  boost::asio::posix::stream_descriptor epoll_;
  std::vector<slot> slots_;
  std::vector<std::uint32_t> free_;
  std::array<epoll_event, 256> events_{};
  bool stopped_ = false;
};

}  // namespace badges_health::http
