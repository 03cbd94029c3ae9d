// Connect, (for https) handshake and verify, GET, and judge the answer for
// the http check.
#include "http_probe.hpp"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <nlohmann/json.hpp>

namespace badges_health::health {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;

namespace {

asio::ssl::context make_tls_context(const check_spec& spec) {
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                  asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                  asio::ssl::context::no_tlsv1_1);
  if (spec.insecure) {
    spdlog::warn(
        "check {}: insecure is set: the certificate of {} is not verified, so anyone on the path "
        "can answer for it",
        spec.name, spec.url);
    ctx.set_verify_mode(asio::ssl::verify_none);
    return ctx;
  }
  if (spec.ca_file.empty()) {
    ctx.set_default_verify_paths();
  } else {
    ctx.load_verify_file(spec.ca_file);
  }
  ctx.set_verify_mode(asio::ssl::verify_peer);
  return ctx;
}

// "certificate verify failed" and friends, in OpenSSL's words, with what
// was being verified.
std::string describe_tls_failure(const boost::system::error_code& ec) {
  std::string what = ec.message();
  if (ec.category() == asio::error::get_ssl_category()) {
    const auto reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
    if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED) {
      what = "certificate verify failed (untrusted issuer, expired, or issued for another name)";
    }
  }
  return "TLS handshake: " + what;
}

}  // namespace

http_probe::http_probe(const check_spec& spec, asio::any_io_executor ex)
    : connector_(spec.host, spec.port, std::move(ex)),
      host_(spec.host),
      target_(spec.target),
      expect_status_(spec.expect_status),
      expect_body_(spec.expect_body),
      expect_json_(spec.expect_json) {
  // The Host header leaves out the default port, as browsers write it.
  host_header_ = connector_.authority();
  const unsigned short default_port = spec.tls ? 443 : 80;
  if (spec.port == default_port) {
    host_header_.resize(host_header_.size() - std::to_string(default_port).size() - 1);
  }
  if (spec.tls) tls_.emplace(make_tls_context(spec));
}

void http_probe::start(completion done) {
  buffer_.clear();
  parser_.emplace();
  parser_->body_limit(http_probe_body_limit);
  stream_.reset();
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
  if (!tls_) return exchange(connector_.socket(), std::move(done));

  stream_.emplace(connector_.socket(), *tls_);
  // SNI, so that a server with several names presents the right
  // certificate; an IP literal is not sent as a name.
  boost::system::error_code ec;
  const bool is_address = (asio::ip::make_address(host_, ec), !ec);
  if (!is_address) SSL_set_tlsext_host_name(stream_->native_handle(), host_.c_str());
  stream_->set_verify_callback(asio::ssl::host_name_verification(host_));
  stream_->async_handshake(
      asio::ssl::stream_base::client,
      [self = shared_from_this(), done](boost::system::error_code hec) mutable {
        self->on_handshake(std::move(done), hec);
      });
}

void http_probe::on_handshake(completion done, boost::system::error_code ec) {
  if (ec) {
    boost::system::error_code ignored;
    connector_.socket().close(ignored);
    return done({false, describe_tls_failure(ec)});
  }
  exchange(*stream_, std::move(done));
}

template <class Stream>
void http_probe::exchange(Stream& stream, completion done) {
  bhttp::async_write(
      stream, request_,
      [self = shared_from_this(), &stream, done](boost::system::error_code ec, std::size_t) {
        if (ec) return done({false, "send request: " + ec.message()});
        auto read_done = [self, done](boost::system::error_code rec, std::size_t) {
          self->on_response(done, rec);
        };
        if (self->expect_body_ || self->expect_json_) {
          bhttp::async_read(stream, self->buffer_, *self->parser_, std::move(read_done));
        } else {
          // Only the status matters: never read the body.
          bhttp::async_read_header(stream, self->buffer_, *self->parser_, std::move(read_done));
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
  // A TLS server that closes without close_notify after a complete
  // response is common and harmless here: the parser knows the response
  // is complete.
  if (ec == asio::ssl::error::stream_truncated && parser_->is_done()) ec = {};
  if (ec) return done({false, "read response: " + ec.message()});
  const unsigned code = parser_->get().result_int();
  bool status_ok = false;
  for (const auto& r : expect_status_) status_ok = status_ok || (code >= r.low && code <= r.high);
  if (!status_ok) return done({false, "unexpected status " + std::to_string(code)});
  const std::string& body = parser_->get().body();
  if (expect_body_ && body.find(*expect_body_) == std::string::npos) {
    return done(
        {false, "status " + std::to_string(code) + " but body lacks '" + *expect_body_ + "'"});
  }
  if (expect_json_) {
    if (auto mismatch = json_mismatch(body); !mismatch.empty()) {
      return done({false, "status " + std::to_string(code) + " but " + mismatch});
    }
    return done({true, "status " + std::to_string(code) + ", " + expect_json_->pointer + " is " +
                           expect_json_->equals});
  }
  done({true, "status " + std::to_string(code)});
}

std::string http_probe::json_mismatch(const std::string& body) const {
  using nlohmann::json;
  const json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return "the body is not JSON";
  const json expected = json::parse(expect_json_->equals, nullptr, false);
  // The pointer was validated when the checks file was loaded.
  const json::json_pointer pointer(expect_json_->pointer);
  if (!doc.contains(pointer)) return "the body has no " + expect_json_->pointer;
  const json& seen = doc.at(pointer);
  if (seen != expected) {
    std::string shown = seen.dump(-1, ' ', false, json::error_handler_t::replace);
    if (shown.size() > 64) shown = shown.substr(0, 61) + "...";
    return expect_json_->pointer + " is " + shown + ", expected " + expect_json_->equals;
  }
  return {};
}

void http_probe::cancel() noexcept { connector_.cancel(); }

}  // namespace badges_health::health
