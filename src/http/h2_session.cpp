// Reading, writing and ending an HTTP/2 connection.
#include "h2_session.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "lingering_close.hpp"

namespace badges_health::http {

namespace asio = boost::asio;
using asio::ip::tcp;

h2_session::h2_session(tcp::socket socket, connection_slot slot, connection_context& ctx,
                       const tcp::endpoint& client, clock::time_point request_deadline)
    : socket_(std::move(socket)),
      slot_(std::move(slot)),
      ctx_(ctx),
      client_(client),
      h2_(ctx.options, ctx.middleware, ctx.recorder(), ctx.grpc, ctx.clock_source(), &client_,
          ctx.events),
      deadline_(request_deadline),
      first_deadline_(request_deadline),
      idle_since_(ctx.now()) {
  ctx_.track(*this);
  ctx_.deadline_set(deadline_);
}

h2_session::~h2_session() { ctx_.forget(*this); }

void h2_session::set_deadline(clock::time_point at) {
  deadline_ = at;
  ctx_.deadline_set(at);
}

void h2_session::start(std::string_view after_preface) {
  // The connection's SETTINGS go out first, whatever came with the preface.
  receive(after_preface);
}

void h2_session::receive(std::string_view bytes) {
  if (!h2_.receive(bytes, ctx_.is_draining())) return close_after_flush();
  flush();
}

void h2_session::do_read() {
  if (reading_ || writing_ || ending_ || closed_) return;
  reading_ = true;
  socket_.async_wait(
      tcp::socket::wait_read,
      [self = shared_from_this()](boost::system::error_code ec) { self->on_readable(ec); });
}

void h2_session::on_readable(boost::system::error_code ec) {
  reading_ = false;
  if (closed_) return;
  if (ending_) return linger();
  if (ec) {
    spdlog::debug("HTTP/2 connection closed while waiting to read: {}", ec.message());
    return close();
  }
  auto& buffer = ctx_.read_buffer();
  const std::size_t n = socket_.read_some(asio::buffer(buffer), ec);
  if (ec == asio::error::would_block) return do_read();
  if (ec) {
    spdlog::debug("HTTP/2 connection closed while reading: {}", ec.message());
    return close();
  }
  receive(std::string_view(buffer.data(), n));
}

void h2_session::flush() {
  if (writing_ || ending_ || closed_) return;
  for (;;) {
    // Frames are made only as far ahead of the socket as max_unsent.
    if (out_pos_ == out_.size()) {
      out_.clear();
      out_pos_ = 0;
    }
    h2_.set_unsent(out_.size() - out_pos_);
    if (!h2_.send(out_, out_pos_ + max_unsent)) return close();
    if (out_pos_ == out_.size()) break;
    boost::system::error_code ec;
    const std::size_t sent =
        socket_.write_some(asio::buffer(out_.data() + out_pos_, out_.size() - out_pos_), ec);
    if (ec == asio::error::would_block) {
      // A full send buffer: the rest waits for the socket, and nothing more
      // is read until it has gone.
      h2_.set_unsent(out_.size() - out_pos_);
      writing_ = true;
      write_deadline_ = ctx_.now() + ctx_.options.write_timeout;
      update_deadline();
      socket_.async_wait(
          tcp::socket::wait_write,
          [self = shared_from_this()](boost::system::error_code wec) { self->on_writable(wec); });
      return;
    }
    if (ec) {
      spdlog::debug("HTTP/2 connection closed while writing: {}", ec.message());
      return close();
    }
    out_pos_ += sent;
  }
  // Nothing unsent: the buffer goes back, so that an idle connection (or
  // one whose streams wait on a closed window) holds none.
  std::string().swap(out_);
  out_pos_ = 0;
  h2_.set_unsent(0);
  if (h2_.finished()) return linger();
  update_deadline();
  do_read();
}

void h2_session::on_writable(boost::system::error_code ec) {
  writing_ = false;
  if (closed_) return;
  if (ending_) return linger();
  if (ec) {
    spdlog::debug("HTTP/2 connection closed while writing: {}", ec.message());
    return close();
  }
  flush();
}

void h2_session::update_deadline() {
  if (writing_) return set_deadline(write_deadline_);
  auto d = h2_.deadline();
  if (h2_.idle()) {
    // Until its first stream a connection has the first request's budget;
    // after, the idle timeout counts from the last stream's end.
    d = std::min(d, h2_.any_stream() ? idle_since_ + ctx_.options.idle_timeout : first_deadline_);
  } else {
    idle_since_ = ctx_.now();
  }
  set_deadline(d);
}

void h2_session::expire() {
  if (closed_ || ending_) return;
  const auto now = ctx_.now();
  if (writing_ || h2_.expire(now) || (h2_.idle() && deadline_ <= now)) {
    spdlog::debug("HTTP/2 connection closed at its deadline");
    h2_.terminate();
    return close_after_flush();
  }
  flush();  // Watch streams that ran out end with DEADLINE_EXCEEDED
}

void h2_session::shutdown() {
  if (closed_ || ending_) return;
  h2_.shutdown();
  flush();
}

void h2_session::health_changed() {
  if (closed_ || ending_) return;
  h2_.health_changed();
  flush();
}

void h2_session::close_after_flush() {
  if (closed_ || ending_) return;
  if (!writing_) {
    // Best effort: the GOAWAY saying why, if the socket takes it now.
    std::string last;
    if (h2_.send(last, max_unsent) && !last.empty()) {
      boost::system::error_code ec;
      socket_.write_some(asio::buffer(last), ec);
    }
  }
  linger();
}

void h2_session::linger() {
  if (closed_) return;
  ending_ = true;
  deadline_ = clock::time_point::max();
  if (reading_ || writing_) {
    // The pending waits complete with operation_aborted and come back here.
    boost::system::error_code ec;
    socket_.cancel(ec);
    return;
  }
  closed_ = true;
  lingering_close::start(std::move(socket_), std::move(slot_), ctx_);
}

void h2_session::close() {
  if (closed_) return;
  closed_ = true;
  deadline_ = clock::time_point::max();
  boost::system::error_code ec;
  socket_.close(ec);
}

}  // namespace badges_health::http
