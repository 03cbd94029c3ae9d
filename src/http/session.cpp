// The life of a connection: wait until readable, read into the worker's
// buffer, parse and answer, write, repeat; quiet close on end of stream,
// reset or deadline.
#include "badges_health/http/session.hpp"

#include <spdlog/spdlog.h>

#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
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

}  // namespace

session::session(asio::ip::tcp::socket&& socket, connection_context& ctx)
    : socket_(std::move(socket)), ctx_(ctx), processor_(ctx.options, ctx.middleware, &ctx.metrics) {
  registry_pos_ = ctx_.sessions.insert(ctx_.sessions.end(), this);
}

session::~session() {
  ctx_.sessions.erase(registry_pos_);
  ctx_.open_connections.fetch_sub(1, std::memory_order_relaxed);
}

void session::start() {
  // The first request's read budget starts at accept.
  request_deadline_ = clock::now() + ctx_.options.request_timeout;
  // No read is tried before waiting: the accept completes with the
  // handshake, before the request arrives, so a read here found nothing on
  // almost every connection in the benchmark and cost a system call.
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

void session::wait_readable() {
  phase_ = phase::reading;
  // No buffer is held while waiting: an idle connection costs only the
  // session object. Idle keep-alive waits get the idle timeout; a request
  // in progress (or the first one) has one budget however it is dripped in.
  deadline_ = processor_.idle() && !processor_.first_request()
                  ? clock::now() + ctx_.options.idle_timeout
                  : request_deadline_;
  socket_.async_wait(
      asio::ip::tcp::socket::wait_read,
      [self = shared_from_this()](boost::system::error_code ec) { self->on_readable(ec); });
}

void session::on_readable(boost::system::error_code ec) {
  if (ec || phase_ == phase::closed) return close();
  const auto got = receive_now(ctx_.read_buffer.data(), ctx_.read_buffer.size());
  if (got == 0) return wait_readable();
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
  // MSG_DONTWAIT makes this one call non-blocking whatever mode the
  // descriptor is in (Asio switches it to non-blocking for its own
  // asynchronous operations, and only then).
  for (;;) {
    const auto n = ::recv(socket_.native_handle(), data, size, MSG_DONTWAIT);
    if (n > 0) return n;
    if (n == 0) return -1;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
  }
}

bool session::write_now() {
  const std::string& out = processor_.output();
  if (!no_delay_ && !processor_.closing()) {
    // Only connections that carry more than one response need Nagle off
    // (a first response has nothing unacknowledged ahead of it), so
    // one-request connections skip the system call.
    boost::system::error_code ignored;
    socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
    no_delay_ = true;
  }
  std::size_t n = 0;
  for (;;) {
    const auto sent =
        ::send(socket_.native_handle(), out.data(), out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent >= 0) {
      n = static_cast<std::size_t>(sent);
      break;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) break;
    spdlog::debug("connection closed while writing: {}", std::strerror(errno));
    close();
    return false;
  }
  if (n == out.size()) return true;
  // The send buffer is full (a client that does not read, or a large
  // response): the rest waits for the socket, under the write deadline.
  phase_ = phase::writing;
  deadline_ = clock::now() + ctx_.options.write_timeout;
  asio::async_write(socket_, asio::buffer(out.data() + n, out.size() - n),
                    [self = shared_from_this()](boost::system::error_code wec, std::size_t) {
                      self->on_write(wec);
                    });
  return false;
}

void session::on_write(boost::system::error_code ec) {
  if (ec || phase_ == phase::closed) {
    spdlog::debug("connection closed while writing: {}", ec.message());
    return close();
  }
  if (continue_after_write()) after_processing();
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
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
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
  boost::system::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec) return close();
  deadline_ = clock::now() + ctx_.options.linger_timeout;
  socket_.async_wait(asio::ip::tcp::socket::wait_read,
                     [self = shared_from_this()](boost::system::error_code wec) {
                       self->on_linger_readable(wec);
                     });
}

void session::on_linger_readable(boost::system::error_code ec) {
  if (ec || phase_ == phase::closed) return close();
  const auto n = receive_now(ctx_.read_buffer.data(), ctx_.read_buffer.size());
  if (n < 0) return close();
  lingered_ += static_cast<std::size_t>(n);
  if (lingered_ > max_linger_bytes) return close();
  socket_.async_wait(asio::ip::tcp::socket::wait_read,
                     [self = shared_from_this()](boost::system::error_code wec) {
                       self->on_linger_readable(wec);
                     });
}

void session::close() {
  if (phase_ == phase::closed) return;
  phase_ = phase::closed;
  deadline_ = clock::time_point::max();
  boost::system::error_code ec;
  socket_.close(ec);
}

}  // namespace badges_health::http
