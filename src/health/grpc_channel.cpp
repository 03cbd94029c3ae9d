// One HTTP/2 client connection carrying gRPC calls, one at a time.
#include "grpc_channel.hpp"

#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

#include "badges_health/util/grpc_wire.hpp"
#include "tls_client.hpp"

namespace badges_health::health {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

/// The largest response message read.
constexpr std::size_t body_limit = 64 * 1024;

nghttp2_nv header(std::string_view name, std::string_view value) {
  return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
          value.size(), NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

grpc_channel::grpc_channel(std::shared_ptr<connector> connect,
                           std::shared_ptr<asio::ssl::context> tls, asio::any_io_executor ex)
    : connect_(std::move(connect)), tls_context_(std::move(tls)), socket_(std::move(ex)) {}

grpc_channel::~grpc_channel() {
  if (session_ != nullptr) nghttp2_session_del(session_);
}

template <class F>
void grpc_channel::with_stream(F&& f) {
  if (tls_) {
    f(*tls_);
  } else {
    f(socket_);
  }
}

void grpc_channel::call(std::string path, std::string message, std::string grpc_timeout,
                        completion done) {
  path_ = std::move(path);
  message_ = std::move(message);
  message_sent_ = 0;
  timeout_ = std::move(grpc_timeout);
  result_ = {};
  done_ = std::move(done);
  if (session_ != nullptr) return submit();
  if (connecting_) return;
  connecting_ = true;
  connect_->start(socket_, [self = shared_from_this()](const connector::outcome& connected) {
    if (self->broken_) return;
    if (!connected) return self->fail(connected.error());
    self->on_connected();
  });
}

void grpc_channel::on_connected() {
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  if (!tls_context_) {
    if (start_session()) submit();
    return;
  }
  tls_.emplace(socket_, *tls_context_);
  prepare_tls_handshake(tls_->native_handle(), connect_->host(), connect_->host_is_address());
  // gRPC over TLS is HTTP/2 chosen by ALPN.
  static constexpr unsigned char alpn[] = {2, 'h', '2'};
  SSL_set_alpn_protos(tls_->native_handle(), alpn, sizeof alpn);
  tls_->async_handshake(asio::ssl::stream_base::client,
                        [self = shared_from_this()](boost::system::error_code ec) {
                          if (self->broken_) return;
                          if (ec) return self->fail(describe_tls_failure(ec));
                          const unsigned char* chosen = nullptr;
                          unsigned int length = 0;
                          SSL_get0_alpn_selected(self->tls_->native_handle(), &chosen, &length);
                          if (length != 2 || std::memcmp(chosen, "h2", 2) != 0) {
                            return self->fail("the server did not choose HTTP/2 (ALPN h2)");
                          }
                          if (self->start_session()) self->submit();
                        });
}

bool grpc_channel::start_session() {
  nghttp2_session_callbacks* cbs = nullptr;
  if (nghttp2_session_callbacks_new(&cbs) != 0) {
    fail("out of memory");
    return false;
  }
  nghttp2_session_callbacks_set_on_header_callback(cbs, &on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &on_data_chunk);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &on_frame_recv);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &on_stream_close);
  const int rv = nghttp2_session_client_new(&session_, cbs, this);
  nghttp2_session_callbacks_del(cbs);
  if (rv != 0) {
    session_ = nullptr;
    fail("cannot start an HTTP/2 session: " + std::string(nghttp2_strerror(rv)));
    return false;
  }
  // The preface and SETTINGS go out with the first request.
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
  connecting_ = false;
  read();
  return true;
}

void grpc_channel::submit() {
  if (!done_ || broken_) return;
  const std::string scheme = tls_ ? "https" : "http";
  const std::string user_agent = "badges-health/" BADGES_HEALTH_VERSION;
  const nghttp2_nv headers[] = {header(":method", "POST"),
                                header(":scheme", scheme),
                                header(":path", path_),
                                header(":authority", connect_->authority()),
                                header("content-type", "application/grpc"),
                                header("te", "trailers"),
                                header("grpc-timeout", timeout_),
                                header("user-agent", user_agent)};
  nghttp2_data_provider body{};
  body.read_callback = &read_message;
  stream_id_ = nghttp2_submit_request(session_, nullptr, headers, std::size(headers), &body, this);
  if (stream_id_ < 0)
    return fail("cannot send the call: " + std::string(nghttp2_strerror(stream_id_)));
  flush();
}

ssize_t grpc_channel::read_message(nghttp2_session*, std::int32_t, std::uint8_t* buf,
                                   std::size_t length, std::uint32_t* data_flags,
                                   nghttp2_data_source*, void* user) {
  auto* self = static_cast<grpc_channel*>(user);
  const std::size_t n = std::min(length, self->message_.size() - self->message_sent_);
  std::memcpy(buf, self->message_.data() + self->message_sent_, n);
  self->message_sent_ += n;
  if (self->message_sent_ == self->message_.size()) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

void grpc_channel::read() {
  if (reading_ || broken_) return;
  reading_ = true;
  with_stream([&](auto& stream) {
    stream.async_read_some(
        asio::buffer(read_buffer_),
        [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
          self->reading_ = false;
          self->on_read(ec, n);
        });
  });
}

void grpc_channel::on_read(boost::system::error_code ec, std::size_t n) {
  if (broken_) return;
  if (ec) {
    // The server closed an idle connection, or the network did: the next
    // call makes a new channel.
    return fail(ec == asio::error::eof || ec == asio::ssl::error::stream_truncated
                    ? "connection closed by the server"
                    : "read: " + ec.message());
  }
  const auto rv = nghttp2_session_mem_recv(session_, read_buffer_.data(), n);
  if (rv < 0) return fail("HTTP/2: " + std::string(nghttp2_strerror(static_cast<int>(rv))));
  flush();
  if (!broken_) read();
}

void grpc_channel::flush() {
  if (writing_ || broken_ || session_ == nullptr) return;
  write_buffer_.clear();
  for (;;) {
    const std::uint8_t* data = nullptr;
    const auto n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) return fail("HTTP/2: " + std::string(nghttp2_strerror(static_cast<int>(n))));
    if (n == 0) break;
    write_buffer_.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
  }
  if (write_buffer_.empty()) return;
  writing_ = true;
  with_stream([&](auto& stream) {
    asio::async_write(stream, asio::buffer(write_buffer_),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        self->writing_ = false;
                        if (self->broken_) return;
                        if (ec) return self->fail("write: " + ec.message());
                        self->flush();
                      });
  });
}

int grpc_channel::on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                            std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                            std::uint8_t, void* user) {
  auto* self = static_cast<grpc_channel*>(user);
  if (frame->hd.stream_id != self->stream_id_) return 0;
  const std::string_view n(reinterpret_cast<const char*>(name), namelen);
  const std::string_view v(reinterpret_cast<const char*>(value), valuelen);
  auto& r = self->result_;
  if (n == ":status") {
    unsigned status = 0;
    for (const char c : v) status = status * 10 + static_cast<unsigned>(c - '0');
    r.http_status = status;
  } else if (n == "grpc-status") {
    std::uint64_t code = 0;
    bool digits = !v.empty() && v.size() < 10;
    for (const char c : v) {
      digits = digits && c >= '0' && c <= '9';
      code = code * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (digits) r.grpc_status = code;
  } else if (n == "grpc-message") {
    r.grpc_message = util::grpc::decode_grpc_message(v);
  }
  return 0;
}

int grpc_channel::on_data_chunk(nghttp2_session*, std::uint8_t, std::int32_t stream_id,
                                const std::uint8_t* data, std::size_t len, void* user) {
  auto* self = static_cast<grpc_channel*>(user);
  if (stream_id != self->stream_id_) return 0;
  if (self->result_.body.size() + len > body_limit) {
    // Too much for a health answer: the stream is reset, and the call
    // fails when it closes.
    self->result_.transport_error = "response larger than " + std::to_string(body_limit) + " bytes";
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  self->result_.body.append(reinterpret_cast<const char*>(data), len);
  return 0;
}

int grpc_channel::on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto* self = static_cast<grpc_channel*>(user);
  if (frame->hd.type != NGHTTP2_GOAWAY) return 0;
  // No new calls here; the one in flight still ends on its stream, unless
  // the server says it never took it.
  self->goaway_ = true;
  if (self->done_ && frame->goaway.last_stream_id < self->stream_id_) {
    self->fail("the server is going away (GOAWAY) and did not take the call");
  }
  return 0;
}

int grpc_channel::on_stream_close(nghttp2_session*, std::int32_t stream_id,
                                  std::uint32_t error_code, void* user) {
  auto* self = static_cast<grpc_channel*>(user);
  if (stream_id != self->stream_id_) return 0;
  self->stream_id_ = -1;
  grpc_call_result r = std::move(self->result_);
  if (r.transport_error.empty() && error_code != NGHTTP2_NO_ERROR) {
    r.transport_error =
        "stream reset by the server (" + std::string(nghttp2_http2_strerror(error_code)) + ")";
  }
  self->complete(std::move(r));
  return 0;
}

void grpc_channel::complete(grpc_call_result r) {
  if (auto done = std::exchange(done_, nullptr)) done(std::move(r));
}

void grpc_channel::fail(const std::string& why) {
  broken_ = true;
  boost::system::error_code ignored;
  socket_.close(ignored);
  grpc_call_result r;
  r.transport_error = why;
  complete(std::move(r));
}

void grpc_channel::close() noexcept {
  done_ = nullptr;
  broken_ = true;
  connect_->cancel();
  boost::system::error_code ignored;
  socket_.close(ignored);
}

}  // namespace badges_health::health
