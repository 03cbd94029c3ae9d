// The life of an HTTP/1.1 connection, top to bottom: do_read -> on_readable
// (read_now) -> serve (write_now, next_batch) -> do_read ..., ending in
// finish (close at once, or a lingering close) or a quiet close on end of
// stream, reset or deadline.
#include "http1_session.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <charconv>
#include <span>
#include <utility>

#include "lingering_close.hpp"

namespace badges_health::http {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// Batches of pipelined responses (each bounded by the processor) written
// back to back before other connections get a turn.
constexpr int max_batches_per_turn = 4;

// After reads tried later found nothing, the next reads wait at once: 1
// after the first miss, then 2, 4, 8 and at most this many, so a client
// that sends only after each answer pays one failed read per about this
// many requests; a try that finds a request starts over.
constexpr unsigned max_reads_waited_after_a_miss = 16;

}  // namespace

http1_session::http1_session(tcp::socket socket, connection_slot slot, connection_context& ctx,
                             const tcp::endpoint& client, request_processor processor,
                             clock::time_point request_deadline)
    : socket_(std::move(socket)),
      slot_(std::move(slot)),
      ctx_(ctx),
      client_(client),
      processor_(std::move(processor)),
      deadline_(request_deadline),
      request_deadline_(request_deadline) {
  processor_.set_client(&client_);
  ctx_.track(*this);
}

http1_session::~http1_session() { ctx_.forget(*this); }

void http1_session::start(bool more_to_read) {
  more_to_read_ = more_to_read;
  if (!processor_.output().empty()) return serve();
  do_read();
}

void http1_session::set_deadline(clock::time_point at) {
  deadline_ = at;
  ctx_.deadline_set(at);
}

void http1_session::shutdown() {
  shutting_down_ = true;
  // A stream ends after what is new (the `down` of the drain); one being
  // written ends once that is done.
  if (streaming_) {
    if (phase_ == phase::streaming) stream_pump();
    return;
  }
  // An idle keep-alive connection is closed gracefully: our FIN tells the
  // client to open a new connection elsewhere, and a request it sent at the
  // same moment is read and dropped rather than answered with a reset.
  // A connection still waiting for its first request keeps its budget: it
  // was accepted, so its request is answered (with Connection: close).
  if (phase_ == phase::reading && processor_.idle() && !processor_.first_request()) {
    linger_when_cancelled_ = true;
    boost::system::error_code ec;
    socket_.cancel(ec);  // the read wait completes with operation_aborted
  }
}

void http1_session::expire() {
  if (phase_ == phase::streaming && !stream_done_) {
    // A quiet stream: the comment that keeps proxies from closing it.
    append_stream(event_keep_alive);
    return serve();
  }
  // A request whose body is late is told so (408) before the close; any
  // other deadline closes quietly.
  if (phase_ == phase::reading && processor_.awaiting_body()) {
    processor_.time_out();
    if (!processor_.output().empty()) {
      linger_when_cancelled_ = false;
      boost::system::error_code ec;
      socket_.cancel(ec);  // the read wait ends; the answer goes out
      phase_ = phase::yielding;
      asio::post(socket_.get_executor(), [self = shared_from_this()] {
        if (self->phase_ == phase::yielding) self->serve();
      });
      return;
    }
  }
  spdlog::debug("connection closed at its deadline");
  close();
}

void http1_session::do_read() {
  phase_ = phase::reading;
  // Idle keep-alive waits get the idle timeout; a request in progress (or
  // the first one) has one budget however slowly it is dripped in.
  set_deadline(processor_.idle() && !processor_.first_request()
                   ? ctx_.now() + ctx_.options.idle_timeout
                   : request_deadline_);
  if (more_to_read_ || read_later()) {
    // The last read filled the buffer, or the next request is probably on
    // its way: read after other connections have had a turn (and without
    // nesting calls).
    asio::post(socket_.get_executor(), [self = shared_from_this(), later = !more_to_read_] {
      if (self->phase_ == phase::reading) self->on_readable({}, later);
    });
    return;
  }
  // An idle connection waits holding no buffer: the bytes are read into
  // the worker's buffer once they are there.
  socket_.async_wait(
      tcp::socket::wait_read,
      [self = shared_from_this()](boost::system::error_code ec) { self->on_readable(ec); });
}

bool http1_session::read_later() noexcept {
  // Only between requests: the rest of a request being sent is waited for.
  if (processor_.first_request() || !processor_.idle()) return false;
  if (read_later_skips_ == 0) return true;
  --read_later_skips_;
  return false;
}

void http1_session::on_readable(boost::system::error_code ec, bool tried_later) {
  if (phase_ != phase::reading) return;  // closed meanwhile
  if (linger_when_cancelled_) return linger();
  if (ec) {
    spdlog::debug("connection closed while waiting to read: {}", ec.message());
    return close();
  }
  if (!read_now(tried_later) && phase_ == phase::reading) {
    // Nothing there yet (or a wake-up with nothing to read): wait.
    if (tried_later) {
      read_later_backoff_ = std::clamp(2 * read_later_backoff_, 1u, max_reads_waited_after_a_miss);
      read_later_skips_ = read_later_backoff_;
    }
    socket_.async_wait(
        tcp::socket::wait_read,
        [self = shared_from_this()](boost::system::error_code wec) { self->on_readable(wec); });
  }
}

bool http1_session::read_now(bool tried_later) {
  auto& buffer = ctx_.read_buffer();
  boost::system::error_code ec;
  const std::size_t n = socket_.read_some(asio::buffer(buffer), ec);
  more_to_read_ = false;
  if (ec == asio::error::would_block) return false;
  if (ec) {
    // End of stream, reset: quiet.
    spdlog::debug("connection closed while reading: {}", ec.message());
    close();
    return false;
  }
  more_to_read_ = n == buffer.size();
  // A request was there without waiting: keep trying later.
  if (tried_later) read_later_backoff_ = 0;
  const auto started_before = processor_.requests_started();
  processor_.receive(std::string_view(buffer.data(), n), draining());
  // A request other than the first began and is still incomplete: its own
  // read budget starts now (the first one's started at accept).
  if (processor_.requests_started() > std::max<std::uint64_t>(started_before, 1)) {
    request_deadline_ = ctx_.now() + ctx_.options.request_timeout;
  }
  serve();
  return true;
}

void http1_session::serve() {
  if (processor_.streaming() && !streaming_) begin_stream();
  // Answers are written at once, as far as the socket takes them, and the
  // connection goes straight on to its buffered requests and then to the
  // next read, all in this handler: waiting for a write completion would
  // put the next read behind every other connection's work. The batches
  // written back to back are bounded, so a pipelining client yields.
  for (int batch = 0; !processor_.output().empty(); ++batch) {
    if (batch == max_batches_per_turn) return yield();
    if (!write_now() || !next_batch()) return;
  }
  if (streaming_) return stream_pump();
  if (processor_.closing()) return finish();
  if (shutting_down_ && processor_.idle()) return linger();
  do_read();
}

bool http1_session::write_now() {
  phase_ = phase::writing;
  boost::system::error_code ec;
  if (!no_delay_ && !processor_.closing()) {
    // Only connections that carry more than one response need Nagle off
    // (a first response has nothing unacknowledged ahead of it), so
    // one-request connections skip the system call.
    socket_.set_option(tcp::no_delay(true), ec);
    no_delay_ = true;
  }
  output_queue& out = processor_.output();
  output_queue::buffer_array buffers;
  while (!out.empty()) {
    const std::size_t count = out.front(buffers);
    const std::size_t sent =
        socket_.write_some(std::span<const asio::const_buffer>(buffers.data(), count), ec);
    if (ec == asio::error::would_block) break;
    if (ec) {
      spdlog::debug("connection closed while writing: {}", ec.message());
      close();
      return false;
    }
    out.consume(sent);
  }
  if (out.empty()) return true;
  // The send buffer is full (a client that does not read, or a large
  // response): the rest waits for the socket under one write deadline, so
  // that a client reading a byte at a time cannot stretch it.
  // A stream's batch has one deadline from when it was queued, so that a
  // client that stopped reading is cut off even while the kernel still
  // takes a few bytes now and then.
  set_deadline((streaming_ ? stream_batch_at_ : ctx_.now()) + ctx_.options.write_timeout);
  socket_.async_wait(
      tcp::socket::wait_write,
      [self = shared_from_this()](boost::system::error_code wec) { self->on_writable(wec); });
  return false;
}

void http1_session::on_writable(boost::system::error_code ec) {
  if (phase_ != phase::writing) return;  // closed meanwhile
  if (ec) {
    spdlog::debug("connection closed while writing: {}", ec.message());
    return close();
  }
  if (write_now() && next_batch()) serve();
}

bool http1_session::next_batch() {
  processor_.written();
  if (processor_.closing()) {
    finish();
    return false;
  }
  const auto started_before = processor_.requests_started();
  processor_.process(draining());
  if (processor_.requests_started() > started_before) {
    request_deadline_ = ctx_.now() + ctx_.options.request_timeout;
  }
  return true;
}

void http1_session::yield() {
  phase_ = phase::yielding;
  set_deadline(ctx_.now() + ctx_.options.write_timeout);
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    if (self->phase_ == phase::yielding) self->serve();
  });
}

void http1_session::health_changed() {
  // While the stream is being written, what is new goes after it.
  if (phase_ == phase::streaming && !stream_done_) stream_pump();
}

void http1_session::begin_stream() {
  streaming_ = true;
  stream_batch_at_ = ctx_.now();
  std::string first;
  if (ctx_.events != nullptr) {
    stream_cursor_ = ctx_.events->snapshot(processor_.stream_checks(), first);
  }
  append_stream(first);
  // Opened while draining: the state, then the end.
  if (processor_.closing()) {
    if (processor_.stream_chunked()) processor_.output().append(std::string_view("0\r\n\r\n"));
    stream_done_ = true;
  }
  wait_stream_read();
}

void http1_session::stream_pump() {
  if (stream_done_) return end_stream();
  // Only once the output has gone is more taken from the feed, so a
  // client that reads slowly holds at most one batch (the feed's ring
  // bounds it); one that stops reading meets the write timeout.
  std::string news;
  if (ctx_.events != nullptr) {
    stream_cursor_ =
        ctx_.events->since(stream_cursor_, processor_.stream_checks(), news, event_batch_bytes);
  }
  append_stream(news);
  // Ending: once what is new (the `down` of the drain) has gone.
  if (shutting_down_ && news.empty()) {
    if (processor_.stream_chunked()) processor_.output().append(std::string_view("0\r\n\r\n"));
    stream_done_ = true;
  }
  if (!processor_.output().empty()) return serve();
  phase_ = phase::streaming;
  // No idle timeout: the deadline is the next keep-alive comment.
  set_deadline(next_keep_alive(ctx_.now()));
  wait_stream_read();
}

void http1_session::append_stream(std::string_view data) {
  if (data.empty()) return;
  output_queue& out = processor_.output();
  if (out.empty()) stream_batch_at_ = ctx_.now();
  if (processor_.stream_chunked()) {
    char size[20];
    const auto end = std::to_chars(size, size + sizeof size, data.size(), 16).ptr;
    out.append(std::string_view(size, static_cast<std::size_t>(end - size)));
    out.append(std::string_view("\r\n"));
    out.append(data);
    out.append(std::string_view("\r\n"));
  } else {
    out.append(data);
  }
}

void http1_session::end_stream() {
  // The last chunk is out: the client closes, or the lingering close
  // reads until it does.
  deadline_ = clock::time_point::max();
  if (!stream_read_pending_) return linger();
  phase_ = phase::streaming;
  linger_when_cancelled_ = true;
  boost::system::error_code ec;
  socket_.cancel(ec);  // the read wait completes and lingers
}

void http1_session::wait_stream_read() {
  if (stream_read_pending_ || phase_ == phase::closed) return;
  stream_read_pending_ = true;
  socket_.async_wait(
      tcp::socket::wait_read,
      [self = shared_from_this()](boost::system::error_code ec) { self->on_stream_readable(ec); });
}

void http1_session::on_stream_readable(boost::system::error_code ec) {
  stream_read_pending_ = false;
  if (phase_ == phase::closed) return;
  if (linger_when_cancelled_) return linger();
  if (!ec) {
    // A stream's client has nothing to say: what it sends is dropped, and
    // its end (or a reset) closes the stream.
    socket_.read_some(asio::buffer(ctx_.read_buffer()), ec);
    if (ec == asio::error::would_block) ec = {};
  }
  if (ec) {
    spdlog::debug("event stream closed by the client: {}", ec.message());
    return close();
  }
  wait_stream_read();
}

void http1_session::finish() {
  // A client that asked to close sends nothing more: close at once, as
  // nginx does. Otherwise linger.
  if (processor_.clean_close()) return close();
  linger();
}

void http1_session::linger() {
  if (phase_ == phase::closed) return;
  phase_ = phase::closed;
  deadline_ = clock::time_point::max();
  lingering_close::start(std::move(socket_), std::move(slot_), ctx_);
}

void http1_session::close() {
  if (phase_ == phase::closed) return;
  phase_ = phase::closed;
  deadline_ = clock::time_point::max();
  // Completes a wait in progress with operation_aborted; the last handler
  // to finish releases the session.
  boost::system::error_code ec;
  socket_.close(ec);
}

}  // namespace badges_health::http
