// Accept loop with a connection cap and back-off on resource exhaustion.
#include "badges_health/http/listener.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "badges_health/http/response_writer.hpp"
#include "badges_health/http/session.hpp"

namespace badges_health::http {

namespace asio = boost::asio;

namespace {

constexpr std::chrono::milliseconds min_backoff{10};
constexpr std::chrono::milliseconds max_backoff{1000};

// Connections taken per turn before other work runs; the rest of a burst
// follows after it.
constexpr int max_accepts_per_turn = 32;

bool is_resource_exhaustion(int err) {
  return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

// Errors that concern only the connection being accepted (it died between
// SYN and accept, or a firewall rule refused it): take the next one.
bool concerns_one_connection(int err) {
  return err == ECONNABORTED || err == EPROTO || err == EPERM || err == ENETDOWN ||
         err == ENOPROTOOPT || err == EHOSTDOWN || err == ENONET || err == EHOSTUNREACH ||
         err == EOPNOTSUPP || err == ENETUNREACH || err == ETIMEDOUT;
}

int take_descriptor(asio::ip::tcp::acceptor& acceptor) {
  const int fd = acceptor.release();
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
      ::fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
    const int err = errno;
    ::close(fd);
    throw std::system_error(err, std::generic_category(), "listening socket");
  }
  return fd;
}

}  // namespace

listener::listener(asio::ip::tcp::acceptor&& acceptor, connection_context& ctx)
    : fd_(-1), backoff_timer_(acceptor.get_executor()), ctx_(ctx) {
  fd_ = take_descriptor(acceptor);
}

listener::~listener() {
  if (fd_ >= 0) ::close(fd_);
}

void listener::start() {
  token_ = ctx_.poller->add(fd_, EPOLLIN, shared_from_this());
  if (token_ == 0)
    throw std::system_error(errno, std::generic_category(), "watch listening socket");
}

void listener::stop() {
  if (stopped_) return;
  stopped_ = true;
  backoff_timer_.cancel();
  ctx_.poller->close_and_remove(fd_, token_);  // may destroy *this
}

void listener::on_ready(std::uint32_t /*events*/) {
  if (!stopped_ && !backing_off_) accept_some();
}

void listener::accept_some() {
  for (int i = 0; i < max_accepts_per_turn; ++i) {
    const int fd = ::accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      const int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) return;  // the next connection brings an event
      if (err == EINTR || concerns_one_connection(err)) {
        spdlog::debug("accept failed: {}", std::strerror(err));
        continue;
      }
      return back_off(err);
    }
    backoff_ = std::chrono::milliseconds{0};
    const std::size_t open = ctx_.open_connections.fetch_add(1, std::memory_order_relaxed);
    if (open >= ctx_.options.max_connections) {
      ctx_.open_connections.fetch_sub(1, std::memory_order_relaxed);
      refuse(fd);
    } else {
      std::make_shared<session>(fd, ctx_)->start();
    }
  }
  // More may be waiting, and no event will say so: come back after the
  // other work queued meanwhile.
  asio::post(*ctx_.io, [self = shared_from_this()] {
    if (!self->stopped_ && !self->backing_off_) self->accept_some();
  });
}

void listener::back_off(int err) {
  // Out of descriptors or memory (or an error we do not know to be about
  // one connection): retrying at once would spin the CPU on the same error.
  // Wait, doubling up to a second, while sessions close.
  backoff_ = backoff_.count() == 0 ? min_backoff : std::min(backoff_ * 2, max_backoff);
  spdlog::warn("accept failed{}: {}; retrying in {}ms",
               is_resource_exhaustion(err) ? " for lack of resources" : "", std::strerror(err),
               backoff_.count());
  backing_off_ = true;
  backoff_timer_.expires_after(backoff_);
  backoff_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    self->backing_off_ = false;
    if (!ec && !self->stopped_) self->accept_some();
  });
}

void listener::refuse(int fd) {
  // Over the connection cap: a best-effort 503 on the fresh socket (its send
  // buffer is empty, so a non-blocking write of a few hundred bytes
  // succeeds), then close. Existing connections are not touched.
  std::string reply;
  write_response(error_middleware::to_response(http_error::too_many_connections()),
                 write_options{false, false, 11}, reply);
  [[maybe_unused]] const auto sent = ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
  ::shutdown(fd, SHUT_WR);
  ::close(fd);
}

}  // namespace badges_health::http
