// Connect, GET, and judge the answer for the http check.
#include "http_probe.hpp"

#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

namespace badges_health::health {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;

http_probe::http_probe(const check_spec& spec, asio::any_io_executor ex)
    : connector_(spec.host, spec.port, std::move(ex)),
      target_(spec.target),
      expect_status_(spec.expect_status),
      expect_body_(spec.expect_body) {
  // The Host header leaves out the default port, as browsers write it.
  host_header_ = connector_.authority();
  if (spec.port == 80) host_header_.resize(host_header_.size() - 3);
}

void http_probe::start(completion done) {
  buffer_.clear();
  parser_.emplace();
  parser_->body_limit(http_probe_body_limit);
  connector_.start([self = shared_from_this(), done = std::move(done)](const std::string& error,
                                                                       const tcp::endpoint&) {
    if (!error.empty()) return done({false, error});
    self->on_connected(done);
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
  bhttp::async_write(connector_.socket(), request_,
                     [self = shared_from_this(), done](boost::system::error_code ec, std::size_t) {
                       if (ec) return done({false, "send request: " + ec.message()});
                       auto read_done = [self, done](boost::system::error_code rec, std::size_t) {
                         self->on_response(done, rec);
                       };
                       if (self->expect_body_) {
                         bhttp::async_read(self->connector_.socket(), self->buffer_, *self->parser_,
                                           std::move(read_done));
                       } else {
                         // Only the status matters: never read the body.
                         bhttp::async_read_header(self->connector_.socket(), self->buffer_,
                                                  *self->parser_, std::move(read_done));
                       }
                     });
}

void http_probe::on_response(completion done, boost::system::error_code ec) {
  boost::system::error_code ignored;
  connector_.socket().close(ignored);
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

void http_probe::cancel() noexcept { connector_.cancel(); }

}  // namespace badges_health::health
