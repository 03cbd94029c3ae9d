// The socket-free half of a connection: received bytes go in, requests are
// parsed (limits set before each one), answered through the middleware, and
// the wire bytes of the responses come out, batched for one write. The
// session owns the socket and the timers; the fuzzer drives this directly.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "badges_health/http/error_middleware.hpp"
#include "badges_health/http/request_metrics.hpp"
#include "badges_health/http/server_options.hpp"

namespace badges_health::http {

class request_processor {
 public:
  request_processor(const server_options& options, const error_middleware& middleware,
                    request_metrics* metrics) noexcept
      : options_(options), middleware_(middleware), metrics_(metrics) {}

  /// Takes received bytes and answers the requests they complete. When
  /// nothing is buffered the bytes are parsed where they lie (the caller's
  /// read buffer); only an incomplete request or requests beyond the
  /// pipeline bound are copied into the connection's own buffer.
  void receive(std::string_view bytes, bool draining);

  /// Parses and answers the buffered requests. Stops when a request is
  /// incomplete, `max_pipelined` responses are waiting to be written, or
  /// the connection must close. `draining` answers with Connection: close.
  void process(bool draining);

  /// Wire bytes waiting to be written; cleared by written().
  const std::string& output() const noexcept { return out_; }
  void written() noexcept {
    out_.clear();
    queued_ = 0;
  }

  /// The connection must close once the output is written (an error, or
  /// Connection: close).
  bool closing() const noexcept { return closing_; }
  /// Closing because the client asked to (`Connection: close`, or HTTP/1.0
  /// without keep-alive) and nothing came after that request: the client
  /// sends no more, so the connection may close without lingering. When
  /// the server decides to close (an error, draining) the client may
  /// already be sending its next request, and closing on unread bytes
  /// would reset the connection under the response.
  bool clean_close() const noexcept {
    return closing_ && client_asked_close_ && !unread_after_close_ && in_.size() == 0 && !parser_;
  }
  /// No request in progress and nothing buffered: waiting for a new request.
  bool idle() const noexcept { return !parser_ && in_.size() == 0; }
  /// No response has been produced yet on this connection.
  bool first_request() const noexcept { return first_request_; }
  /// Counts requests whose first bytes have been parsed, to restart the
  /// per-request read budget when a new one begins.
  std::uint64_t requests_started() const noexcept { return started_; }

 private:
  using parser_type = boost::beast::http::request_parser<boost::beast::http::empty_body>;

  /// The version at the end of a request line, and where its minor digit is.
  struct line_version {
    std::size_t minor_at;
    int major;
    int minor;
  };
  static std::optional<line_version> request_line_version(std::string_view request) noexcept;
  /// Parses a request whose line says HTTP/1.x (x > 1) as HTTP/1.1.
  std::size_t parse_as_http11(std::string_view request, line_version version,
                              boost::beast::error_code& ec);
  std::size_t parse(std::string_view data, bool draining);
  void new_parser();
  void keep(std::string_view rest);
  void answer_current(bool draining);
  void reject(const http_error& e);
  /// `data` is what the parser was given from the failing request on.
  void reject_parse_error(boost::beast::error_code ec, std::string_view data);
  /// Counts the answer in the metrics and the access log.
  void record(std::optional<std::size_t> route, unsigned status, std::chrono::nanoseconds took);

  const server_options& options_;
  const error_middleware& middleware_;
  request_metrics* metrics_;
  boost::beast::flat_buffer in_;
  std::string out_;
  std::optional<parser_type> parser_;
  std::size_t queued_ = 0;
  std::uint64_t started_ = 0;
  bool first_request_ = true;
  bool closing_ = false;
  bool client_asked_close_ = false;
  bool unread_after_close_ = false;
};

}  // namespace badges_health::http
