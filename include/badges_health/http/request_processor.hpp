// The socket-free half of an HTTP/1.1 connection: received bytes go in,
// requests are parsed (limits set before each one), answered through the
// middleware, and the wire bytes of the responses come out, batched for
// one write. The session owns the socket and the deadlines; the fuzzer
// drives this directly.
#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "badges_health/http/access_log.hpp"
#include "badges_health/http/error_middleware.hpp"
#include "badges_health/http/output_queue.hpp"
#include "badges_health/http/request_metrics.hpp"
#include "badges_health/http/server_options.hpp"

namespace badges_health::http {

class request_processor {
 public:
  /// Output held in memory beyond which no further pipelined request is
  /// parsed until the connection has written it out. Shared bodies do not
  /// count; they cost nothing per response.
  static constexpr std::size_t max_held_output = 64 * 1024;

  request_processor(const server_options& options, const error_middleware& middleware,
                    answer_recorder recorder) noexcept
      : options_(&options), middleware_(&middleware), recorder_(recorder) {}
  request_processor(request_processor&&) noexcept = default;
  request_processor& operator=(request_processor&&) noexcept = default;

  /// Takes received bytes and answers the requests they complete. When
  /// nothing is buffered the bytes are parsed where they lie (the caller's
  /// read buffer); only an incomplete request or requests beyond the
  /// pipeline bounds are copied into the connection's own buffer.
  /// `received_at` is when the bytes were read: a request's duration in the
  /// access log counts from the read that brought its first byte.
  void receive(
      std::string_view bytes, bool draining,
      std::chrono::steady_clock::time_point received_at = std::chrono::steady_clock::now());

  /// The client's address, for the access log (null: unknown). Must
  /// outlive the processor's use of it.
  void set_client(const boost::asio::ip::tcp::endpoint* client) noexcept { client_ = client; }

  /// Parses and answers the buffered requests. Stops when a request is
  /// incomplete, `max_pipelined` responses or `max_held_output` bytes are
  /// waiting to be written, or the connection must close. `draining`
  /// answers with Connection: close.
  void process(bool draining);

  /// Wire bytes waiting to be written; the writer consumes from it.
  output_queue& output() noexcept { return out_; }
  const output_queue& output() const noexcept { return out_; }
  /// The whole output has been written: the next batch may be parsed.
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
    return closing_ && client_asked_close_ && !unread_after_close_ && in_.size() == 0;
  }
  /// No request in progress and nothing buffered: waiting for a new request.
  bool idle() const noexcept { return in_.size() == 0; }
  /// No response has been produced yet on this connection.
  bool first_request() const noexcept { return first_request_; }
  /// A request's head is in and its body is not (all) here yet: at the
  /// request timeout it is answered 408 (time_out), not dropped quietly.
  bool awaiting_body() const noexcept { return awaiting_body_; }
  /// The request timeout passed while awaiting a body: 408 and close.
  void time_out();
  /// The last answer opened an event stream (GET /status/events): its
  /// headers are in the output, nothing after it is parsed, and the session
  /// writes the stream's body from then on.
  bool streaming() const noexcept { return streaming_; }
  /// The stream carries check events too.
  bool stream_checks() const noexcept { return stream_checks_; }
  /// The stream's body is chunked (HTTP/1.1); an HTTP/1.0 client reads it
  /// to the close.
  bool stream_chunked() const noexcept { return stream_chunked_; }
  /// Counts requests whose first bytes have been seen, so that the session
  /// restarts the per-request read budget when a new one begins.
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
  std::size_t parse(std::string_view data, bool draining);
  void keep(std::string_view rest);
  void answer(parser_type& parser, std::string_view body, bool draining);
  void reject(const http_error& e, const parser_type* parser);
  /// `data` is what the parser was given from the failing request on.
  void reject_parse_error(boost::beast::error_code ec, const parser_type& parser,
                          std::string_view data);
  /// Counts the answer in the metrics and the access log.
  void record(std::optional<std::size_t> route, unsigned status,
              std::optional<std::chrono::nanoseconds> handled_in, const parser_type* parser,
              std::size_t body_bytes, std::string_view error_code);

  const server_options* options_;
  const error_middleware* middleware_;
  answer_recorder recorder_;
  const boost::asio::ip::tcp::endpoint* client_ = nullptr;
  std::chrono::steady_clock::time_point received_at_;
  std::chrono::steady_clock::time_point request_began_;
  boost::beast::flat_buffer in_;
  output_queue out_;
  std::size_t queued_ = 0;
  std::uint64_t started_ = 0;
  bool partial_ = false;  // an incomplete request is buffered in in_
  bool awaiting_body_ = false;
  bool continue_sent_ = false;
  bool first_request_ = true;
  bool closing_ = false;
  bool client_asked_close_ = false;
  bool unread_after_close_ = false;
  bool streaming_ = false;
  bool stream_checks_ = false;
  bool stream_chunked_ = false;
};

}  // namespace badges_health::http
