// Local TCP and HTTP dependencies for the health-check integration tests,
// on plain POSIX sockets with poll(): every wait also watches a stop pipe,
// so destruction never hangs on a client that went quiet.
#include "support/dependency_servers.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace badges_health::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

[[noreturn]] void fail_errno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

// A socket bound to 127.0.0.1:`port` (0: any free port), not listening.
// With `reuse_address`, sockets in TIME_WAIT on the port do not stop the
// bind, and another SO_REUSEADDR socket may bind it while this one is not
// listening; without it, nothing else can.
int bind_loopback(unsigned short port, bool reuse_address) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) fail_errno("socket");
  if (reuse_address) {
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    fail_errno("bind 127.0.0.1:" + std::to_string(port));
  }
  return fd;
}

// A listening socket on 127.0.0.1:`port` (0: any free port).
int listen_on_loopback(unsigned short port) {
  const int fd = bind_loopback(port, true);
  if (::listen(fd, 128) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    fail_errno("listen");
  }
  return fd;
}

unsigned short local_port(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) fail_errno("getsockname");
  return ntohs(addr.sin_port);
}

void make_stop_pipe(int (&fds)[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) fail_errno("pipe2");
}

// The stop pipe is written once and never drained, so every later poll on
// it returns at once.
void signal_stop(const int (&fds)[2]) {
  const char byte = 's';
  [[maybe_unused]] const auto n = ::write(fds[1], &byte, 1);
}

void close_pipe(int (&fds)[2]) {
  for (int& fd : fds) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
}

int poll_ms(milliseconds d) { return static_cast<int>(std::max<long long>(0, d.count())); }

// Writes all of `bytes`; a peer that already left is not an error here.
void send_all(int fd, const std::string& bytes) {
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<std::size_t>(n);
  }
}

std::string canned_response(unsigned code, const std::string& reason, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(code) + " " + reason +
         "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace

// ---------------------------------------------------------------- tcp ----

tcp_dependency::tcp_dependency() {
  listen_fd_ = listen_on_loopback(0);
  port_ = local_port(listen_fd_);
  listening_ = true;
  make_stop_pipe(stop_pipe_);
  worker_ = std::thread([this] { run(); });
}

tcp_dependency::~tcp_dependency() {
  stopping_.store(true);
  signal_stop(stop_pipe_);
  if (worker_.joinable()) worker_.join();
  close_pipe(stop_pipe_);
}

void tcp_dependency::close() {
  std::unique_lock lock(mutex_);
  want_listening_ = false;
  if (!changed_.wait_for(lock, std::chrono::seconds(5), [this] { return !listening_; })) {
    throw std::runtime_error("tcp_dependency: listener did not close");
  }
  if (!error_.empty()) throw std::runtime_error("tcp_dependency: cannot hold the port: " + error_);
}

void tcp_dependency::reopen() {
  std::unique_lock lock(mutex_);
  want_listening_ = true;
  error_.clear();
  if (!changed_.wait_for(lock, std::chrono::seconds(5),
                         [this] { return listening_ || !error_.empty(); })) {
    throw std::runtime_error("tcp_dependency: listener did not reopen");
  }
  if (!error_.empty()) throw std::runtime_error("tcp_dependency: " + error_);
}

void tcp_dependency::open_listener() {
  // Binds beside the reserve (both SO_REUSEADDR, the reserve not
  // listening), so the port is never free in between.
  listen_fd_ = listen_on_loopback(port_);
  release_reserve();
}

void tcp_dependency::close_listener() {
  if (listen_fd_ >= 0) ::close(listen_fd_);
  listen_fd_ = -1;
  for (int fd : held_) ::close(fd);
  held_.clear();
}

void tcp_dependency::reserve_port() {
  if (reserve_fd_ < 0) reserve_fd_ = bind_loopback(port_, true);
}

void tcp_dependency::release_reserve() {
  if (reserve_fd_ >= 0) ::close(reserve_fd_);
  reserve_fd_ = -1;
}

void tcp_dependency::apply_wanted_state() {
  std::lock_guard lock(mutex_);
  if (want_listening_ && listen_fd_ < 0) {
    try {
      open_listener();
    } catch (const std::exception& e) {
      error_ = e.what();
      want_listening_ = false;
    }
  } else if (!want_listening_ && listen_fd_ >= 0) {
    close_listener();
    try {
      reserve_port();
    } catch (const std::exception& e) {
      error_ = e.what();
    }
  }
  listening_ = listen_fd_ >= 0;
  changed_.notify_all();
}

void tcp_dependency::run() {
  while (!stopping_.load()) {
    apply_wanted_state();
    pollfd fds[2] = {{stop_pipe_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    const nfds_t count = listen_fd_ >= 0 ? 2 : 1;
    // Short timeout: close() and reopen() requests are picked up here.
    if (::poll(fds, count, 20) < 0 && errno != EINTR) break;
    if (fds[0].revents != 0) break;
    if (count < 2 || (fds[1].revents & POLLIN) == 0) continue;
    for (int i = 0; i < 64; ++i) {
      const int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) break;
      connections_.fetch_add(1);
      if (mode_.load() == mode::hold_open) {
        held_.push_back(c);
      } else {
        ::close(c);
      }
    }
  }
  std::lock_guard lock(mutex_);
  close_listener();
  release_reserve();
  listening_ = false;
  changed_.notify_all();
}

// ---------------------------------------------------------- closed port ----

closed_tcp_port::closed_tcp_port() : fd_(bind_loopback(0, false)), port_(local_port(fd_)) {}

closed_tcp_port::~closed_tcp_port() { ::close(fd_); }

unsigned short free_loopback_port() {
  const int fd = bind_loopback(0, false);
  const unsigned short port = local_port(fd);
  ::close(fd);
  return port;
}

// --------------------------------------------------------------- http ----

http_dependency::http_dependency() {
  listen_fd_ = listen_on_loopback(0);
  port_ = local_port(listen_fd_);
  make_stop_pipe(stop_pipe_);
  worker_ = std::thread([this] { run(); });
}

http_dependency::~http_dependency() {
  signal_stop(stop_pipe_);
  if (worker_.joinable()) worker_.join();
  reap(true);
  ::close(listen_fd_);
  close_pipe(stop_pipe_);
}

std::string http_dependency::url(const std::string& target) const {
  return "http://127.0.0.1:" + std::to_string(port_) + target;
}

void http_dependency::set(behaviour b) {
  std::lock_guard lock(mutex_);
  behaviour_ = std::move(b);
}

void http_dependency::answer_ok(std::string body) { set({mode::ok, std::move(body), {}}); }

void http_dependency::answer_error() { set({mode::error, "error", {}}); }

void http_dependency::answer_slowly(milliseconds delay, std::string body) {
  set({mode::slow, std::move(body), delay});
}

void http_dependency::never_answer() { set({mode::silent, {}, {}}); }

void http_dependency::run() {
  for (;;) {
    pollfd fds[2] = {{stop_pipe_[0], POLLIN, 0}, {listen_fd_, POLLIN, 0}};
    if (::poll(fds, 2, 100) < 0 && errno != EINTR) break;
    if (fds[0].revents != 0) break;
    if ((fds[1].revents & POLLIN) != 0) {
      for (int i = 0; i < 64; ++i) {
        const int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) break;
        auto done = std::make_shared<std::atomic<bool>>(false);
        connections_.push_back({std::thread([this, c, done] {
                                  serve(c);
                                  done->store(true);
                                }),
                                done});
      }
    }
    reap(false);
  }
}

void http_dependency::reap(bool all) {
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (all || it->done->load()) {
      if (it->thread.joinable()) it->thread.join();
      it = connections_.erase(it);
    } else {
      ++it;
    }
  }
}

void http_dependency::serve(int fd) {
  // Waits for `fd` to be readable; false when stopping or after `wait`.
  const auto readable = [this, fd](milliseconds wait) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (::poll(fds, 2, poll_ms(wait)) <= 0) return false;
    return fds[1].revents == 0 && fds[0].revents != 0;
  };
  const auto stopping = [this] {
    pollfd p{stop_pipe_[0], POLLIN, 0};
    return ::poll(&p, 1, 0) > 0;
  };

  std::string request;
  const auto head_deadline = steady_clock::now() + std::chrono::seconds(5);
  while (request.find("\r\n\r\n") == std::string::npos) {
    if (steady_clock::now() > head_deadline || stopping()) {
      ::close(fd);
      return;
    }
    if (!readable(milliseconds(100))) continue;
    char buf[2048];
    const auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      ::close(fd);
      return;
    }
    request.append(buf, static_cast<std::size_t>(n));
  }
  requests_.fetch_add(1);

  behaviour b;
  {
    std::lock_guard lock(mutex_);
    b = behaviour_;
  }
  switch (b.how) {
    case mode::ok:
      send_all(fd, canned_response(200, "OK", b.body));
      break;
    case mode::error:
      send_all(fd, canned_response(500, "Internal Server Error", b.body));
      break;
    case mode::slow: {
      pollfd p{stop_pipe_[0], POLLIN, 0};
      if (::poll(&p, 1, poll_ms(b.delay)) == 0) send_all(fd, canned_response(200, "OK", b.body));
      break;
    }
    case mode::silent: {
      // Hold the connection, reading and discarding, until the client
      // closes it (or a minute passes, or the server stops).
      const auto give_up = steady_clock::now() + std::chrono::minutes(1);
      while (steady_clock::now() < give_up && !stopping()) {
        if (!readable(milliseconds(100))) continue;
        char buf[512];
        if (::recv(fd, buf, sizeof buf, 0) <= 0) break;
      }
      break;
    }
  }
  ::close(fd);
}

}  // namespace badges_health::test
