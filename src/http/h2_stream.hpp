// The streams of an HTTP/2 connection, one class per kind, each with only
// the state its kind needs:
//   h2_http_stream         a request answered through the middleware (the
//                          same router and handlers as HTTP/1.1)
//   h2_grpc_unary_stream   grpc.health.v1.Health/Check and /List, or
//                          UNIMPLEMENTED for any other method
//   h2_grpc_watch_stream   grpc.health.v1.Health/Watch: the status now,
//                          then every change, until the deadline or drain
//   h2_event_stream        GET /status/events: answered through the
//                          middleware; an event stream then sends the
//                          feed as DATA until the server stops
// h2_connection gathers a request's headers, picks the kind once they are
// complete, and forwards the stream's events to it.
#pragma once

#include <nghttp2/nghttp2.h>

#include <boost/beast/http/fields.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "badges_health/http/access_log.hpp"
#include "badges_health/http/event_source.hpp"
#include "badges_health/http/grpc_health.hpp"
#include "badges_health/http/response.hpp"
#include "badges_health/util/grpc_wire.hpp"

namespace badges_health::http {

class h2_connection;

/// What a stream's request said, gathered from its HEADERS.
struct h2_request {
  std::string method;
  std::string path;
  std::string content_type;
  std::string grpc_timeout;
  boost::beast::http::fields fields;
  /// Past --max-header-bytes: answered 431 without looking further.
  bool too_large = false;
};

class h2_stream {
 public:
  using clock = std::chrono::steady_clock;

  h2_stream(h2_connection& conn, std::int32_t id, clock::time_point started,
            std::unique_ptr<h2_request> request);
  virtual ~h2_stream() = default;
  h2_stream(const h2_stream&) = delete;
  h2_stream& operator=(const h2_stream&) = delete;

  std::int32_t id() const noexcept { return id_; }
  /// Answered (headers submitted); until then the request timeout runs.
  bool answered() const noexcept { return answered_; }
  /// Once answered, the request is not read again: its memory goes, so a
  /// stream waiting on a closed window holds only what it still sends.
  void drop_request() noexcept {
    if (!keep_request_) request_.reset();
  }

  /// A DATA chunk of the request arrived.
  virtual void on_data(std::string_view bytes) = 0;
  /// The request is complete (END_STREAM): answer it.
  virtual void answer() = 0;
  /// The library wants up to `length` body bytes (nghttp2's read callback).
  virtual ssize_t read(std::uint8_t* buf, std::size_t length, std::uint32_t* flags) = 0;
  /// Our last frame on the stream was sent (END_STREAM).
  virtual void sent() {}
  virtual void health_changed() {}
  /// When this stream runs out of time (max: never).
  virtual clock::time_point deadline() const noexcept;
  /// The deadline passed. True when the connection must close; false when
  /// the stream ended on its own.
  virtual bool expire(clock::time_point now);
  /// The server is stopping.
  virtual void shutdown() {}
  /// The stream answered before its request ended: reset it once the
  /// answer is out (RFC 9113 section 8.1).
  bool reset_after_answer() const noexcept { return early_; }

 protected:
  /// Submits the response headers; the body, if any, is read through read().
  void submit(std::span<const nghttp2_nv> headers, bool with_body);
  void submit_trailers(std::span<const nghttp2_nv> trailers);
  /// A read() that returned NGHTTP2_ERR_DEFERRED has more to send.
  void resume();
  /// Owned body bytes waiting to be sent: counted in the connection's
  /// output held.
  void hold(std::size_t bytes) noexcept;
  void release(std::size_t bytes) noexcept;
  /// An HTTP answer: metrics by route and the access log.
  void record_http(unsigned status, std::optional<std::size_t> route,
                   std::optional<std::chrono::nanoseconds> handled_in, std::size_t body_bytes,
                   std::string_view error_code);
  /// A gRPC call ended with `status`: the gRPC series and the access log.
  void record_grpc(util::grpc::status_code status);

  const server_options& options() const noexcept;
  const error_middleware& middleware() const noexcept;
  const grpc_health_source* grpc() const noexcept;
  const event_source* events() const noexcept;
  clock::time_point now() const noexcept;
  bool deferred_ = false;  // read() returned NGHTTP2_ERR_DEFERRED
  // A stream that logs after its answer (a Watch, when it ends) keeps
  // its request until then.
  bool keep_request_ = false;
  bool early_ = false;
  bool answered_ = false;
  clock::time_point answered_at_;
  clock::time_point started_;
  std::unique_ptr<h2_request> request_;

 private:
  h2_connection& conn_;
  std::int32_t id_;
};

/// A request answered through the middleware, as HTTP/1.1 answers it.
class h2_http_stream : public h2_stream {
 public:
  h2_http_stream(h2_connection& conn, std::int32_t id, clock::time_point started,
                 std::unique_ptr<h2_request> request);
  void on_data(std::string_view bytes) override;
  void answer() override;
  ssize_t read(std::uint8_t* buf, std::size_t length, std::uint32_t* flags) override;
  void sent() override;

 protected:
  /// A request refused before routing (headers too large, a body, a long
  /// target): the error to answer, if any.
  std::optional<http_error> refused() const;
  /// Submits `res`; `streamed`: its body is read from the stream later
  /// (an event stream), not sent from `res`.
  void respond(response res, std::optional<std::size_t> route,
               std::optional<std::chrono::nanoseconds> handled_in, std::string_view error_code,
               bool streamed = false);
  void answer_error(const http_error& e);

  // A write route (router::takes_body) gathers its body; any other route
  // takes none.
  bool takes_body_ = false;
  bool has_body_ = false;
  bool body_too_large_ = false;
  std::string request_body_;
  // The body being sent (the rest of the response went with its headers).
  std::string body_;
  shared_bytes shared_body_;
  std::size_t sent_ = 0;  // body bytes taken by the library
};

/// GET /status/events: routed as any request (401, 405, HEAD alike); an
/// event stream then sends the state and every change as DATA frames, a
/// keep-alive comment when quiet, and ends (END_STREAM) when the server
/// stops. More is taken from the feed only once the library has taken
/// what was queued; a client whose window stays shut meets the write
/// timeout.
class h2_event_stream final : public h2_http_stream {
 public:
  using h2_http_stream::h2_http_stream;
  void answer() override;
  ssize_t read(std::uint8_t* buf, std::size_t length, std::uint32_t* flags) override;
  void health_changed() override;
  clock::time_point deadline() const noexcept override;
  bool expire(clock::time_point now) override;
  void shutdown() override;

 private:
  void queue(std::string_view data);

  bool streaming_ = false;
  bool checks_ = false;
  bool ending_ = false;  // END_STREAM once the queue is empty
  std::uint64_t cursor_ = 0;
  std::string queued_;
  std::size_t queued_pos_ = 0;
  // Since when the queue has waited for the library (the write timeout).
  clock::time_point waiting_since_ = clock::time_point::max();
  clock::time_point keep_alive_at_ = clock::time_point::max();
};

/// Shared by the two gRPC kinds: the request message, the messages to
/// send, and the status that ends the call (in trailers).
class h2_grpc_stream : public h2_stream {
 public:
  using h2_stream::h2_stream;
  void on_data(std::string_view bytes) override;
  ssize_t read(std::uint8_t* buf, std::size_t length, std::uint32_t* flags) override;

 protected:
  /// Starts the response: headers, then `out_` as DATA, then trailers
  /// once a status is set.
  void start_response();
  /// Ends the call with `code`: whatever is queued is sent first.
  void finish(util::grpc::status_code code, std::string message);
  /// The request's deadline and, for a HealthCheckRequest, its service
  /// name (`service` null: an empty HealthListRequest is expected); or the
  /// call ends here with the status that says why.
  bool read_request(std::string* service, std::optional<std::chrono::nanoseconds>& timeout);
  bool finished() const noexcept { return status_.has_value(); }

  std::string message_;  // the request message
  std::string out_;      // messages not yet taken by the library
  std::size_t out_pos_ = 0;
  std::optional<util::grpc::status_code> status_;
  std::string status_message_;
  bool started_response_ = false;
};

/// grpc.health.v1.Health/Check and /List (and UNIMPLEMENTED for any
/// other method).
class h2_grpc_unary_stream final : public h2_grpc_stream {
 public:
  using h2_grpc_stream::h2_grpc_stream;
  void answer() override;

 private:
  void answer_check();
  void answer_list();
};

/// grpc.health.v1.Health/Watch.
class h2_grpc_watch_stream final : public h2_grpc_stream {
 public:
  using h2_grpc_stream::h2_grpc_stream;
  void answer() override;
  void health_changed() override;
  clock::time_point deadline() const noexcept override;
  bool expire(clock::time_point now) override;
  void shutdown() override;

 private:
  std::string service_;
  std::optional<serving_status> last_sent_;
  clock::time_point watch_deadline_ = clock::time_point::max();
};

}  // namespace badges_health::http
