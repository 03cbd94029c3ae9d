// The life of a connection: read, parse, answer, write, repeat; quiet
// close on end of stream, reset or timeout.
#include "badges_health/http/session.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/write.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/http/error.hpp>

#include "badges_health/http/http_error.hpp"
#include "badges_health/http/response_writer.hpp"

namespace badges_health::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

constexpr std::size_t read_chunk = 4096;
// Bytes discarded while lingering before we give up and close hard.
constexpr std::size_t max_linger_bytes = 64 * 1024;

}  // namespace

session::session(asio::ip::tcp::socket&& socket, connection_context& ctx)
    : stream_(std::move(socket)), ctx_(ctx) {
  registry_pos_ = ctx_.sessions.insert(ctx_.sessions.end(), this);
}

session::~session() {
  ctx_.sessions.erase(registry_pos_);
  ctx_.open_connections.fetch_sub(1, std::memory_order_relaxed);
}

void session::start() {
  beast::error_code ec;
  stream_.socket().set_option(asio::ip::tcp::no_delay(true), ec);
  request_deadline_ = std::chrono::steady_clock::now() + ctx_.options.request_timeout;
  do_read();
}

void session::shutdown() {
  shutting_down_ = true;
  if (phase_ == phase::reading && idle()) {
    // Waiting for a keep-alive request that may never come: close now.
    stream_.cancel();
  }
}

void session::do_read() {
  phase_ = phase::reading;
  if (idle() && !first_request_) {
    stream_.expires_after(ctx_.options.idle_timeout);
  } else {
    // One budget for the whole request, however it is dripped in. The first
    // request's budget starts at accept.
    stream_.expires_at(request_deadline_);
  }
  stream_.async_read_some(in_.prepare(read_chunk),
                          beast::bind_front_handler(&session::on_read, shared_from_this()));
}

void session::on_read(beast::error_code ec, std::size_t bytes) {
  if (ec) {
    // End of stream, reset, timeout, or cancelled by shutdown: all quiet.
    spdlog::debug("connection closed while reading: {}", ec.message());
    return close();
  }
  in_.commit(bytes);
  process();
}

void session::process() {
  while (!closing_ && queued_ < ctx_.options.max_pipelined && in_.size() > 0) {
    if (!parser_) {
      parser_.emplace();
      parser_->header_limit(static_cast<std::uint32_t>(ctx_.options.max_header_bytes));
      if (!first_request_) {
        request_deadline_ = std::chrono::steady_clock::now() + ctx_.options.request_timeout;
      }
    }
    beast::error_code ec;
    const std::size_t used = parser_->put(in_.data(), ec);
    in_.consume(used);
    if (ec == bhttp::error::need_more) break;
    if (ec) {
      reject_parse_error(ec);
      break;
    }
    if (!parser_->is_header_done()) break;
    answer_current();
  }

  if (!out_.empty()) return do_write();
  if (closing_) return do_linger();
  if (shutting_down_ && idle()) return close();
  do_read();
}

void session::answer_current() {
  const auto& req = parser_->get();
  if (parser_->chunked() || parser_->content_length().value_or(0) > 0 ||
      req.find(bhttp::field::transfer_encoding) != req.end()) {
    return reject(http_error::body_not_allowed());
  }
  if (req.target().size() > ctx_.options.max_target_bytes) {
    return reject(http_error::target_too_long());
  }

  const auto started = std::chrono::steady_clock::now();
  std::size_t route = 0;
  response res = ctx_.middleware.handle(req.method(), req.method_string(), req.target(),
                                        req.version(), &req, route);
  const bool keep_alive = req.keep_alive() && !res.close && !shutting_down_;
  write_response(res, write_options{req.method() == bhttp::verb::head, keep_alive, req.version()},
                 out_);
  const auto took = std::chrono::steady_clock::now() - started;
  ctx_.metrics.record(route, req.method(), static_cast<unsigned>(res.status), took);
  if (ctx_.options.access_log) {
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(took).count();
    spdlog::info("access {} {} HTTP/{}.{} {} {}us", req.method_string(), req.target(),
                 req.version() / 10, req.version() % 10, static_cast<unsigned>(res.status), micros);
  }
  ++queued_;
  first_request_ = false;
  parser_.reset();
  if (!keep_alive) closing_ = true;
}

void session::reject(const http_error& e) {
  spdlog::debug("rejecting request: {} {}", e.code(), e.what());
  const response res = error_middleware::to_response(e);
  ctx_.metrics.record(ctx_.middleware.router().paths_size(),
                      parser_ ? parser_->get().method() : bhttp::verb::unknown,
                      static_cast<unsigned>(res.status), std::chrono::nanoseconds{0});
  // A HEAD request rejected after its start line still gets no body.
  const bool head = parser_ && parser_->get().method() == bhttp::verb::head;
  write_response(res, write_options{head, false, 11}, out_);
  ++queued_;
  parser_.reset();
  closing_ = true;
}

void session::reject_parse_error(beast::error_code ec) {
  if (ec == bhttp::error::header_limit) {
    // A request line that alone exceeds the header limit is a long target
    // (414); otherwise the header fields are too large (431).
    const auto& req = parser_->get();
    const bool start_line_parsed = !req.method_string().empty();
    const bool long_target = start_line_parsed
                                 ? req.target().size() > ctx_.options.max_target_bytes
                                 : true;
    return reject(long_target ? http_error::target_too_long() : http_error::header_too_large());
  }
  if (ec == bhttp::error::bad_transfer_encoding) return reject(http_error::body_not_allowed());
  reject(http_error::bad_request("malformed request: " + ec.message()));
}

void session::do_write() {
  phase_ = phase::writing;
  stream_.expires_after(ctx_.options.write_timeout);
  asio::async_write(stream_, asio::buffer(out_),
                    beast::bind_front_handler(&session::on_write, shared_from_this()));
}

void session::on_write(beast::error_code ec, std::size_t) {
  if (ec) {
    spdlog::debug("connection closed while writing: {}", ec.message());
    return close();
  }
  out_.clear();
  queued_ = 0;
  if (closing_) return do_linger();
  process();
}

void session::do_linger() {
  // Half-close and drain what the client still sends, so that closing with
  // unread bytes does not reset the connection before it reads our answer.
  phase_ = phase::lingering;
  beast::error_code ec;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  if (ec) return close();
  stream_.expires_after(ctx_.options.linger_timeout);
  linger_read();
}

void session::linger_read() {
  stream_.async_read_some(asio::buffer(discard_),
                          beast::bind_front_handler(&session::on_linger, shared_from_this()));
}

void session::on_linger(beast::error_code ec, std::size_t bytes) {
  lingered_ += bytes;
  if (ec || lingered_ > max_linger_bytes) return close();
  linger_read();
}

void session::close() {
  if (phase_ == phase::closed) return;
  phase_ = phase::closed;
  stream_.expires_never();
  beast::error_code ec;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  stream_.socket().close(ec);
}

}  // namespace badges_health::http
