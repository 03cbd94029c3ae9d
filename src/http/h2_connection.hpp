// The socket-free half of an HTTP/2 connection: received bytes go in,
// libnghttp2 does the framing, HPACK and flow control, each request is
// served by a stream of its kind (h2_streams.hpp), and the frames to send
// come out. The h2_session owns the socket; the fuzzer drives this
// directly.
//
// What a connection may hold for a client that does not read is bounded:
// frames are produced only up to the writer's limit, shared bodies are
// referred to rather than copied per stream, and while the output held
// (unsent frames and the unsent bodies of answered streams) is above
// max_held_output, completed requests wait to be answered.
#pragma once

#include <nghttp2/nghttp2.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "badges_health/http/access_log.hpp"
#include "badges_health/http/error_middleware.hpp"
#include "badges_health/http/event_source.hpp"
#include "badges_health/http/grpc_health.hpp"
#include "badges_health/http/request_metrics.hpp"
#include "badges_health/http/server_options.hpp"
#include "h2_stream.hpp"

namespace badges_health::http {

class h2_connection {
 public:
  using clock = std::chrono::steady_clock;
  using now_function = clock::time_point (*)() noexcept;

  /// Output held beyond which completed requests wait to be answered.
  static constexpr std::size_t max_held_output = 64 * 1024;

  /// `grpc` may be null: gRPC calls are then UNIMPLEMENTED.
  /// `client` (the peer's address, for the access log) may be null.
  /// `events` feeds event streams; null: they send only their end.
  h2_connection(const server_options& options, const error_middleware& middleware,
                answer_recorder recorder, const grpc_health_source* grpc, now_function now,
                const boost::asio::ip::tcp::endpoint* client = nullptr,
                const event_source* events = nullptr);
  ~h2_connection();
  h2_connection(const h2_connection&) = delete;
  h2_connection& operator=(const h2_connection&) = delete;

  /// Takes bytes received after the connection preface. `draining` ends
  /// the connection after the requests in progress (GOAWAY). False when
  /// the client broke the protocol or flooded us: send what is queued (a
  /// GOAWAY saying why) and close.
  bool receive(std::string_view bytes, bool draining);

  /// Appends frames to `out` until it holds at least `limit` bytes or
  /// nothing is left to send. False on an internal error of the library:
  /// close.
  bool send(std::string& out, std::size_t limit = std::numeric_limits<std::size_t>::max());

  /// How many bytes the session still has to write of what send() gave
  /// it: part of the output held, which bounds what is answered.
  void set_unsent(std::size_t bytes);

  /// Nothing left to read or write (after GOAWAY, or a fatal error): close.
  bool finished() const noexcept;
  /// No stream open.
  bool idle() const noexcept { return streams_.empty(); }
  /// A stream has been opened on this connection.
  bool any_stream() const noexcept { return streams_begun_ != 0; }
  /// Output held: unsent frames and unsent owned bodies.
  std::size_t held() const noexcept { return unsent_ + bodies_held_; }

  /// Health changed: Watch streams send their new status.
  void health_changed();

  /// When the earliest stream deadline passes: a request not complete
  /// within the request timeout, a response not sent within the write
  /// timeout (a client that never opens its window), a Watch's grpc-timeout.
  clock::time_point deadline() const noexcept;

  /// Ends the streams whose deadline passed that can end on their own
  /// (a Watch: DEADLINE_EXCEEDED). True when another stream ran out of
  /// time: the connection must close.
  bool expire(clock::time_point now);

  /// The server is stopping: GOAWAY, open requests finish, Watch streams
  /// end with status OK.
  void shutdown();

  /// Ends the connection at once with GOAWAY (idle timeout, deadline).
  void terminate();

 private:
  friend class h2_stream;
  struct entry;

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

  entry* find(std::int32_t id) const noexcept;
  /// The request's headers are complete: its stream, by kind.
  void begin_stream(entry& e);
  /// The request is complete: answered now, or once the output held has
  /// drained.
  void request_complete(entry& e);
  void answer_deferred();
  void go_away();

  const server_options& options_;
  const error_middleware& middleware_;
  answer_recorder recorder_;
  const boost::asio::ip::tcp::endpoint* client_;
  const grpc_health_source* grpc_;
  const event_source* events_;
  now_function now_;
  nghttp2_session* session_ = nullptr;
  std::map<std::int32_t, std::unique_ptr<entry>> streams_;
  // Complete requests waiting for the output held to drain, oldest first.
  std::deque<std::int32_t> deferred_;
  std::uint64_t streams_begun_ = 0;
  std::size_t unsent_ = 0;
  std::size_t bodies_held_ = 0;
  bool draining_ = false;
  bool goaway_sent_ = false;
};

}  // namespace badges_health::http
