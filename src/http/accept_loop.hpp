// The one accept loop of every listener (the HTTP port on each worker, the
// agent port): Asio waits until the listening socket has a connection, one
// accept4 takes it already non-blocking and close-on-exec, the handler gets
// the descriptor, and the loop waits again. The wait re-arms the socket in
// epoll, which reports it again at once while more connections are queued,
// so one arrival costs one accept call and none that fails (Asio's own
// async_accept tries a second accept that fails with EAGAIN, and makes the
// socket non-blocking with a separate ioctl). Out of descriptors or memory,
// the loop backs off (10 ms, doubling to 1 s) instead of spinning.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace badges_health::http {

/// A descriptor just accepted: owned, closed unless released.
class accepted_fd {
 public:
  accepted_fd(int fd, boost::asio::ip::tcp::endpoint peer) noexcept : fd_(fd), peer_(peer) {}
  accepted_fd(accepted_fd&& o) noexcept : fd_(o.release()), peer_(o.peer_) {}
  accepted_fd& operator=(accepted_fd&&) = delete;
  accepted_fd(const accepted_fd&) = delete;
  ~accepted_fd();

  int get() const noexcept { return fd_; }
  /// The client's address and port, as accept4 gave them.
  const boost::asio::ip::tcp::endpoint& peer() const noexcept { return peer_; }
  int release() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  /// Moves the descriptor into an Asio socket (which registers it with the
  /// reactor), tells Asio it is non-blocking and fixes its send buffer.
  boost::system::error_code assign_to(boost::asio::ip::tcp::socket& socket,
                                      const boost::asio::ip::tcp& protocol) noexcept;

 private:
  int fd_;
  boost::asio::ip::tcp::endpoint peer_;
};

class accept_loop : public std::enable_shared_from_this<accept_loop> {
 public:
  /// Called for every connection accepted, on the acceptor's executor.
  using handler = std::function<void(accepted_fd fd)>;

  /// `acceptor` must be listening; `name` says which port in log lines.
  accept_loop(boost::asio::ip::tcp::acceptor acceptor, std::string name, handler on_accept);

  void start() { do_wait(); }
  /// Stops accepting and closes the listening socket. Runs on the
  /// acceptor's executor.
  void stop();

  const boost::asio::ip::tcp::acceptor& acceptor() const noexcept { return acceptor_; }

 private:
  void do_wait();
  void on_ready(boost::system::error_code ec);
  void back_off(boost::system::error_code ec);

  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer backoff_timer_;
  std::chrono::milliseconds backoff_{0};
  std::string name_;
  handler on_accept_;
  bool stopped_ = false;
};

}  // namespace badges_health::http
