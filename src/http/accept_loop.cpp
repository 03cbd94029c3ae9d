// accept4 after Asio's readiness wait, with one error policy for every port.
#include "accept_loop.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/error.hpp>
#include <cerrno>
#include <cstring>

namespace badges_health::http {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr std::chrono::milliseconds min_backoff{10};
constexpr int send_buffer_bytes = 64 * 1024;
constexpr std::chrono::milliseconds max_backoff{1000};

// Errors that concern only the connection being accepted (it died between
// SYN and accept, a firewall rule refused it) or none at all (another
// worker took it): take the next one.
bool concerns_one_connection(int err) {
  switch (err) {
    case EAGAIN:
    case ECONNABORTED:
    case EINTR:
    case EPROTO:
    case ENETDOWN:
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ETIMEDOUT:
    case EPERM:
    case ENOPROTOOPT:
    case EOPNOTSUPP:
      return true;
    default:
      return false;
  }
}

bool is_resource_exhaustion(int err) {
  return err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM;
}

}  // namespace

accepted_fd::~accepted_fd() {
  if (fd_ >= 0) ::close(fd_);
}

boost::system::error_code accepted_fd::assign_to(tcp::socket& socket,
                                                 const tcp& protocol) noexcept {
  boost::system::error_code ec;
  socket.assign(protocol, fd_, ec);
  if (ec) return ec;
  fd_ = -1;
  // The descriptor is non-blocking already (accept4), but Asio must be
  // told, or its synchronous reads would wait in poll() on EAGAIN.
  socket.non_blocking(true, ec);
  if (ec) return ec;
  // A fixed send buffer instead of the kernel's autotuning (which grows it
  // to 4 MiB on loopback): a client that does not read then holds at most
  // this much kernel memory, and writing into its socket takes the worker
  // this long, not seconds. Probes' answers are a few hundred bytes.
  socket.set_option(boost::asio::socket_base::send_buffer_size(send_buffer_bytes), ec);
  return ec;
}

accept_loop::accept_loop(tcp::acceptor acceptor, std::string name, handler on_accept)
    : acceptor_(std::move(acceptor)),
      backoff_timer_(acceptor_.get_executor()),
      name_(std::move(name)),
      on_accept_(std::move(on_accept)) {}

void accept_loop::stop() {
  if (stopped_) return;
  stopped_ = true;
  backoff_timer_.cancel();
  boost::system::error_code ec;
  acceptor_.close(ec);  // the wait in progress completes with operation_aborted
}

void accept_loop::do_wait() {
  acceptor_.async_wait(
      tcp::acceptor::wait_read,
      [self = shared_from_this()](boost::system::error_code ec) { self->on_ready(ec); });
}

void accept_loop::on_ready(boost::system::error_code ec) {
  if (stopped_) return;
  if (ec) return back_off(ec);
  // The client's address comes with the call, for the access log.
  tcp::endpoint peer;
  socklen_t length = static_cast<socklen_t>(peer.capacity());
  const int fd =
      ::accept4(acceptor_.native_handle(), peer.data(), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (concerns_one_connection(err)) {
      if (err != EAGAIN) spdlog::debug("{}: accept failed: {}", name_, std::strerror(err));
      return do_wait();
    }
    return back_off(boost::system::error_code(err, boost::system::system_category()));
  }
  backoff_ = std::chrono::milliseconds{0};
  peer.resize(length);
  on_accept_(accepted_fd(fd, peer));
  do_wait();
}

void accept_loop::back_off(boost::system::error_code ec) {
  backoff_ = backoff_.count() == 0 ? min_backoff : std::min(backoff_ * 2, max_backoff);
  spdlog::warn("{}: accept failed{}: {}; retrying in {}ms", name_,
               is_resource_exhaustion(ec.value()) ? " for lack of resources" : "", ec.message(),
               backoff_.count());
  backoff_timer_.expires_after(backoff_);
  backoff_timer_.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
    if (!wait_ec && !self->stopped_) self->do_wait();
  });
}

}  // namespace badges_health::http
