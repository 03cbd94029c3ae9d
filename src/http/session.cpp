// The life of a connection, top to bottom: do_read -> on_read -> serve
// (write_now, next_batch) -> do_read ..., ending in finish (close at once or
// linger) or a quiet close on end of stream, reset or deadline.
#include "session.hpp"

#include "h2_session.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

namespace badges_health::http {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// What a connection reads into while it waits for a request. Probers'
// requests (kubelet, HAProxy, ALB, curl) are 50 to 250 bytes; anything
// larger grows the buffer for as long as the client keeps sending more.
constexpr std::size_t idle_buffer_bytes = 256;

// Bytes discarded while lingering before we give up and close hard.
constexpr std::size_t max_linger_bytes = 64 * 1024;

// Batches of pipelined responses (each up to max_pipelined) written back to
// back before other connections get a turn.
constexpr int max_batches_per_turn = 4;

}  // namespace

session::session(tcp::socket socket, connection_context& ctx)
    : socket_(std::move(socket)),
      ctx_(ctx),
      processor_(ctx.options, ctx.middleware, &ctx.metrics),
      buffer_(idle_buffer_bytes) {
  registry_pos_ = ctx_.connections.insert(ctx_.connections.end(), this);
}

session::~session() {
  ctx_.connections.erase(registry_pos_);
  // A connection handed to HTTP/2 is counted there until it closes.
  if (!handed_over_) ctx_.open_connections.fetch_sub(1, std::memory_order_relaxed);
}

void session::start() {
  // Non-blocking from the start, so that write_now() can write directly
  // without ever blocking the worker. Asio would make the socket
  // non-blocking at the first asynchronous operation anyway; this is that
  // same system call, made once.
  boost::system::error_code ec;
  socket_.non_blocking(true, ec);
  if (ec) return close();
  // The first request's read budget starts at accept.
  request_deadline_ = clock::now() + ctx_.options.request_timeout;
  // A prober sends its request right behind the handshake, so it is
  // usually there by the time the connection is accepted: read it now, in
  // this handler, rather than through a completion queued behind a reactor
  // pass. Only when nothing is there yet does the read wait.
  phase_ = phase::reading;
  const std::size_t n = socket_.read_some(asio::buffer(buffer_), ec);
  if (ec == asio::error::would_block) return do_read();
  on_read(ec, n);
}

void session::shutdown() {
  shutting_down_ = true;
  // An idle keep-alive connection is closed gracefully: our FIN tells the
  // client to open a new connection elsewhere, and a request it sent at the
  // same moment is read and dropped rather than answered with a reset.
  // A connection still waiting for its first request keeps its budget: it
  // was accepted, so its request is answered (with Connection: close).
  if (phase_ == phase::reading && processor_.idle() && !processor_.first_request()) {
    begin_linger();  // the read in progress now lingers
  }
}

void session::expire() {
  spdlog::debug("connection closed at its deadline");
  close();
}

bool session::draining() const noexcept {
  return shutting_down_ || ctx_.draining.load(std::memory_order_relaxed);
}

void session::do_read() {
  phase_ = phase::reading;
  // Idle keep-alive waits get the idle timeout; a request in progress (or
  // the first one) has one budget however slowly it is dripped in.
  deadline_ = processor_.idle() && !processor_.first_request()
                  ? clock::now() + ctx_.options.idle_timeout
                  : request_deadline_;
  read_some();
}

void session::read_some() {
  // Speculative: Asio tries the read at once unless the last one came back
  // short, and only then waits for the socket.
  socket_.async_read_some(asio::buffer(buffer_),
                          [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                            self->on_read(ec, n);
                          });
}

void session::on_read(boost::system::error_code ec, std::size_t n) {
  if (phase_ == phase::lingering) {
    if (ec) return close();
    return on_linger_read(n);
  }
  if (phase_ != phase::reading) return;  // closed meanwhile
  if (ec) {
    // End of stream, reset or our own close: quiet.
    spdlog::debug("connection closed while reading: {}", ec.message());
    return close();
  }
  std::string_view data(buffer_.data(), n);
  if (sniffing_) {
    switch (sniff(data)) {
      case protocol::http2:
        return hand_over(data);
      case protocol::undecided:
        return do_read();
      case protocol::http1:
        break;
    }
  }
  const auto started_before = processor_.requests_started();
  processor_.receive(data, draining());
  if (!sniffed_.empty()) {
    sniffed_.clear();
    sniffed_.shrink_to_fit();
  }
  // A request other than the first began and is still incomplete: its own
  // read budget starts now (the first one's started at accept).
  if (processor_.requests_started() > std::max<std::uint64_t>(started_before, 1)) {
    request_deadline_ = clock::now() + ctx_.options.request_timeout;
  }
  fit_buffer(n);
  serve();
}

session::protocol session::sniff(std::string_view& data) {
  // Prior knowledge (RFC 9113 section 3.3): an HTTP/2 client opens with
  // this preface, which no HTTP/1.1 request can begin with.
  constexpr std::string_view h2_preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  std::string_view seen = data;
  if (!sniffed_.empty()) {
    sniffed_.append(data);
    seen = sniffed_;
  }
  const std::size_t m = std::min(seen.size(), h2_preface.size());
  if (seen.substr(0, m) != h2_preface.substr(0, m)) {
    sniffing_ = false;
    data = seen;
    return protocol::http1;
  }
  if (seen.size() < h2_preface.size()) {
    if (sniffed_.empty()) sniffed_.assign(seen);
    return protocol::undecided;
  }
  sniffing_ = false;
  data = seen.substr(h2_preface.size());
  return protocol::http2;
}

void session::hand_over(std::string_view after_preface) {
  handed_over_ = true;
  phase_ = phase::closed;
  deadline_ = clock::time_point::max();
  std::make_shared<h2_session>(std::move(socket_), ctx_, request_deadline_)->start(after_preface);
}

void session::fit_buffer(std::size_t last_read) {
  // A read that filled the buffer may have left more behind (a large
  // request, or a pipelined batch): read bigger pieces, up to the header
  // limit. A read that fits the idle size shows the client sends small
  // requests again: back to the idle size, so waiting costs little.
  const std::size_t limit = std::max(idle_buffer_bytes, ctx_.options.max_header_bytes);
  if (last_read == buffer_.size() && buffer_.size() < limit) {
    buffer_.resize(std::min(limit, buffer_.size() * 2));
  } else if (last_read <= idle_buffer_bytes && buffer_.size() > idle_buffer_bytes &&
             processor_.idle()) {
    buffer_.resize(idle_buffer_bytes);
    buffer_.shrink_to_fit();
  }
}

void session::serve() {
  // Answers are written at once, as far as the socket takes them, and the
  // connection goes straight on to its buffered requests and then to the
  // next read, all in this handler: waiting for a write completion would
  // put the next read behind every other connection's work. The batches
  // written back to back are bounded, so a pipelining client yields.
  for (int batch = 0; !processor_.output().empty(); ++batch) {
    if (batch == max_batches_per_turn) return yield();
    if (!write_now() || !next_batch()) return;
  }
  if (processor_.closing()) return finish();
  if (shutting_down_ && processor_.idle()) return do_linger();
  do_read();
}

bool session::write_now() {
  phase_ = phase::writing;
  boost::system::error_code ec;
  if (!no_delay_ && !processor_.closing()) {
    // Only connections that carry more than one response need Nagle off
    // (a first response has nothing unacknowledged ahead of it), so
    // one-request connections skip the system call.
    socket_.set_option(tcp::no_delay(true), ec);
    no_delay_ = true;
  }
  const std::string& out = processor_.output();
  const std::size_t sent = socket_.write_some(asio::buffer(out), ec);
  if (!ec && sent == out.size()) return true;
  if (ec && ec != asio::error::would_block) {
    spdlog::debug("connection closed while writing: {}", ec.message());
    close();
    return false;
  }
  // The send buffer is full (a client that does not read, or a large
  // response): the rest goes out asynchronously under one write deadline,
  // so that a client reading a byte at a time cannot stretch it.
  const std::size_t done = ec ? 0 : sent;
  deadline_ = clock::now() + ctx_.options.write_timeout;
  asio::async_write(socket_, asio::buffer(out.data() + done, out.size() - done),
                    [self = shared_from_this()](boost::system::error_code wec, std::size_t) {
                      self->on_write(wec);
                    });
  return false;
}

void session::on_write(boost::system::error_code ec) {
  if (phase_ == phase::closed) return;
  if (ec) {
    spdlog::debug("connection closed while writing: {}", ec.message());
    return close();
  }
  if (next_batch()) serve();
}

bool session::next_batch() {
  processor_.written();
  if (processor_.closing()) {
    finish();
    return false;
  }
  const auto started_before = processor_.requests_started();
  processor_.process(draining());
  if (processor_.requests_started() > started_before) {
    request_deadline_ = clock::now() + ctx_.options.request_timeout;
  }
  return true;
}

void session::yield() {
  phase_ = phase::writing;
  deadline_ = clock::now() + ctx_.options.write_timeout;
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (self->phase_ == phase::writing) self->serve();
  });
}

void session::finish() {
  // A client that asked to close sends nothing more: close at once, as
  // nginx does. Otherwise linger.
  if (processor_.clean_close()) return close();
  do_linger();
}

void session::begin_linger() {
  phase_ = phase::lingering;
  deadline_ = clock::now() + ctx_.options.linger_timeout;
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  if (ec) close();
}

void session::do_linger() {
  begin_linger();
  if (phase_ != phase::lingering) return;
  read_some();
}

void session::on_linger_read(std::size_t n) {
  lingered_ += n;
  if (lingered_ > max_linger_bytes) return close();
  read_some();
}

void session::close() {
  if (phase_ == phase::closed) return;
  phase_ = phase::closed;
  deadline_ = clock::time_point::max();
  // Completes the operations in progress with operation_aborted; the last
  // handler to finish releases the session.
  boost::system::error_code ec;
  socket_.close(ec);
}

}  // namespace badges_health::http
