// libnghttp2's callbacks, the streams by id, and the bound on output held.
#include "h2_connection.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/beast/http/field.hpp>

namespace badges_health::http {

namespace bhttp = boost::beast::http;
namespace grpc = util::grpc;

namespace {

std::string_view as_view(const std::uint8_t* p, std::size_t n) noexcept {
  return {reinterpret_cast<const char*>(p), n};
}

// A header block past this many times the limit is no longer decoded for
// an answer: the stream is reset, so a client cannot make us decode (or
// hold) an unbounded block to earn a 431.
constexpr std::size_t header_abandon_factor = 4;

// RFC 7541 section 4.1: a field's size in the header list.
constexpr std::size_t field_overhead = 32;

// GET /status/events, whatever its query: routed like any request, and
// an event stream if the route answers with one.
bool is_event_stream_path(std::string_view target) noexcept {
  return target.substr(0, target.find('?')) == "/status/events";
}

}  // namespace

// A stream as the connection keeps it: the request's headers while they
// arrive, then the stream of its kind.
struct h2_connection::entry {
  std::int32_t id = 0;
  h2_stream::clock::time_point started;
  // Every header block of the stream, trailers included.
  std::size_t header_bytes = 0;
  std::unique_ptr<h2_request> request = std::make_unique<h2_request>();
  std::unique_ptr<h2_stream> stream;
};

h2_connection::h2_connection(const server_options& options, const error_middleware& middleware,
                             answer_recorder recorder, const grpc_health_source* grpc,
                             now_function now, const boost::asio::ip::tcp::endpoint* client,
                             const event_source* events)
    : options_(options),
      middleware_(middleware),
      recorder_(recorder),
      client_(client),
      grpc_(grpc),
      events_(events),
      now_(now) {
  nghttp2_session_callbacks* cbs = nullptr;
  nghttp2_option* opt = nullptr;
  if (nghttp2_session_callbacks_new(&cbs) != 0 || nghttp2_option_new(&opt) != 0) {
    nghttp2_session_callbacks_del(cbs);
    throw std::bad_alloc();
  }
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cbs, &on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &on_data_chunk);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &on_frame_recv);
  nghttp2_session_callbacks_set_on_frame_send_callback(cbs, &on_frame_send);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &on_stream_close);
  // The session checked the 24-byte preface itself before choosing HTTP/2.
  nghttp2_option_set_no_recv_client_magic(opt, 1);
  // Flood limits, written out rather than left to the library's defaults:
  // SETTINGS and PING acknowledgements queued for a client that does not
  // read (flood: GOAWAY), CONTINUATION frames per header block
  // (CVE-2024-28182), and streams a client may reset, as a token bucket of
  // 1,000 and 33 per second (rapid reset, CVE-2023-44487).
  nghttp2_option_set_max_outbound_ack(opt, 1000);
  nghttp2_option_set_max_continuations(opt, 8);
  nghttp2_option_set_stream_reset_rate_limit(opt, 1000, 33);
  nghttp2_option_set_max_settings(opt, 32);
  const int rv = nghttp2_session_server_new2(&session_, cbs, this, opt);
  nghttp2_session_callbacks_del(cbs);
  nghttp2_option_del(opt);
  if (rv != 0) throw std::bad_alloc();

  const std::array<nghttp2_settings_entry, 2> settings{{
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, options_.max_concurrent_streams},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
       static_cast<std::uint32_t>(options_.max_header_bytes)},
  }};
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
}

h2_connection::~h2_connection() { nghttp2_session_del(session_); }

bool h2_connection::receive(std::string_view bytes, bool draining) {
  draining_ = draining_ || draining;
  const auto rv = nghttp2_session_mem_recv(
      session_, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  if (rv < 0) {
    const int error = static_cast<int>(rv);
    spdlog::debug("HTTP/2 connection error: {}", nghttp2_strerror(error));
    // The library stops without a GOAWAY on its fatal errors; RFC 9113
    // section 5.4.1 asks for one, saying why: a flood is ENHANCE_YOUR_CALM,
    // anything else a protocol error. (Ignored when one is already queued.)
    const bool flood = error == NGHTTP2_ERR_FLOODED ||
                       error == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS ||
                       error == NGHTTP2_ERR_TOO_MANY_SETTINGS;
    nghttp2_session_terminate_session(session_,
                                      flood ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR);
    return false;
  }
  // While draining, GOAWAY follows the connection's first request: sent
  // before any stream it would name stream 0 and refuse the request of a
  // prober that connected during the drain delay, which must read `down`.
  if (draining_ && nghttp2_session_get_last_proc_stream_id(session_) > 0) go_away();
  return true;
}

bool h2_connection::send(std::string& out, std::size_t limit) {
  answer_deferred();
  while (out.size() < limit) {
    const std::uint8_t* data = nullptr;
    const auto n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      spdlog::debug("HTTP/2 send error: {}", nghttp2_strerror(static_cast<int>(n)));
      return false;
    }
    if (n == 0) break;
    out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
  }
  return true;
}

void h2_connection::set_unsent(std::size_t bytes) { unsent_ = bytes; }

bool h2_connection::finished() const noexcept {
  return nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0;
}

h2_connection::entry* h2_connection::find(std::int32_t id) const noexcept {
  const auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.get();
}

int h2_connection::on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto& self = *static_cast<h2_connection*>(user);
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  auto e = std::make_unique<entry>();
  e->id = frame->hd.stream_id;
  e->started = self.now_();
  self.streams_.emplace(e->id, std::move(e));
  ++self.streams_begun_;
  return 0;
}

int h2_connection::on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                             std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                             std::uint8_t, void* user) {
  auto& self = *static_cast<h2_connection*>(user);
  entry* e = self.find(frame->hd.stream_id);
  if (e == nullptr) return 0;
  e->header_bytes += namelen + valuelen + field_overhead;
  const std::size_t limit = self.options_.max_header_bytes;
  if (e->header_bytes > limit * header_abandon_factor) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // reset this stream
  }
  if (!e->request) return 0;  // trailers: nothing in them is read
  h2_request& req = *e->request;
  if (e->header_bytes > limit) req.too_large = true;
  // Trailers (a second header block) carry nothing we read.
  if (req.too_large || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  const auto n = as_view(name, namelen);
  const auto v = as_view(value, valuelen);
  if (n == ":method") {
    req.method.assign(v);
  } else if (n == ":path") {
    req.path.assign(v);
  } else if (n == ":authority") {
    req.fields.insert(bhttp::field::host, v);
  } else if (!n.empty() && n.front() == ':') {
    // :scheme, and :protocol of extended CONNECT (which we do not enable).
  } else {
    if (n == "content-type") req.content_type.assign(v);
    if (n == "grpc-timeout") req.grpc_timeout.assign(v);
    req.fields.insert(n, v);
  }
  return 0;
}

int h2_connection::on_data_chunk(nghttp2_session*, std::uint8_t, std::int32_t stream_id,
                                 const std::uint8_t* data, std::size_t len, void* user) {
  auto& self = *static_cast<h2_connection*>(user);
  entry* e = self.find(stream_id);
  if (e == nullptr || !e->stream || len == 0) return 0;
  e->stream->on_data(as_view(data, len));
  if (e->stream->answered()) e->stream->drop_request();
  return 0;
}

int h2_connection::on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto& self = *static_cast<h2_connection*>(user);
  if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
  entry* e = self.find(frame->hd.stream_id);
  if (e == nullptr) return 0;
  if (frame->hd.type == NGHTTP2_HEADERS && !e->stream) self.begin_stream(*e);
  if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) self.request_complete(*e);
  return 0;
}

int h2_connection::on_frame_send(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
  auto& self = *static_cast<h2_connection*>(user);
  if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) return 0;
  entry* e = self.find(frame->hd.stream_id);
  if (e == nullptr || !e->stream) return 0;
  // Our answer is complete but the client is still sending a body we
  // refused: tell it to stop (RFC 9113 section 8.1).
  if (e->stream->reset_after_answer()) {
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, e->id, NGHTTP2_NO_ERROR);
  }
  e->stream->sent();
  return 0;
}

int h2_connection::on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t,
                                   void* user) {
  auto& self = *static_cast<h2_connection*>(user);
  self.streams_.erase(stream_id);
  return 0;
}

ssize_t h2_connection::read_body(nghttp2_session*, std::int32_t stream_id, std::uint8_t* buf,
                                 std::size_t length, std::uint32_t* flags, nghttp2_data_source*,
                                 void* user) {
  auto& self = *static_cast<h2_connection*>(user);
  entry* e = self.find(stream_id);
  if (e == nullptr || !e->stream) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  return e->stream->read(buf, length, flags);
}

void h2_connection::begin_stream(entry& e) {
  const h2_request& req = *e.request;
  const bool grpc_call = !req.too_large && grpc::is_grpc_content_type(req.content_type);
  if (grpc_call && grpc_ != nullptr && req.method == "POST" && req.path == grpc::watch_path) {
    e.stream = std::make_unique<h2_grpc_watch_stream>(*this, e.id, e.started, std::move(e.request));
  } else if (!grpc_call && !req.too_large && is_event_stream_path(req.path)) {
    e.stream = std::make_unique<h2_event_stream>(*this, e.id, e.started, std::move(e.request));
  } else if (grpc_call) {
    e.stream = std::make_unique<h2_grpc_unary_stream>(*this, e.id, e.started, std::move(e.request));
  } else {
    e.stream = std::make_unique<h2_http_stream>(*this, e.id, e.started, std::move(e.request));
  }
}

void h2_connection::request_complete(entry& e) {
  if (!e.stream || e.stream->answered()) return;
  // A client that does not read what it is sent gets no more answers
  // built for it until the output held has drained.
  if (held() >= max_held_output || !deferred_.empty()) {
    deferred_.push_back(e.id);
    return;
  }
  e.stream->answer();
  e.stream->drop_request();
}

void h2_connection::answer_deferred() {
  while (!deferred_.empty() && held() < max_held_output) {
    entry* e = find(deferred_.front());
    deferred_.pop_front();
    if (e != nullptr && e->stream && !e->stream->answered()) {
      e->stream->answer();
      e->stream->drop_request();
    }
  }
}

void h2_connection::health_changed() {
  for (auto& [id, e] : streams_) {
    if (e->stream) e->stream->health_changed();
  }
}

h2_connection::clock::time_point h2_connection::deadline() const noexcept {
  auto earliest = clock::time_point::max();
  for (const auto& [id, e] : streams_) {
    earliest = std::min(earliest,
                        e->stream ? e->stream->deadline() : e->started + options_.request_timeout);
  }
  return earliest;
}

bool h2_connection::expire(clock::time_point now) {
  bool must_close = false;
  for (auto& [id, e] : streams_) {
    if (!e->stream) {
      must_close = must_close || e->started + options_.request_timeout <= now;
    } else if (e->stream->deadline() <= now) {
      must_close = e->stream->expire(now) || must_close;
    }
  }
  return must_close;
}

void h2_connection::go_away() {
  if (goaway_sent_) return;
  goaway_sent_ = true;
  // Streams up to the last one we saw are finished; the client opens new
  // ones on another connection (another instance, while we drain).
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
}

void h2_connection::shutdown() {
  draining_ = true;
  go_away();
  for (auto& [id, e] : streams_) {
    if (e->stream) e->stream->shutdown();
  }
}

void h2_connection::terminate() { nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR); }

}  // namespace badges_health::http
