// The http check: GET the URL (over TLS for https://, with the certificate
// and host name verified) with a proper Host header, follow no redirects,
// and judge the status, the body (a string it must contain, or a JSON value
// at a JSON Pointer) and, for https, how long the certificate has left. At
// most 64 KiB of body is read.
//
// The checker keeps the TLS context (the CA store is read once, and again on
// SIGHUP) and the resolver; each attempt has its own connection, whose
// composed reads and writes may outlive an abandoned attempt.
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "../connector.hpp"
#include "../exchange_checker.hpp"
#include "../tls_client.hpp"
#include "badges_health/health/check_clock.hpp"
#include "badges_health/health/check_reader.hpp"
#include "badges_health/health/checker.hpp"
#include "badges_health/util/http_url.hpp"

namespace badges_health::health {

namespace checks {
extern const check_type http;
}  // namespace checks

namespace http_check {
namespace {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using nlohmann::json;

/// Largest response body an http check reads.
constexpr std::size_t body_limit = 64 * 1024;

/// An inclusive range of HTTP status codes.
struct status_range {
  unsigned low;
  unsigned high;
  bool operator==(const status_range&) const = default;
};

bool in(const std::vector<status_range>& ranges, unsigned code) {
  for (const auto& r : ranges) {
    if (code >= r.low && code <= r.high) return true;
  }
  return false;
}

struct json_expectation {
  std::string pointer;
  // The expected value, as JSON text ("true", "\"ok\"", "3").
  std::string equals;
  bool operator==(const json_expectation&) const = default;
};

struct http_fields {
  util::http_url url;
  std::vector<status_range> expect_status{{200, 399}};
  std::vector<status_range> warn_status;
  std::optional<std::string> expect_body;
  std::optional<json_expectation> expect_json;
  tls_settings tls;
  /// https: a certificate with fewer days left is a warning (0: never).
  unsigned cert_warn_days = 14;
  bool operator==(const http_fields&) const = default;
};

// What the body says at the expected JSON Pointer; empty when it passes.
std::string json_mismatch(const json_expectation& expect, const std::string& body) {
  const json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return "the body is not JSON";
  const json expected = json::parse(expect.equals, nullptr, false);
  // The pointer was validated when the checks file was read.
  const json::json_pointer pointer(expect.pointer);
  if (!doc.contains(pointer)) return "the body has no " + expect.pointer;
  const json& seen = doc.at(pointer);
  if (seen != expected) {
    std::string shown = seen.dump(-1, ' ', false, json::error_handler_t::replace);
    if (shown.size() > 64) shown = shown.substr(0, 61) + "...";
    return expect.pointer + " is " + shown + ", expected " + expect.equals;
  }
  return {};
}

// What the checker keeps for its attempts.
struct shared_part {
  http_fields fields;
  std::string check;
  connector connect;
  // Replaced whole on reload; an attempt keeps the one it started with.
  std::shared_ptr<asio::ssl::context> tls;
  bhttp::request<bhttp::empty_body> request;
  const check_clock* clock;

  shared_part(http_fields f, std::string name, asio::any_io_executor ex, const check_clock* c)
      : fields(std::move(f)),
        check(std::move(name)),
        connect(fields.url.host, fields.url.port, ex),
        clock(c) {
    // The Host header leaves out the default port, as browsers write it.
    std::string host = connect.authority();
    const unsigned short default_port = fields.url.tls ? 443 : 80;
    if (fields.url.port == default_port) {
      host.resize(host.size() - std::to_string(default_port).size() - 1);
    }
    request.method(bhttp::verb::get);
    request.target(fields.url.target);
    request.version(11);
    request.set(bhttp::field::host, host);
    request.set(bhttp::field::user_agent, "badges-health/" BADGES_HEALTH_VERSION);
    request.set(bhttp::field::connection, "close");
    load_context();
  }

  // Made before the old one goes: a CA file that has become unreadable
  // keeps the context loaded before (and the reload says why).
  void load_context() {
    if (!fields.url.tls) return;
    tls = std::make_shared<asio::ssl::context>(
        make_tls_client_context(fields.tls, check, fields.url.text));
  }
};

// One attempt: a connection, a request, its answer.
class exchange : public std::enable_shared_from_this<exchange> {
 public:
  exchange(std::shared_ptr<shared_part> shared, asio::any_io_executor ex)
      : shared_(std::move(shared)), socket_(std::move(ex)) {
    parser_.body_limit(body_limit);
  }

  void start(checker::completion done) {
    done_ = std::move(done);
    shared_->connect.start(socket_, [self = shared_from_this()](const connector::outcome& reached) {
      if (!reached) return self->finish({check_status::fail, reached.error()});
      self->on_connected();
    });
  }

  void cancel() noexcept {
    done_ = nullptr;
    shared_->connect.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  using tls_stream = asio::ssl::stream<tcp::socket&>;

  void on_connected() {
    if (!shared_->tls) return exchange_with(socket_);
    tls_ = shared_->tls;
    stream_.emplace(socket_, *tls_);
    prepare_tls_handshake(stream_->native_handle(), shared_->connect.host(),
                          shared_->connect.host_is_address());
    stream_->async_handshake(
        asio::ssl::stream_base::client, [self = shared_from_this()](boost::system::error_code ec) {
          if (ec) return self->finish({check_status::fail, describe_tls_failure(ec)});
          self->exchange_with(*self->stream_);
        });
  }

  // Writes the request and reads the answer on `stream` (the socket, or the
  // TLS stream over it).
  template <class Stream>
  void exchange_with(Stream& stream) {
    bhttp::async_write(
        stream, shared_->request,
        [self = shared_from_this(), &stream](boost::system::error_code ec, std::size_t) {
          if (ec) return self->finish({check_status::fail, "send request: " + ec.message()});
          auto read_done = [self](boost::system::error_code rec, std::size_t) {
            self->on_response(rec);
          };
          const auto& f = self->shared_->fields;
          if (f.expect_body || f.expect_json) {
            bhttp::async_read(stream, self->buffer_, self->parser_, std::move(read_done));
          } else {
            // Only the status matters: never read the body.
            bhttp::async_read_header(stream, self->buffer_, self->parser_, std::move(read_done));
          }
        });
  }

  void on_response(boost::system::error_code ec) {
    if (ec == bhttp::error::body_limit) {
      return finish({check_status::fail,
                     "response body larger than " + std::to_string(body_limit) + " bytes"});
    }
    // A TLS server that closes without close_notify after a complete
    // response is common and harmless here: the parser knows the response
    // is complete.
    if (ec == asio::ssl::error::stream_truncated && parser_.is_done()) ec = {};
    if (ec) return finish({check_status::fail, "read response: " + ec.message()});
    finish(judge());
  }

  check_result judge() {
    const auto& f = shared_->fields;
    const unsigned code = parser_.get().result_int();
    const std::string status = "status " + std::to_string(code);
    if (in(f.warn_status, code)) return {check_status::warn, status + " (warn_status)"};
    if (!in(f.expect_status, code)) {
      return {check_status::fail, "unexpected status " + std::to_string(code)};
    }
    const std::string& body = parser_.get().body();
    if (f.expect_body && body.find(*f.expect_body) == std::string::npos) {
      return {check_status::fail, status + " but body lacks '" + *f.expect_body + "'"};
    }
    std::string seen = status;
    if (f.expect_json) {
      if (auto mismatch = json_mismatch(*f.expect_json, body); !mismatch.empty()) {
        return {check_status::fail, status + " but " + mismatch};
      }
      seen += ", " + f.expect_json->pointer + " is " + f.expect_json->equals;
    }
    return certificate_verdict(std::move(seen));
  }

  // A passing answer from a server whose certificate expires within
  // cert_warn_days is a warning, observing the days left.
  check_result certificate_verdict(std::string seen) {
    const auto& f = shared_->fields;
    if (!stream_ || f.cert_warn_days == 0) return {check_status::pass, std::move(seen)};
    const auto days = certificate_days_left(stream_->native_handle(), shared_->clock->wall_now());
    if (!days || *days >= f.cert_warn_days) return {check_status::pass, std::move(seen)};
    char left[32];
    std::snprintf(left, sizeof left, "%.1f", *days);
    return {check_status::warn,
            seen + ", but the certificate expires in " + left + " days (cert_warn_days " +
                std::to_string(f.cert_warn_days) + ")",
            observation{std::round(*days * 10) / 10, "days"}};
  }

  void finish(check_result r) {
    boost::system::error_code ignored;
    socket_.close(ignored);
    if (auto done = std::exchange(done_, nullptr)) done(std::move(r));
  }

  std::shared_ptr<shared_part> shared_;
  tcp::socket socket_;
  std::shared_ptr<asio::ssl::context> tls_;
  std::optional<tls_stream> stream_;
  boost::beast::flat_buffer buffer_;
  bhttp::response_parser<bhttp::string_body> parser_;
  checker::completion done_;
};

// The exchange checker, which also reloads its TLS context on SIGHUP.
class http_checker final : public exchange_checker<shared_part, exchange> {
 public:
  using exchange_checker::exchange_checker;
  void reload() override { shared().load_context(); }
};

class http_settings final : public typed_settings<http_fields> {
 public:
  using typed_settings::typed_settings;
  const check_type& type() const noexcept override { return checks::http; }
  void describe(nlohmann::ordered_json& out) const override {
    out["url"] = fields_.url.text;
    if (fields_.url.tls) {
      out["caFile"] = fields_.tls.ca_file;
      out["insecure"] = fields_.tls.insecure;
      out["certWarnDays"] = fields_.cert_warn_days;
    }
  }
  std::shared_ptr<checker> make_checker(const check_spec& spec,
                                        const checker_context& context) const override {
    return std::make_shared<http_checker>(
        std::make_shared<shared_part>(fields_, spec.name, context.executor, context.clock),
        context.executor);
  }
};

// 200, [200, 204], "200-299", or a list mixing them.
std::vector<status_range> read_statuses(const check_reader& in, std::string_view field) {
  std::vector<status_range> out;
  const auto one = [&](const json& item, const std::string& at) {
    const auto bad = [&](const std::string& what) { throw config_error(at + ": " + what); };
    if (item.is_number_integer()) {
      const bool ok = item.get<long long>() >= 100 && item.get<long long>() <= 599;
      if (!ok) bad("expected an integer between 100 and 599, got " + item.dump());
      const auto c = item.get<unsigned>();
      out.push_back({c, c});
      return;
    }
    if (!item.is_string()) {
      bad(std::string("expected a status code or a range such as \"200-299\", got ") +
          item.type_name());
    }
    // "200" or "200-299": digits only, so "200x" or "2xx" are refused.
    const std::string s = item.get<std::string>();
    const auto dash = s.find('-');
    const auto digits = [](std::string_view t) {
      return !t.empty() && t.size() <= 3 &&
             t.find_first_not_of("0123456789") == std::string_view::npos;
    };
    const std::string_view first = std::string_view(s).substr(0, dash);
    const std::string_view second =
        dash == std::string::npos ? first : std::string_view(s).substr(dash + 1);
    if (!digits(first) || !digits(second)) {
      bad("expected a status code or a range such as \"200-299\", got " + item.dump());
    }
    const auto lo = static_cast<unsigned>(std::stoul(std::string(first)));
    const auto hi = static_cast<unsigned>(std::stoul(std::string(second)));
    if (lo < 100 || hi > 599 || lo > hi) {
      bad("status range must lie within 100-599, got " + item.dump());
    }
    out.push_back({lo, hi});
  };
  const json& v = in.at(field);
  if (v.is_array()) {
    if (v.empty()) in.fail(field, "must not be empty");
    for (std::size_t i = 0; i < v.size(); ++i) {
      one(v[i], in.path(field) + "[" + std::to_string(i) + "]");
    }
  } else {
    one(v, in.path(field));
  }
  return out;
}

// {"pointer": "/healthy", "equals": true}: a valid JSON Pointer and any
// JSON value, kept as text so that the settings stay plain data.
json_expectation read_expect_json(const check_reader& in) {
  const json& v = in.at("expect_json");
  if (!v.is_object() || !v.contains("pointer") || !v.contains("equals") || v.size() != 2) {
    in.fail("expect_json",
            "expected {\"pointer\": \"/member\", \"equals\": <JSON value>}, got " + v.dump());
  }
  const std::string where = in.path("expect_json") + ".pointer";
  if (!v["pointer"].is_string()) {
    throw config_error(where + ": expected a string, got " + v["pointer"].type_name());
  }
  const std::string pointer = v["pointer"].get<std::string>();
  try {
    json::json_pointer{pointer};
  } catch (const json::exception&) {
    throw config_error(where + ": not a JSON Pointer (RFC 6901) such as \"/healthy\": \"" +
                       pointer + "\"");
  }
  return {pointer, v["equals"].dump()};
}

std::shared_ptr<const check_settings> read(const check_reader& in, check_spec&) {
  http_fields f;
  auto url = util::parse_http_url(in.string("url"));
  if (!url) in.fail("url", url.error());
  f.url = std::move(*url);
  if (in.has("expect_status")) f.expect_status = read_statuses(in, "expect_status");
  if (in.has("warn_status")) f.warn_status = read_statuses(in, "warn_status");
  if (in.has("expect_body")) f.expect_body = in.string("expect_body");
  if (in.has("expect_json")) f.expect_json = read_expect_json(in);
  const auto https_only = [&](std::string_view field) {
    if (!f.url.tls) in.fail(field, "only for https:// URLs");
  };
  if (in.has("ca_file")) {
    f.tls.ca_file = in.string("ca_file");
    https_only("ca_file");
    if (std::ifstream(f.tls.ca_file).fail()) {
      in.fail("ca_file", "cannot read \"" + f.tls.ca_file + "\": " + std::strerror(errno));
    }
  }
  if (in.has("insecure")) {
    f.tls.insecure = in.boolean("insecure");
    https_only("insecure");
    if (f.tls.insecure && !f.tls.ca_file.empty()) {
      in.fail("insecure", "ca_file and insecure contradict each other");
    }
  }
  if (in.has("cert_warn_days")) {
    f.cert_warn_days = static_cast<unsigned>(in.integer("cert_warn_days", 0, 3650));
    https_only("cert_warn_days");
  }
  return std::make_shared<http_settings>(std::move(f));
}

constexpr std::string_view fields[] = {"url",         "expect_status", "warn_status",
                                       "expect_body", "expect_json",   "ca_file",
                                       "insecure",    "cert_warn_days"};

}  // namespace
}  // namespace http_check

const check_type checks::http{"http", "component", http_check::fields, false, &http_check::read};

}  // namespace badges_health::health
