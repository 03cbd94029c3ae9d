// A one-thread TCP proxy with poll().
#include "support/tcp_proxy.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace badges_health::test {

namespace {

sockaddr_in loopback(unsigned short port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

}  // namespace

tcp_proxy::tcp_proxy(unsigned short target_port) : target_(target_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a = loopback(0);
  socklen_t len = sizeof a;
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0 ||
      ::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) {
    throw std::runtime_error("tcp_proxy: cannot listen");
  }
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { run(); });
}

tcp_proxy::~tcp_proxy() {
  stop_ = true;
  const char c = 's';
  (void)::write(wake_[1], &c, 1);
  thread_.join();
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void tcp_proxy::cut() {
  const int want = ++cut_requests_;
  const char c = 'c';
  (void)::write(wake_[1], &c, 1);
  while (cuts_done_.load() < want) std::this_thread::yield();
}

void tcp_proxy::run() {
  // Pairs of (client, upstream) descriptors.
  std::vector<std::pair<int, int>> pairs;
  const auto close_pair = [](std::pair<int, int>& p) {
    ::close(p.first);
    ::close(p.second);
    p = {-1, -1};
  };
  while (!stop_) {
    std::vector<pollfd> fds{{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    for (const auto& [a, b] : pairs) {
      fds.push_back({a, POLLIN, 0});
      fds.push_back({b, POLLIN, 0});
    }
    if (::poll(fds.data(), fds.size(), 1000) < 0) continue;
    if (fds[1].revents != 0) {
      char buf[16];
      while (::read(wake_[0], buf, sizeof buf) > 0) {
      }
      const int requested = cut_requests_.load();
      if (requested > cuts_done_.load()) {
        for (auto& p : pairs) close_pair(p);
        pairs.clear();
        cuts_done_ = requested;
        continue;
      }
    }
    for (std::size_t i = 0; i < pairs.size(); ++i) {
      for (int side = 0; side < 2; ++side) {
        if (pairs[i].first < 0) break;
        const pollfd& f = fds[2 + 2 * i + static_cast<std::size_t>(side)];
        if (f.revents == 0) continue;
        const int from = side == 0 ? pairs[i].first : pairs[i].second;
        const int to = side == 0 ? pairs[i].second : pairs[i].first;
        char buf[16384];
        const auto n = ::read(from, buf, sizeof buf);
        if (n <= 0 || ::send(to, buf, static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) {
          close_pair(pairs[i]);
        }
      }
    }
    std::erase_if(pairs, [](const auto& p) { return p.first < 0; });
    if (fds[0].revents != 0) {
      const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      ++accepted_;
      const int upstream = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      const sockaddr_in target = loopback(target_);
      if (upstream < 0 ||
          ::connect(upstream, reinterpret_cast<const sockaddr*>(&target), sizeof target) != 0) {
        ::close(client);
        if (upstream >= 0) ::close(upstream);
        continue;
      }
      pairs.emplace_back(client, upstream);
    }
  }
  for (auto& p : pairs) close_pair(p);
}

}  // namespace badges_health::test
