// Parsing, body refusal, limit mapping and answering of pipelined requests.
#include "badges_health/http/request_processor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/beast/http/error.hpp>
#include <cstring>
#include <optional>
#include <string>

#include "access_log.hpp"
#include "badges_health/http/http_error.hpp"
#include "badges_health/http/response_writer.hpp"

namespace badges_health::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

void request_processor::receive(std::string_view bytes, bool draining) {
  if (in_.size() != 0) {
    keep(bytes);
    return process(draining);
  }
  const std::size_t used = parse(bytes, draining);
  if (!closing_) {
    keep(bytes.substr(used));
  } else if (used < bytes.size()) {
    unread_after_close_ = true;
  }
}

void request_processor::process(bool draining) {
  const auto data = in_.data();
  const std::size_t used =
      parse(std::string_view(static_cast<const char*>(data.data()), data.size()), draining);
  in_.consume(used);
  // Release the memory of a connection that has nothing buffered, so idle
  // keep-alive connections hold no buffer.
  if (in_.size() == 0) in_.shrink_to_fit();
}

void request_processor::keep(std::string_view rest) {
  if (rest.empty()) return;
  const auto space = in_.prepare(rest.size());
  std::memcpy(space.data(), rest.data(), rest.size());
  in_.commit(rest.size());
}

namespace {

bool has_obsolete_fold(std::string_view header) {
  for (std::size_t i = header.find('\n'); i != std::string_view::npos && i + 1 < header.size();
       i = header.find('\n', i + 1)) {
    if (header[i + 1] == ' ' || header[i + 1] == '\t') return true;
  }
  return false;
}

}  // namespace

namespace {

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

}  // namespace

std::optional<request_processor::line_version> request_processor::request_line_version(
    std::string_view request) noexcept {
  const std::size_t eol = request.find('\n');
  if (eol == std::string_view::npos) return std::nullopt;
  const std::size_t end = eol > 0 && request[eol - 1] == '\r' ? eol - 1 : eol;
  // "... HTTP/D.D" at the end of the line.
  constexpr std::size_t token = 9;
  if (end < token) return std::nullopt;
  const std::string_view v = request.substr(end - token, token);
  if (v.substr(0, 6) != " HTTP/" || !is_digit(v[6]) || v[7] != '.' || !is_digit(v[8])) {
    return std::nullopt;
  }
  return line_version{end - 1, v[6] - '0', v[8] - '0'};
}

void request_processor::new_parser() {
  // A fresh parser per request, limits set before it sees a byte.
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
}

std::size_t request_processor::parse_as_http11(std::string_view request, line_version version,
                                               beast::error_code& ec) {
  // The same bytes with the minor version rewritten, through a fresh
  // parser; the fields are copied into it, so the copy can go at once.
  std::string patched(request);
  patched[version.minor_at] = '1';
  new_parser();
  ec = {};
  return parser_->put(boost::asio::const_buffer(patched.data(), patched.size()), ec);
}

std::size_t request_processor::parse(std::string_view data, bool draining) {
  std::size_t pos = 0;
  while (!closing_ && queued_ < options_.max_pipelined && pos < data.size()) {
    if (!parser_) {
      new_parser();
      ++started_;
    }
    beast::error_code ec;
    const std::size_t start = pos;
    pos += parser_->put(boost::asio::const_buffer(data.data() + pos, data.size() - pos), ec);
    if (ec == bhttp::error::bad_version) {
      // Beast takes only HTTP/1.0 and 1.1. A later HTTP/1.x is read as
      // HTTP/1.1 (RFC 9112 section 2.3); another major version gets 505.
      const auto version = request_line_version(data.substr(start));
      if (version && version->major != 1) {
        reject(http_error::version_not_supported());
        break;
      }
      if (version && version->minor > 1)
        pos = start + parse_as_http11(data.substr(start), *version, ec);
    }
    if (ec == bhttp::error::need_more) break;
    if (ec) {
      reject_parse_error(ec, data.substr(start));
      break;
    }
    if (!parser_->is_header_done()) break;
    // The parser only consumes a header once it has all of it, so this put
    // saw the whole header block. Obsolete line folding (a line starting
    // with a space or tab) is refused rather than unfolded (RFC 9112
    // section 5.2 allows either): proxies in front of us disagree on how to
    // unfold it, which is how request smuggling starts.
    if (has_obsolete_fold(data.substr(start, pos - start))) {
      reject(http_error::bad_request("malformed request: obsolete line folding"));
      break;
    }
    answer_current(draining);
  }
  return pos;
}

namespace {

// RFC 9112 section 3.2: an HTTP/1.1 request carries exactly one Host;
// HTTP/1.0 may omit it (HAProxy's default check does), but never repeat it.
std::optional<http_error> check_host(const bhttp::request<bhttp::empty_body>& req) {
  const auto hosts = req.count(bhttp::field::host);
  if (hosts > 1) return http_error::bad_request("more than one Host header");
  if (hosts == 0 && req.version() >= 11) {
    return http_error::bad_request("an HTTP/1.1 request needs a Host header");
  }
  return std::nullopt;
}

}  // namespace

void request_processor::answer_current(bool draining) {
  const auto& req = parser_->get();
  // HTTP/1.x with a minor version above 1 is processed as HTTP/1.1 (RFC
  // 9112 section 2.3); any other major version is not spoken here.
  if (req.version() < 10 || req.version() >= 20) return reject(http_error::version_not_supported());
  // Refused before any body byte is read: this service is GET-only, and
  // Boost 1.81's parser accepts smuggling shapes (non-chunked
  // Transfer-Encoding) that later releases reject.
  if (parser_->chunked() || parser_->content_length().value_or(0) > 0 ||
      req.find(bhttp::field::transfer_encoding) != req.end()) {
    return reject(http_error::body_not_allowed());
  }
  if (req.target().size() > options_.max_target_bytes) {
    return reject(http_error::target_too_long());
  }
  if (auto bad_host = check_host(req)) return reject(*bad_host);

  const auto started = std::chrono::steady_clock::now();
  answer a =
      middleware_.handle(req.method(), req.method_string(), req.target(), req.version(), &req);
  const bool client_keep_alive = req.keep_alive();
  const bool keep_alive = client_keep_alive && !a.res.close && !draining;
  write_response(
      a.res,
      write_options{req.method() == bhttp::verb::head, keep_alive, std::min(req.version(), 11u)},
      out_);
  record(a.route, static_cast<unsigned>(a.res.status), std::chrono::steady_clock::now() - started);
  ++queued_;
  first_request_ = false;
  parser_.reset();  // `req` is gone from here on
  if (!keep_alive) {
    closing_ = true;
    client_asked_close_ = !client_keep_alive;
  }
}

void request_processor::record(std::optional<std::size_t> route, unsigned status,
                               std::chrono::nanoseconds took) {
  answered a{route, bhttp::verb::unknown, {}, {}, 11, status, took};
  // A request refused before its start line was parsed has no method,
  // target or version yet.
  if (parser_ && !parser_->get().method_string().empty()) {
    const auto& req = parser_->get();
    a.method = req.method();
    a.method_text = req.method_string();
    a.target = req.target();
    a.version = req.version();
  }
  record_answer(metrics_, options_.access_log, a);
}

void request_processor::reject(const http_error& e) {
  spdlog::debug("rejecting request: {} {}", e.code(), e.message());
  const response res = error_middleware::to_response(e);
  const auto method = parser_ ? parser_->get().method() : bhttp::verb::unknown;
  // A HEAD request rejected after its start line still gets no body.
  write_response(res, write_options{method == bhttp::verb::head, false, 11}, out_);
  record(std::nullopt, static_cast<unsigned>(res.status), std::chrono::nanoseconds{0});
  ++queued_;
  first_request_ = false;
  parser_.reset();
  closing_ = true;
}

namespace {

// A line ending in LF alone, which RFC 9112 section 2.2 lets a server
// refuse; Beast reports it as whichever element it was reading.
bool has_bare_lf(std::string_view data) {
  for (std::size_t i = data.find('\n'); i != std::string_view::npos; i = data.find('\n', i + 1)) {
    if (i == 0 || data[i - 1] != '\r') return true;
  }
  return false;
}

std::string_view describe(beast::error_code ec) {
  using e = bhttp::error;
  if (ec == e::bad_method) return "invalid method";
  if (ec == e::bad_target) return "invalid request target";
  if (ec == e::bad_version) return "invalid HTTP version in the request line";
  if (ec == e::bad_field) return "invalid header field name";
  if (ec == e::bad_value) return "invalid header field value";
  if (ec == e::bad_content_length || ec == e::multiple_content_length) {
    return "invalid Content-Length";
  }
  if (ec == e::bad_line_ending) return "line endings must be CRLF";
  return {};
}

}  // namespace

void request_processor::reject_parse_error(beast::error_code ec, std::string_view data) {
  if (ec == bhttp::error::header_limit) {
    // A request line that alone exceeds the header limit is a long target
    // (414); otherwise the header fields are too large (431).
    const auto& req = parser_->get();
    const bool start_line_parsed = !req.method_string().empty();
    const bool long_target = !start_line_parsed || req.target().size() > options_.max_target_bytes;
    return reject(long_target ? http_error::target_too_long() : http_error::header_too_large());
  }
  if (ec == bhttp::error::bad_transfer_encoding) return reject(http_error::body_not_allowed());
  if (has_bare_lf(data)) {
    return reject(
        http_error::bad_request("malformed request: line endings must be CRLF, not a bare LF"));
  }
  const auto what = describe(ec);
  reject(http_error::bad_request("malformed request: " +
                                 (what.empty() ? ec.message() : std::string(what))));
}

}  // namespace badges_health::http
