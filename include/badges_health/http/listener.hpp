// Accepts connections on one worker's thread. Every worker has its own
// acceptor on the same port (SO_REUSEPORT), so the kernel spreads
// connections and no cross-thread hand-off is needed. The listening socket
// is registered with the worker's readiness_poller, like its connections.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>

#include "badges_health/http/connection_context.hpp"
#include "badges_health/http/readiness_poller.hpp"

namespace badges_health::http {

class listener : public readiness_poller::target, public std::enable_shared_from_this<listener> {
 public:
  /// Takes over the acceptor's socket, which must be bound and listening.
  /// Throws std::system_error when it cannot be made non-blocking.
  listener(boost::asio::ip::tcp::acceptor&& acceptor, connection_context& ctx);
  ~listener() override;
  listener(const listener&) = delete;
  listener& operator=(const listener&) = delete;

  /// Registers with the worker's poller; throws std::system_error when the
  /// kernel refuses.
  void start();
  /// Stops accepting and closes the socket. Runs on the worker's thread.
  void stop();

  void on_ready(std::uint32_t events) override;

 private:
  /// Accepts what is waiting, a bounded number per turn.
  void accept_some();
  void back_off(int err);
  static void refuse(int fd);

  int fd_;
  std::uint64_t token_ = 0;
  boost::asio::steady_timer backoff_timer_;
  std::chrono::milliseconds backoff_{0};
  connection_context& ctx_;
  bool stopped_ = false;
  bool backing_off_ = false;
};

}  // namespace badges_health::http
