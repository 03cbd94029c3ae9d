// The life of a connection: wait until readable, read into the worker's
// buffer, parse and answer, write, repeat; quiet close on end of stream,
// reset or deadline.
#include "badges_health/http/session.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cerrno>
#include <cstring>

namespace badges_health::http {

namespace asio = boost::asio;

namespace {

// Bytes discarded while lingering before we give up and close hard.
constexpr std::size_t max_linger_bytes = 64 * 1024;

// Batches of pipelined responses (each up to max_pipelined) one handler
// writes before letting other connections run.
constexpr int max_batches_per_turn = 4;

// Input and the peer's half-close, for the socket's whole life; output only
// from the first time the send buffer fills, which most connections never
// see (watching it from the start costs an event at registration).
constexpr std::uint32_t input_events = EPOLLIN | EPOLLRDHUP;
constexpr std::uint32_t input_output_events = input_events | EPOLLOUT;

}  // namespace

session::session(int fd, connection_context& ctx)
    : fd_(fd), ctx_(ctx), processor_(ctx.options, ctx.middleware, &ctx.metrics) {
  registry_pos_ = ctx_.sessions.insert(ctx_.sessions.end(), this);
}

session::~session() {
  if (fd_ >= 0) ::close(fd_);
  ctx_.sessions.erase(registry_pos_);
  ctx_.open_connections.fetch_sub(1, std::memory_order_relaxed);
}

void session::start() {
  token_ = ctx_.poller->add(fd_, input_events, shared_from_this());
  if (token_ == 0) {
    spdlog::warn("connection dropped: cannot watch its socket: {}", std::strerror(errno));
    return close();
  }
  // The first request's read budget starts at accept. No read is tried
  // before the first event: the accept completes with the handshake, before
  // the request arrives, so a read here would find nothing on almost every
  // connection and cost a system call.
  request_deadline_ = clock::now() + ctx_.options.request_timeout;
  wait_readable();
}

void session::shutdown() {
  shutting_down_ = true;
  // Waiting for a keep-alive request that may never come: close now.
  if (phase_ == phase::reading && processor_.idle()) close();
}

void session::expire() {
  spdlog::debug("connection closed at its deadline");
  close();
}

void session::on_ready(std::uint32_t events) {
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) readable_ = true;
  if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) peer_closed_ = true;
  switch (phase_) {
    case phase::reading:
      if (readable_) on_readable();
      break;
    case phase::writing:
      if (write_pending_ && (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0) on_writable();
      break;
    case phase::lingering:
      if (readable_) on_linger_readable();
      break;
    case phase::closed:
      break;
  }
}

void session::wait_readable() {
  phase_ = phase::reading;
  // No buffer is held while waiting: an idle connection costs only the
  // session object. Idle keep-alive waits get the idle timeout; a request
  // in progress (or the first one) has one budget however it is dripped in.
  deadline_ = processor_.idle() && !processor_.first_request()
                  ? clock::now() + ctx_.options.idle_timeout
                  : request_deadline_;
  if (!readable_) return;  // the next event reads
  // Input came while writing, or the last read filled the buffer: read it
  // after the other connections' queued work, as a fresh event would be.
  asio::post(*ctx_.io, [self = shared_from_this()] {
    if (self->phase_ == phase::reading && self->readable_) self->on_readable();
  });
}

void session::on_readable() {
  const auto got = receive_now(ctx_.read_buffer.data(), ctx_.read_buffer.size());
  if (got == 0) return;  // nothing after all: the next event reads
  if (got < 0) {
    // End of stream or reset: quiet.
    spdlog::debug("connection closed while reading");
    return close();
  }
  const auto n = static_cast<std::size_t>(got);
  const auto started_before = processor_.requests_started();
  processor_.receive(std::string_view(ctx_.read_buffer.data(), n), shutting_down_);
  // A request other than the first began and is still incomplete: its own
  // read budget starts now (the first one's started at accept).
  if (processor_.requests_started() > std::max<std::uint64_t>(started_before, 1)) {
    request_deadline_ = clock::now() + ctx_.options.request_timeout;
  }
  after_processing();
}

void session::after_processing() {
  // Responses are written at once, as far as the socket takes them, and
  // the connection goes straight on to its buffered requests and then to
  // waiting for the next one, all in this handler. Going through the
  // scheduler for each write completion would put the wait for the next
  // request behind every other connection's work and one more reactor
  // pass, which is how requests came to wait two passes instead of one.
  // The batches a handler may write back to back are bounded, so that a
  // pipelining client yields to the others.
  for (int batch = 0; !processor_.output().empty(); ++batch) {
    if (batch == max_batches_per_turn) return yield();
    if (!write_now() || !continue_after_write()) return;
  }
  if (processor_.closing()) return finish();
  if (shutting_down_ && processor_.idle()) return close();
  wait_readable();
}

std::ptrdiff_t session::receive_now(char* data, std::size_t size) {
  for (;;) {
    const auto n = ::recv(fd_, data, size, 0);
    if (n > 0) {
      // A read that did not fill the buffer took everything there was;
      // whatever arrives next brings its own event. Once the peer has
      // half-closed, no event will announce the end of stream: keep going
      // until it is read. (A read also stops short at TCP urgent data, so
      // a client sending some stalls only itself, until its request
      // deadline, as with nginx; checking for the mark would cost a system
      // call per read.)
      if (static_cast<std::size_t>(n) < size && !peer_closed_) readable_ = false;
      return n;
    }
    if (n == 0) return -1;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      readable_ = false;
      return 0;
    }
    return -1;
  }
}

bool session::write_now() {
  if (!no_delay_ && !processor_.closing()) {
    // Only connections that carry more than one response need Nagle off
    // (a first response has nothing unacknowledged ahead of it), so
    // one-request connections skip the system call.
    const int on = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    no_delay_ = true;
  }
  sent_ = 0;
  return send_rest();
}

bool session::send_rest() {
  const std::string& out = processor_.output();
  for (;;) {
    const auto n = ::send(fd_, out.data() + sent_, out.size() - sent_, MSG_NOSIGNAL);
    if (n >= 0) {
      sent_ += static_cast<std::size_t>(n);
      if (sent_ < out.size()) continue;  // short: the next send says if it is full
      write_pending_ = false;
      return true;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    spdlog::debug("connection closed while writing: {}", std::strerror(errno));
    close();
    return false;
  }
  // The send buffer is full (a client that does not read, or a large
  // response): the rest waits for the socket, all of it under one write
  // deadline, so that a client reading a byte at a time cannot stretch it.
  if (!write_pending_) {
    if (!watching_output_) {
      if (!ctx_.poller->modify(fd_, token_, input_output_events)) {
        spdlog::warn("connection closed: cannot watch its socket: {}", std::strerror(errno));
        close();
        return false;
      }
      watching_output_ = true;
    }
    phase_ = phase::writing;
    write_pending_ = true;
    deadline_ = clock::now() + ctx_.options.write_timeout;
  }
  return false;
}

void session::on_writable() {
  if (send_rest() && continue_after_write()) after_processing();
}

bool session::continue_after_write() {
  processor_.written();
  if (processor_.closing()) {
    finish();
    return false;
  }
  const auto started_before = processor_.requests_started();
  processor_.process(shutting_down_);
  if (processor_.requests_started() > started_before) {
    request_deadline_ = clock::now() + ctx_.options.request_timeout;
  }
  return true;
}

void session::yield() {
  phase_ = phase::writing;
  deadline_ = clock::now() + ctx_.options.write_timeout;
  asio::post(*ctx_.io, [self = shared_from_this()] {
    if (self->phase_ != phase::closed) self->after_processing();
  });
}

void session::finish() {
  // A client that asked to close sends nothing more: close at once, as
  // nginx does. Otherwise linger, so that closing on bytes the client is
  // still sending does not reset the connection before it reads the
  // response.
  if (processor_.clean_close()) return close();
  do_linger();
}

void session::do_linger() {
  // Half-close and drain what the client still sends, so that closing with
  // unread bytes does not reset the connection before it reads our answer.
  phase_ = phase::lingering;
  if (::shutdown(fd_, SHUT_WR) != 0) return close();
  deadline_ = clock::now() + ctx_.options.linger_timeout;
  if (readable_) on_linger_readable();
}

void session::on_linger_readable() {
  while (readable_) {
    const auto n = receive_now(ctx_.read_buffer.data(), ctx_.read_buffer.size());
    if (n < 0) return close();
    lingered_ += static_cast<std::size_t>(n);
    if (lingered_ > max_linger_bytes) return close();
  }
}

void session::close() {
  if (phase_ == phase::closed) return;
  phase_ = phase::closed;
  deadline_ = clock::time_point::max();
  ctx_.poller->close_and_remove(fd_, token_);  // may destroy *this
}

}  // namespace badges_health::http
