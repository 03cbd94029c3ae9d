// Resolve, connect, GET, and judge the answer for the http check.
#include "badges_health/health/http_probe.hpp"

#include <boost/asio/connect.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace badges_health::health {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;

http_probe::http_probe(const check_spec& spec, asio::any_io_executor ex)
    : host_(spec.host),
      port_(std::to_string(spec.port)),
      target_(spec.target),
      expect_status_(spec.expect_status),
      expect_body_(spec.expect_body),
      resolver_(ex),
      socket_(ex) {
  const bool v6 = host_.find(':') != std::string::npos;
  host_header_ = (v6 ? "[" + host_ + "]" : host_) + (spec.port == 80 ? "" : ":" + port_);
}

void http_probe::start(completion done) {
  buffer_.clear();
  parser_.emplace();
  parser_->body_limit(http_probe_body_limit);
  resolver_.async_resolve(
      host_, port_,
      [self = shared_from_this(), done = std::move(done)](boost::system::error_code ec,
                                                          tcp::resolver::results_type results) {
        if (ec) return done({false, "resolve " + self->host_ + ": " + ec.message()});
        asio::async_connect(
            self->socket_, results,
            [self, done](boost::system::error_code cec, const tcp::endpoint&) {
              if (cec) {
                return done({false, "connect " + self->host_header_ + ": " + cec.message()});
              }
              self->on_connected(done);
            });
      });
}

void http_probe::on_connected(completion done) {
  request_ = {};
  request_.method(bhttp::verb::get);
  request_.target(target_);
  request_.version(11);
  request_.set(bhttp::field::host, host_header_);
  request_.set(bhttp::field::user_agent, "badges-health/" BADGES_HEALTH_VERSION);
  request_.set(bhttp::field::connection, "close");
  bhttp::async_write(socket_, request_,
                     [self = shared_from_this(), done](boost::system::error_code ec, std::size_t) {
                       if (ec) return done({false, "send request: " + ec.message()});
                       auto read_done = [self, done](boost::system::error_code rec, std::size_t) {
                         self->on_response(done, rec);
                       };
                       if (self->expect_body_) {
                         bhttp::async_read(self->socket_, self->buffer_, *self->parser_,
                                           std::move(read_done));
                       } else {
                         // Only the status matters: never read the body.
                         bhttp::async_read_header(self->socket_, self->buffer_, *self->parser_,
                                                  std::move(read_done));
                       }
                     });
}

void http_probe::on_response(completion done, boost::system::error_code ec) {
  boost::system::error_code ignored;
  socket_.close(ignored);
  if (ec == bhttp::error::body_limit) {
    return done(
        {false, "response body larger than " + std::to_string(http_probe_body_limit) + " bytes"});
  }
  if (ec) return done({false, "read response: " + ec.message()});
  const unsigned code = parser_->get().result_int();
  bool status_ok = false;
  for (const auto& r : expect_status_) status_ok = status_ok || (code >= r.low && code <= r.high);
  if (!status_ok) return done({false, "unexpected status " + std::to_string(code)});
  if (expect_body_ && parser_->get().body().find(*expect_body_) == std::string::npos) {
    return done(
        {false, "status " + std::to_string(code) + " but body lacks '" + *expect_body_ + "'"});
  }
  done({true, "status " + std::to_string(code)});
}

void http_probe::cancel() noexcept {
  resolver_.cancel();
  boost::system::error_code ignored;
  socket_.close(ignored);
}

}  // namespace badges_health::health
