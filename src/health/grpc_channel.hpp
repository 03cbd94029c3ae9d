// The client side of one gRPC call at a time over one HTTP/2 connection
// (h2c, or h2 over TLS with ALPN), on libnghttp2's client session and Asio,
// for the grpc check. The connection is kept between calls while the server
// keeps it; once it breaks (closed, GOAWAY, an error) a new channel is made.
#pragma once

#include <nghttp2/nghttp2.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connector.hpp"

namespace badges_health::health {

/// How a call ended.
struct grpc_call_result {
  /// Empty when the call got an answer; else what went wrong on the way
  /// ("connect ...: Connection refused", "TLS handshake: ...").
  std::string transport_error;
  /// The HTTP status, 0 if none came.
  unsigned http_status = 0;
  std::optional<std::uint64_t> grpc_status;
  std::string grpc_message;
  std::string body;
};

class grpc_channel : public std::enable_shared_from_this<grpc_channel> {
 public:
  using completion = std::function<void(grpc_call_result)>;

  /// A channel that connects with `connect` (TLS with `tls` when set) on
  /// its first call.
  grpc_channel(std::shared_ptr<connector> connect, std::shared_ptr<boost::asio::ssl::context> tls,
               boost::asio::any_io_executor ex);
  ~grpc_channel();
  grpc_channel(const grpc_channel&) = delete;
  grpc_channel& operator=(const grpc_channel&) = delete;

  /// Whether a new call may go on this channel.
  bool usable() const noexcept { return !broken_ && !goaway_; }

  /// POSTs `message` (a length-prefixed gRPC message) to `path` with
  /// `grpc_timeout`. `done` runs once, unless close() comes first.
  void call(std::string path, std::string message, std::string grpc_timeout, completion done);

  /// Abandons the call in progress and the connection.
  void close() noexcept;

 private:
  using tls_stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>;

  void on_connected();
  bool start_session();
  void submit();
  void read();
  void on_read(boost::system::error_code ec, std::size_t n);
  void flush();
  void fail(const std::string& why);
  void complete(grpc_call_result r);
  template <class F>
  void with_stream(F&& f);

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                       std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                       std::uint8_t flags, void* user);
  static int on_data_chunk(nghttp2_session*, std::uint8_t flags, std::int32_t stream_id,
                           const std::uint8_t* data, std::size_t len, void* user);
  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user);
  static int on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t error_code,
                             void* user);
  static ssize_t read_message(nghttp2_session*, std::int32_t stream_id, std::uint8_t* buf,
                              std::size_t length, std::uint32_t* data_flags,
                              nghttp2_data_source* source, void* user);

  std::shared_ptr<connector> connect_;
  std::shared_ptr<boost::asio::ssl::context> tls_context_;
  boost::asio::ip::tcp::socket socket_;
  std::optional<tls_stream> tls_;
  nghttp2_session* session_ = nullptr;
  bool connecting_ = false;
  bool broken_ = false;
  bool goaway_ = false;
  bool reading_ = false;
  bool writing_ = false;
  std::vector<std::uint8_t> read_buffer_ = std::vector<std::uint8_t>(16 * 1024);
  std::string write_buffer_;

  // The call in progress.
  std::string path_;
  std::string message_;
  std::size_t message_sent_ = 0;
  std::string timeout_;
  std::int32_t stream_id_ = -1;
  grpc_call_result result_;
  completion done_;
};

}  // namespace badges_health::health
