// The socket-free half of an HTTP/2 connection: received bytes go in,
// libnghttp2 does the framing, HPACK and flow control, complete requests
// are answered through the same middleware as HTTP/1.1 (or by the gRPC
// health service), and the frames to send come out. The h2_session owns
// the socket; the fuzzer drives this directly.
#pragma once

#include <nghttp2/nghttp2.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "badges_health/http/error_middleware.hpp"
#include "badges_health/http/grpc_health.hpp"
#include "badges_health/http/request_metrics.hpp"
#include "badges_health/http/server_options.hpp"

namespace badges_health::http {

class h2_processor {
 public:
  using clock = std::chrono::steady_clock;

  /// `grpc` may be null: gRPC calls are then UNIMPLEMENTED.
  h2_processor(const server_options& options, const error_middleware& middleware,
               request_metrics* metrics, const grpc_health_source* grpc);
  ~h2_processor();
  h2_processor(const h2_processor&) = delete;
  h2_processor& operator=(const h2_processor&) = delete;

  /// Takes bytes received after the connection preface. `draining` ends
  /// the connection after the requests in progress (GOAWAY). False when
  /// the client broke the protocol or flooded us: send what is queued (a
  /// GOAWAY saying why) and close.
  bool receive(std::string_view bytes, bool draining);

  /// Appends the frames waiting to be sent to `out`. False on an internal
  /// error of the library: close.
  bool send(std::string& out);

  /// Nothing left to read or write (after GOAWAY, or a fatal error): close.
  bool finished() const noexcept;

  /// No stream open.
  bool idle() const noexcept { return streams_.empty(); }
  /// A stream has been opened on this connection.
  bool any_stream() const noexcept { return streams_begun_ != 0; }

  /// Health changed: Watch streams send their new status.
  void health_changed();

  /// When the earliest stream deadline passes: a request not complete
  /// within the request timeout, a response not sent within the write
  /// timeout (a client that never opens its window), a Watch's grpc-timeout.
  clock::time_point deadline() const noexcept;

  /// Ends the Watch streams whose deadline passed (DEADLINE_EXCEEDED).
  /// True when another stream ran out of time: the connection must close.
  bool expire(clock::time_point now);

  /// The server is stopping: GOAWAY, open requests finish, Watch streams
  /// end with status OK.
  void shutdown();

  /// Ends the connection at once with GOAWAY (idle timeout, deadline).
  void terminate();

 private:
  struct stream;

  static int on_begin_headers(nghttp2_session*, const nghttp2_frame*, void*);
  static int on_header(nghttp2_session*, const nghttp2_frame*, const std::uint8_t*, std::size_t,
                       const std::uint8_t*, std::size_t, std::uint8_t, void*);
  static int on_data_chunk(nghttp2_session*, std::uint8_t, std::int32_t, const std::uint8_t*,
                           std::size_t, void*);
  static int on_frame_recv(nghttp2_session*, const nghttp2_frame*, void*);
  static int on_frame_send(nghttp2_session*, const nghttp2_frame*, void*);
  static int on_stream_close(nghttp2_session*, std::int32_t, std::uint32_t, void*);
  static ssize_t read_body(nghttp2_session*, std::int32_t, std::uint8_t*, std::size_t,
                           std::uint32_t*, nghttp2_data_source*, void*);

  stream* find(std::int32_t id) const noexcept;
  void answer(stream& st);
  void answer_http(stream& st);
  void answer_error(stream& st, const http_error& e);
  void respond(stream& st, const response& res, bool head);
  void answer_grpc(stream& st);
  /// Starts a gRPC response: headers, then `st.out` as DATA, then trailers.
  void grpc_respond(stream& st);
  void grpc_finish(stream& st, int code, std::string message);
  void watch_send(stream& st);
  void resume(stream& st);
  void go_away();
  void record(const stream& st, unsigned status);

  const server_options& options_;
  const error_middleware& middleware_;
  request_metrics* metrics_;
  const grpc_health_source* grpc_;
  nghttp2_session* session_ = nullptr;
  std::map<std::int32_t, std::unique_ptr<stream>> streams_;
  std::uint64_t streams_begun_ = 0;
  bool draining_ = false;
  bool goaway_sent_ = false;
};

}  // namespace badges_health::http
