// Parsing, body refusal, limit mapping and answering of pipelined requests.
#include "badges_health/http/request_processor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/beast/http/error.hpp>
#include <cstring>
#include <optional>
#include <string>

#include "badges_health/http/access_log.hpp"
#include "badges_health/http/http_error.hpp"
#include "badges_health/http/response_fields.hpp"
#include "badges_health/http/response_writer.hpp"

namespace badges_health::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

void request_processor::receive(std::string_view bytes, bool draining,
                                std::chrono::steady_clock::time_point received_at) {
  received_at_ = received_at;
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
  if (in_.size() == 0) return;
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

namespace {

// `Expect: 100-continue` (RFC 9110 section 10.1.1), whatever its case.
bool expects_continue(const bhttp::request<bhttp::empty_body>& head) {
  const auto it = head.find(bhttp::field::expect);
  if (it == head.end()) return false;
  const std::string_view v = it->value();
  constexpr std::string_view want = "100-continue";
  if (v.size() != want.size()) return false;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const char c = v[i] >= 'A' && v[i] <= 'Z' ? static_cast<char>(v[i] - 'A' + 'a') : v[i];
    if (c != want[i]) return false;
  }
  return true;
}

}  // namespace

std::size_t request_processor::parse(std::string_view data, bool draining) {
  std::size_t pos = 0;
  while (!closing_ && !streaming_ && queued_ < options_->max_pipelined &&
         out_.held() < max_held_output && pos < data.size()) {
    if (!partial_) {
      ++started_;
      request_began_ = received_at_;
    }
    // A fresh parser per request, limits set before it sees a byte. It
    // consumes nothing of a header until it has all of it, so an
    // incomplete request stays in the buffer and is parsed again, whole,
    // when more arrives: no parser lives between reads.
    std::optional<parser_type> parser(std::in_place);
    parser->header_limit(static_cast<std::uint32_t>(options_->max_header_bytes));
    beast::error_code ec;
    const std::size_t start = pos;
    const std::string_view request = data.substr(start);
    std::size_t used = parser->put(boost::asio::const_buffer(request.data(), request.size()), ec);
    if (ec == bhttp::error::bad_version) {
      // Beast takes only HTTP/1.0 and 1.1. A later HTTP/1.x is read as
      // HTTP/1.1 (RFC 9112 section 2.3); another major version gets 505.
      const auto version = request_line_version(request);
      if (version && version->major != 1) {
        reject(http_error::version_not_supported(), nullptr);
        break;
      }
      if (version && version->minor > 1) {
        // The same bytes with the minor version rewritten, through a fresh
        // parser; the fields are copied into it, so the copy can go at once.
        std::string patched(request);
        patched[version->minor_at] = '1';
        parser.emplace();
        parser->header_limit(static_cast<std::uint32_t>(options_->max_header_bytes));
        ec = {};
        used = parser->put(boost::asio::const_buffer(patched.data(), patched.size()), ec);
      }
    }
    if (ec == bhttp::error::need_more) {
      partial_ = true;
      break;
    }
    if (ec) {
      reject_parse_error(ec, *parser, request);
      break;
    }
    if (!parser->is_header_done()) {
      partial_ = true;
      break;
    }
    partial_ = false;
    pos = start + used;
    // The parser only consumes a header once it has all of it, so this put
    // saw the whole header block. Obsolete line folding (a line starting
    // with a space or tab) is refused rather than unfolded (RFC 9112
    // section 5.2 allows either): proxies in front of us disagree on how to
    // unfold it, which is how request smuggling starts.
    if (has_obsolete_fold(request.substr(0, used))) {
      reject(http_error::bad_request("malformed request: obsolete line folding"), &*parser);
      break;
    }
    // The body is decided from the head, before a byte of it is read:
    // Boost 1.81's parser lacks later releases' request-smuggling fixes,
    // so no Transfer-Encoding of any kind, a Content-Length only on a
    // write route, and above router::max_body_bytes a 413 without
    // reading it (the connection then closes).
    const auto& head = parser->get();
    const bool write_route = middleware_->router().takes_body(head.method(), head.target());
    if (parser->chunked() || head.find(bhttp::field::transfer_encoding) != head.end()) {
      reject(write_route ? http_error::bad_request(
                               "Transfer-Encoding is not accepted; send a Content-Length")
                         : http_error::body_not_allowed(),
             &*parser);
      break;
    }
    std::string_view body;
    const std::size_t length = static_cast<std::size_t>(parser->content_length().value_or(0));
    if (length > 0) {
      if (!write_route) {
        reject(http_error::body_not_allowed(), &*parser);
        break;
      }
      if (length > router::max_body_bytes) {
        reject(http_error::body_too_large(router::max_body_bytes), &*parser);
        break;
      }
      if (request.size() - used < length) {
        // Not all here yet: the request stays buffered, whole, and is
        // parsed again when the rest arrives. A client that waits for
        // leave to send it gets it once.
        if (!continue_sent_ && expects_continue(head)) {
          out_.append(std::string_view("HTTP/1.1 100 Continue\r\n\r\n"));
          continue_sent_ = true;
        }
        pos = start;
        partial_ = true;
        awaiting_body_ = true;
        break;
      }
      body = request.substr(used, length);
      pos += length;
    }
    awaiting_body_ = false;
    continue_sent_ = false;
    answer(*parser, body, draining);
  }
  return pos;
}

void request_processor::time_out() {
  if (!awaiting_body_ || closing_) return;
  // A body slower than the request timeout: say so, and close.
  reject(http_error::request_timeout(), nullptr);
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

void request_processor::answer(parser_type& parser, std::string_view body, bool draining) {
  const auto& req = parser.get();
  // HTTP/1.x with a minor version above 1 is processed as HTTP/1.1 (RFC
  // 9112 section 2.3); any other major version is not spoken here.
  if (req.version() < 10 || req.version() >= 20) {
    return reject(http_error::version_not_supported(), &parser);
  }
  if (req.target().size() > options_->max_target_bytes) {
    return reject(http_error::target_too_long(), &parser);
  }
  if (auto bad_host = check_host(req)) return reject(*bad_host, &parser);

  const auto started = std::chrono::steady_clock::now();
  const http::protocol proto = req.version() == 10 ? protocol::http1_0 : protocol::http1_1;
  http::answer a =
      middleware_->handle(req.method(), req.method_string(), req.target(), proto, &req, body);
  const bool client_keep_alive = req.keep_alive();
  const auto status = static_cast<unsigned>(a.res.status);
  const bool head = req.method() == bhttp::verb::head;
  // An event stream ends the connection when it ends (the server stops),
  // so its headers say so; while draining it sends the state and ends.
  const bool stream = a.res.event_stream && !head && status == 200;
  const bool keep_alive = client_keep_alive && !a.res.close && !draining && !stream;
  const std::size_t body_bytes = head || !status_has_content(status) ? 0 : a.res.payload().size();
  write_response(std::move(a.res), write_options{head, keep_alive, std::min(req.version(), 11u)},
                 out_);
  record(a.route, status, std::chrono::steady_clock::now() - started, &parser, body_bytes,
         a.error_code);
  ++queued_;
  first_request_ = false;
  if (stream) {
    streaming_ = true;
    stream_checks_ = a.res.event_checks;
    stream_chunked_ = req.version() >= 11;
    if (!draining) return;
  }
  if (!keep_alive) {
    closing_ = true;
    client_asked_close_ = !client_keep_alive;
  }
}

void request_processor::record(std::optional<std::size_t> route, unsigned status,
                               std::optional<std::chrono::nanoseconds> handled_in,
                               const parser_type* parser, std::size_t body_bytes,
                               std::string_view error_code) {
  answered a;
  a.route = route;
  a.handled_in = handled_in;
  a.entry.status = status;
  // A request refused before its start line was parsed has no method,
  // target or version yet.
  const bool has_line = parser != nullptr && !parser->get().method_string().empty();
  if (has_line) a.method = parser->get().method();
  if (recorder_.log != nullptr) {
    a.entry.time = std::chrono::system_clock::now();
    a.entry.client = client_;
    a.entry.protocol = to_string(protocol::http1_1);
    if (has_line) {
      const auto& req = parser->get();
      a.entry.method = req.method_string();
      a.entry.target = req.target();
      a.entry.protocol = to_string(req.version() == 10 ? protocol::http1_0 : protocol::http1_1);
      if (const auto ua = req.find(bhttp::field::user_agent); ua != req.end()) {
        a.entry.user_agent = ua->value();
      }
    }
    a.entry.body_bytes = body_bytes;
    a.entry.duration = std::chrono::steady_clock::now() - request_began_;
    a.entry.error_code = error_code;
  }
  record_answer(recorder_, a);
}

void request_processor::reject(const http_error& e, const parser_type* parser) {
  spdlog::debug("rejecting request: {} {}", e.code(), e.message());
  response res = error_middleware::to_response(e);
  const auto status = static_cast<unsigned>(res.status);
  const auto method = parser != nullptr ? parser->get().method() : bhttp::verb::unknown;
  // A HEAD request rejected after its start line still gets no body.
  const bool head = method == bhttp::verb::head;
  const std::size_t body_bytes = head ? 0 : res.body.size();
  write_response(std::move(res), write_options{head, false, 11}, out_);
  record(std::nullopt, status, std::nullopt, parser, body_bytes, e.code());
  ++queued_;
  first_request_ = false;
  partial_ = false;
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

void request_processor::reject_parse_error(beast::error_code ec, const parser_type& parser,
                                           std::string_view data) {
  if (ec == bhttp::error::header_limit) {
    // A request line that alone exceeds the header limit is a long target
    // (414); otherwise the header fields are too large (431).
    const auto& req = parser.get();
    const bool start_line_parsed = !req.method_string().empty();
    const bool long_target = !start_line_parsed || req.target().size() > options_->max_target_bytes;
    return reject(long_target ? http_error::target_too_long() : http_error::header_too_large(),
                  &parser);
  }
  if (ec == bhttp::error::bad_transfer_encoding) {
    return reject(http_error::body_not_allowed(), &parser);
  }
  if (has_bare_lf(data)) {
    return reject(
        http_error::bad_request("malformed request: line endings must be CRLF, not a bare LF"),
        &parser);
  }
  const auto what = describe(ec);
  reject(http_error::bad_request("malformed request: " +
                                 (what.empty() ? ec.message() : std::string(what))),
         &parser);
}

}  // namespace badges_health::http
