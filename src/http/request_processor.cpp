// Parsing, body refusal, limit mapping and answering of pipelined requests.
#include "badges_health/http/request_processor.hpp"

#include <spdlog/spdlog.h>

#include <boost/beast/http/error.hpp>
#include <cstring>

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

std::size_t request_processor::parse(std::string_view data, bool draining) {
  std::size_t pos = 0;
  while (!closing_ && queued_ < options_.max_pipelined && pos < data.size()) {
    if (!parser_) {
      // A fresh parser per request, limits set before it sees a byte.
      parser_.emplace();
      parser_->header_limit(static_cast<std::uint32_t>(options_.max_header_bytes));
      ++started_;
    }
    beast::error_code ec;
    const std::size_t start = pos;
    pos += parser_->put(boost::asio::const_buffer(data.data() + pos, data.size() - pos), ec);
    if (ec == bhttp::error::need_more) break;
    if (ec) {
      reject_parse_error(ec);
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

void request_processor::answer_current(bool draining) {
  const auto& req = parser_->get();
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

  const auto started = std::chrono::steady_clock::now();
  std::size_t route = 0;
  response res = middleware_.handle(req.method(), req.method_string(), req.target(), req.version(),
                                    &req, route);
  const bool client_keep_alive = req.keep_alive();
  const bool keep_alive = client_keep_alive && !res.close && !draining;
  write_response(res, write_options{req.method() == bhttp::verb::head, keep_alive, req.version()},
                 out_);
  const auto took = std::chrono::steady_clock::now() - started;
  if (metrics_ != nullptr) {
    metrics_->record(route, req.method(), static_cast<unsigned>(res.status), took);
  }
  if (options_.access_log) {
    const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(took).count();
    spdlog::info("access {} {} HTTP/{}.{} {} {}us", req.method_string(), req.target(),
                 req.version() / 10, req.version() % 10, static_cast<unsigned>(res.status), micros);
  }
  ++queued_;
  first_request_ = false;
  parser_.reset();  // `req` is gone from here on
  if (!keep_alive) {
    closing_ = true;
    client_asked_close_ = !client_keep_alive;
  }
}

void request_processor::reject(const http_error& e) {
  spdlog::debug("rejecting request: {} {}", e.code(), e.what());
  const response res = error_middleware::to_response(e);
  const auto method = parser_ ? parser_->get().method() : bhttp::verb::unknown;
  if (metrics_ != nullptr) {
    metrics_->record(middleware_.router().paths_size(), method, static_cast<unsigned>(res.status),
                     std::chrono::nanoseconds{0});
  }
  // A HEAD request rejected after its start line still gets no body.
  write_response(res, write_options{method == bhttp::verb::head, false, 11}, out_);
  ++queued_;
  first_request_ = false;
  parser_.reset();
  closing_ = true;
}

void request_processor::reject_parse_error(beast::error_code ec) {
  if (ec == bhttp::error::header_limit) {
    // A request line that alone exceeds the header limit is a long target
    // (414); otherwise the header fields are too large (431).
    const auto& req = parser_->get();
    const bool start_line_parsed = !req.method_string().empty();
    const bool long_target = !start_line_parsed || req.target().size() > options_.max_target_bytes;
    return reject(long_target ? http_error::target_too_long() : http_error::header_too_large());
  }
  if (ec == bhttp::error::bad_transfer_encoding) return reject(http_error::body_not_allowed());
  reject(http_error::bad_request("malformed request: " + ec.message()));
}

}  // namespace badges_health::http
