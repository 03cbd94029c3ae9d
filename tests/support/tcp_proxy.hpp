// Test support: a TCP proxy on 127.0.0.1 in front of another local port,
// counting the connections it accepts and able to cut them all, so a test
// can see whether a client keeps its connection and what it does when the
// connection goes.
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace badges_health::test {

class tcp_proxy {
 public:
  /// Listens on 127.0.0.1:0 and forwards every connection to
  /// 127.0.0.1:`target_port`. Throws on failure.
  explicit tcp_proxy(unsigned short target_port);
  ~tcp_proxy();
  tcp_proxy(const tcp_proxy&) = delete;
  tcp_proxy& operator=(const tcp_proxy&) = delete;

  unsigned short port() const noexcept { return port_; }
  /// Connections accepted since construction.
  std::size_t connections() const noexcept { return accepted_.load(); }
  /// Closes every connection open now (both sides); returns once done.
  void cut();

 private:
  void run();

  unsigned short target_;
  unsigned short port_ = 0;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::atomic<std::size_t> accepted_{0};
  std::atomic<bool> stop_{false};
  std::atomic<int> cut_requests_{0};
  std::atomic<int> cuts_done_{0};
  std::thread thread_;
};

}  // namespace badges_health::test
