#include "h2_session.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/write.hpp>

namespace badges_health::http {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// An HTTP/2 client's frames come in larger pieces than an HTTP/1.1 probe's
// request, and one read should take a whole burst of them.
constexpr std::size_t read_buffer_bytes = 16 * 1024;

// Bytes discarded while lingering before we give up and close hard.
constexpr std::size_t max_linger_bytes = 1024 * 1024;

}  // namespace

h2_session::h2_session(tcp::socket socket, connection_context& ctx,
                       clock::time_point request_deadline)
    : socket_(std::move(socket)),
      ctx_(ctx),
      processor_(ctx.options, ctx.middleware, &ctx.metrics, ctx.grpc),
      buffer_(read_buffer_bytes),
      deadline_(request_deadline),
      first_deadline_(request_deadline),
      idle_since_(clock::now()) {
  registry_pos_ = ctx_.connections.insert(ctx_.connections.end(), this);
}

h2_session::~h2_session() {
  ctx_.connections.erase(registry_pos_);
  ctx_.open_connections.fetch_sub(1, std::memory_order_relaxed);
}

void h2_session::start(std::string_view after_preface) {
  // The processor's SETTINGS go out first, whatever came with the preface.
  receive(after_preface);
}

void h2_session::receive(std::string_view bytes) {
  const bool draining = ctx_.draining.load(std::memory_order_relaxed);
  if (!processor_.receive(bytes, draining)) return close_after_flush();
  flush();
}

void h2_session::do_read() {
  if (reading_ || writing_ || lingering_ || closed_) return;
  reading_ = true;
  socket_.async_read_some(asio::buffer(buffer_),
                          [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
                            self->on_read(ec, n);
                          });
}

void h2_session::on_read(boost::system::error_code ec, std::size_t n) {
  reading_ = false;
  if (closed_) return;
  if (lingering_) return on_linger_read(ec, n);
  if (ec) {
    spdlog::debug("HTTP/2 connection closed while reading: {}", ec.message());
    return close();
  }
  receive(std::string_view(buffer_.data(), n));
}

void h2_session::flush() {
  if (writing_ || lingering_ || closed_) return;
  if (!processor_.send(out_)) return close();
  if (!out_.empty()) {
    boost::system::error_code ec;
    const std::size_t sent = socket_.write_some(asio::buffer(out_), ec);
    if (ec && ec != asio::error::would_block) {
      spdlog::debug("HTTP/2 connection closed while writing: {}", ec.message());
      return close();
    }
    const std::size_t done = ec ? 0 : sent;
    if (done < out_.size()) {
      // A full send buffer: the rest goes out asynchronously, and nothing
      // more is read until it has.
      out_.erase(0, done);
      writing_ = true;
      write_deadline_ = clock::now() + ctx_.options.write_timeout;
      update_deadline();
      asio::async_write(socket_, asio::buffer(out_),
                        [self = shared_from_this()](boost::system::error_code wec, std::size_t) {
                          self->on_write(wec);
                        });
      return;
    }
    out_.clear();
  }
  if (processor_.finished()) return linger();
  update_deadline();
  do_read();
}

void h2_session::on_write(boost::system::error_code ec) {
  writing_ = false;
  if (closed_) return;
  if (ec) {
    spdlog::debug("HTTP/2 connection closed while writing: {}", ec.message());
    return close();
  }
  out_.clear();
  flush();
}

void h2_session::update_deadline() {
  if (lingering_) return;
  if (writing_) {
    deadline_ = write_deadline_;
    return;
  }
  auto d = processor_.deadline();
  if (processor_.idle()) {
    // Until its first stream a connection has the first request's budget;
    // after, the idle timeout counts from the last stream's end.
    if (!processor_.any_stream()) {
      d = std::min(d, first_deadline_);
    } else {
      d = std::min(d, idle_since_ + ctx_.options.idle_timeout);
    }
  } else {
    idle_since_ = clock::now();
  }
  deadline_ = d;
}

void h2_session::expire() {
  if (closed_) return;
  if (lingering_) return close();
  const auto now = clock::now();
  if (writing_ || processor_.expire(now) || (processor_.idle() && deadline_ <= now)) {
    spdlog::debug("HTTP/2 connection closed at its deadline");
    processor_.terminate();
    return close_after_flush();
  }
  flush();  // Watch streams that ran out end with DEADLINE_EXCEEDED
}

void h2_session::shutdown() {
  if (closed_ || lingering_) return;
  processor_.shutdown();
  flush();
}

void h2_session::health_changed() {
  if (closed_ || lingering_) return;
  processor_.health_changed();
  flush();
}

void h2_session::close_after_flush() {
  if (closed_ || lingering_) return;
  if (!writing_) {
    std::string last;
    if (processor_.send(last) && !last.empty()) {
      boost::system::error_code ec;
      socket_.write_some(asio::buffer(last), ec);  // best effort: the GOAWAY
    }
  }
  linger();
}

void h2_session::linger() {
  if (closed_ || lingering_) return;
  lingering_ = true;
  deadline_ = clock::now() + ctx_.options.linger_timeout;
  boost::system::error_code ec;
  socket_.shutdown(tcp::socket::shutdown_send, ec);
  if (ec) return close();
  // A read in progress completes into on_linger_read; otherwise start one.
  if (!reading_) {
    reading_ = true;
    socket_.async_read_some(asio::buffer(buffer_),
                            [self = shared_from_this()](boost::system::error_code rec,
                                                        std::size_t n) { self->on_read(rec, n); });
  }
}

void h2_session::on_linger_read(boost::system::error_code ec, std::size_t n) {
  lingered_ += n;
  if (ec || lingered_ > max_linger_bytes) return close();
  reading_ = true;
  socket_.async_read_some(asio::buffer(buffer_),
                          [self = shared_from_this()](boost::system::error_code rec,
                                                      std::size_t m) { self->on_read(rec, m); });
}

void h2_session::close() {
  if (closed_) return;
  closed_ = true;
  deadline_ = clock::time_point::max();
  boost::system::error_code ec;
  socket_.close(ec);
}

}  // namespace badges_health::http
