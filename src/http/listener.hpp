// Accepts connections on one worker's thread with Asio's async_accept.
// Every worker has its own acceptor on the same port (SO_REUSEPORT), so the
// kernel spreads connections and no cross-thread hand-off is needed.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>

#include "connection_context.hpp"

namespace badges_health::http {

class listener : public std::enable_shared_from_this<listener> {
 public:
  /// `acceptor` must be bound and listening.
  listener(boost::asio::ip::tcp::acceptor acceptor, connection_context& ctx);

  void start() { do_accept(); }
  /// Stops accepting and closes the listening socket. Runs on the worker's
  /// thread.
  void stop();

 private:
  void do_accept();
  void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);
  /// Out of descriptors or memory: wait, doubling up to a second, instead
  /// of spinning on the same error.
  void back_off(boost::system::error_code ec);
  /// Over the connection cap: a best-effort 503, then close.
  static void refuse(boost::asio::ip::tcp::socket& socket);

  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer backoff_timer_;
  std::chrono::milliseconds backoff_{0};
  connection_context& ctx_;
  bool stopped_ = false;
};

}  // namespace badges_health::http
