// HTTP/2 streams on libnghttp2: requests assembled from its callbacks,
// answered through the middleware or the gRPC health service, responses
// handed back through data providers.
#include "h2_processor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/beast/http/fields.hpp>
#include <cstring>
#include <optional>
#include <vector>

#include "access_log.hpp"
#include "badges_health/util/grpc_wire.hpp"
#include "badges_health/util/timestamp.hpp"

namespace badges_health::http {

namespace bhttp = boost::beast::http;
namespace grpc = util::grpc;

struct h2_processor::stream {
  std::int32_t id = 0;
  clock::time_point started;
  // The request.
  std::string method;
  std::string path;
  std::string content_type;
  std::string grpc_timeout;
  bhttp::fields fields;
  std::size_t header_bytes = 0;
  bool too_large = false;
  bool has_body = false;  // DATA bytes on a request that takes none
  std::string body;       // a gRPC request's message
  // The response.
  bool answered = false;
  bool early = false;  // answered before the request ended: reset it after
  clock::time_point answered_at;
  std::string out;  // DATA not yet taken by the library
  std::size_t out_pos = 0;
  bool deferred = false;  // the data provider is paused for more `out`
  // gRPC: the trailers sent once `out` is out; a Watch keeps the stream
  // open (no trailer yet) and follows the health of `service`.
  std::optional<int> grpc_status;
  std::string grpc_message;
  bool watch = false;
  std::string service;
  std::optional<serving_status> last_sent;
  clock::time_point watch_deadline = clock::time_point::max();
};

namespace {

std::string_view as_view(const std::uint8_t* p, std::size_t n) noexcept {
  return {reinterpret_cast<const char*>(p), n};
}

nghttp2_nv make_nv(std::string_view name, std::string_view value) noexcept {
  // nghttp2_submit_* copy names and values: no flags, no lifetime concerns.
  return nghttp2_nv{const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(name.data())),
                    const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(value.data())),
                    name.size(), value.size(), NGHTTP2_NV_FLAG_NONE};
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// A header block past this many times the limit is no longer decoded for
// an answer: the stream is reset, so a client cannot make us decode (or
// hold) an unbounded block to earn a 431.
constexpr std::size_t header_abandon_factor = 4;

// RFC 7541 section 4.1: a field's size in the header list.
constexpr std::size_t field_overhead = 32;

}  // namespace

h2_processor::h2_processor(const server_options& options, const error_middleware& middleware,
                           request_metrics* metrics, const grpc_health_source* grpc)
    : options_(options), middleware_(middleware), metrics_(metrics), grpc_(grpc) {
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

h2_processor::~h2_processor() { nghttp2_session_del(session_); }

bool h2_processor::receive(std::string_view bytes, bool draining) {
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
  if (draining_) go_away();
  return true;
}

bool h2_processor::send(std::string& out) {
  for (;;) {
    const std::uint8_t* data = nullptr;
    const auto n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      spdlog::debug("HTTP/2 send error: {}", nghttp2_strerror(static_cast<int>(n)));
      return false;
    }
    if (n == 0) return true;
    out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
  }
}

bool h2_processor::finished() const noexcept {
  return nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0;
}

h2_processor::stream* h2_processor::find(std::int32_t id) const noexcept {
  const auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : it->second.get();
}

int h2_processor::on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto& self = *static_cast<h2_processor*>(user);
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  auto st = std::make_unique<stream>();
  st->id = frame->hd.stream_id;
  st->started = clock::now();
  self.streams_.emplace(st->id, std::move(st));
  ++self.streams_begun_;
  return 0;
}

int h2_processor::on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                            std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                            std::uint8_t, void* user) {
  auto& self = *static_cast<h2_processor*>(user);
  stream* st = self.find(frame->hd.stream_id);
  if (st == nullptr) return 0;
  st->header_bytes += namelen + valuelen + field_overhead;
  const std::size_t limit = self.options_.max_header_bytes;
  if (st->header_bytes > limit * header_abandon_factor) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // reset this stream
  }
  if (st->header_bytes > limit) st->too_large = true;
  if (st->too_large || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
  const auto n = as_view(name, namelen);
  const auto v = as_view(value, valuelen);
  if (n == ":method") {
    st->method.assign(v);
  } else if (n == ":path") {
    st->path.assign(v);
  } else if (n == ":authority") {
    st->fields.insert(bhttp::field::host, v);
  } else if (!n.empty() && n.front() == ':') {
    // :scheme, and :protocol of extended CONNECT (which we do not enable).
  } else {
    if (n == "content-type") st->content_type.assign(v);
    if (n == "grpc-timeout") st->grpc_timeout.assign(v);
    st->fields.insert(n, v);
  }
  return 0;
}

int h2_processor::on_data_chunk(nghttp2_session*, std::uint8_t, std::int32_t stream_id,
                                const std::uint8_t* data, std::size_t len, void* user) {
  auto& self = *static_cast<h2_processor*>(user);
  stream* st = self.find(stream_id);
  if (st == nullptr || st->answered || len == 0) return 0;
  if (!grpc::is_grpc_content_type(st->content_type)) {
    // This service takes no request bodies: answered now, and the rest of
    // the body is dropped (the stream is reset once the answer is out).
    st->has_body = true;
    st->early = true;
    self.answer(*st);
    return 0;
  }
  if (st->body.size() + len > grpc::max_request_bytes) {
    st->early = true;
    st->answered = true;
    st->answered_at = clock::now();
    self.grpc_finish(*st, static_cast<int>(grpc::status_code::resource_exhausted),
                     "request message too large");
    return 0;
  }
  st->body.append(reinterpret_cast<const char*>(data), len);
  return 0;
}

int h2_processor::on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto& self = *static_cast<h2_processor*>(user);
  const bool ends = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  if (!ends || (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)) return 0;
  stream* st = self.find(frame->hd.stream_id);
  if (st != nullptr && !st->answered) self.answer(*st);
  return 0;
}

int h2_processor::on_frame_send(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
  auto& self = *static_cast<h2_processor*>(user);
  if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0) return 0;
  stream* st = self.find(frame->hd.stream_id);
  // Our answer is complete but the client is still sending a body we
  // refused: tell it to stop (RFC 9113 section 8.1).
  if (st != nullptr && st->early) {
    nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, st->id, NGHTTP2_NO_ERROR);
  }
  return 0;
}

int h2_processor::on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t,
                                  void* user) {
  auto& self = *static_cast<h2_processor*>(user);
  self.streams_.erase(stream_id);
  return 0;
}

ssize_t h2_processor::read_body(nghttp2_session* session, std::int32_t, std::uint8_t* buf,
                                std::size_t length, std::uint32_t* flags,
                                nghttp2_data_source* source, void*) {
  auto& st = *static_cast<stream*>(source->ptr);
  const std::size_t n = std::min(length, st.out.size() - st.out_pos);
  std::memcpy(buf, st.out.data() + st.out_pos, n);
  st.out_pos += n;
  if (st.out_pos < st.out.size()) return static_cast<ssize_t>(n);
  st.out.clear();
  st.out_pos = 0;
  if (st.watch && !st.grpc_status) {
    // A Watch has sent all it has: wait for the next change.
    if (n != 0) return static_cast<ssize_t>(n);
    st.deferred = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  *flags |= NGHTTP2_DATA_FLAG_EOF;
  if (st.grpc_status) {
    *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
    const std::string code = std::to_string(*st.grpc_status);
    std::vector<nghttp2_nv> trailers{make_nv("grpc-status", code)};
    if (!st.grpc_message.empty()) trailers.push_back(make_nv("grpc-message", st.grpc_message));
    nghttp2_submit_trailer(session, st.id, trailers.data(), trailers.size());
  }
  return static_cast<ssize_t>(n);
}

void h2_processor::answer(stream& st) {
  st.answered = true;
  st.answered_at = clock::now();
  if (st.too_large) return answer_error(st, http_error::header_too_large());
  if (grpc::is_grpc_content_type(st.content_type)) return answer_grpc(st);
  if (st.has_body) return answer_error(st, http_error::body_not_allowed());
  answer_http(st);
}

void h2_processor::answer_http(stream& st) {
  if (st.path.size() > options_.max_target_bytes) {
    return answer_error(st, http_error::target_too_long());
  }
  const auto method = bhttp::string_to_verb(st.method);
  const auto started = clock::now();
  const http::answer a = middleware_.handle(method, st.method, st.path, 20, &st.fields);
  respond(st, a.res, method == bhttp::verb::head);
  record_answer(metrics_, options_.access_log,
                answered{a.route, method, st.method, st.path, 20,
                         static_cast<unsigned>(a.res.status), clock::now() - started});
}

void h2_processor::answer_error(stream& st, const http_error& e) {
  const auto method = bhttp::string_to_verb(st.method);
  respond(st, error_middleware::to_response(e), method == bhttp::verb::head);
  record(st, static_cast<unsigned>(e.status()));
}

void h2_processor::record(const stream& st, unsigned status) {
  record_answer(metrics_, options_.access_log,
                answered{std::nullopt, bhttp::string_to_verb(st.method), st.method, st.path, 20,
                         status, std::chrono::nanoseconds{0}});
}

void h2_processor::respond(stream& st, const response& res, bool head) {
  const auto code = static_cast<unsigned>(res.status);
  const std::string status = std::to_string(code);
  const std::string date(util::http_date(std::chrono::system_clock::now()));
  const bool bodiless_status = code == 204 || code == 304 || code / 100 == 1;
  const std::string length = std::to_string(res.body.size());
  std::vector<std::string> names;
  names.reserve(res.headers.size());
  std::vector<nghttp2_nv> nva;
  nva.reserve(8 + res.headers.size());
  nva.push_back(make_nv(":status", status));
  nva.push_back(make_nv("date", date));
  // The same headers every HTTP/1.1 response carries (response_writer).
  nva.push_back(make_nv("cache-control", "no-store"));
  nva.push_back(make_nv("x-content-type-options", "nosniff"));
  nva.push_back(make_nv("access-control-allow-origin", "*"));
  if (!bodiless_status) {
    nva.push_back(make_nv("content-type", res.content_type));
    nva.push_back(make_nv("content-length", length));
  }
  // HTTP/2 field names are lowercase (RFC 9113 section 8.2.1).
  for (const auto& h : res.headers) names.push_back(lowercase(h.first));
  for (std::size_t i = 0; i < res.headers.size(); ++i) {
    nva.push_back(make_nv(names[i], res.headers[i].second));
  }
  const bool body = !head && !bodiless_status && !res.body.empty();
  if (body) st.out = res.body;
  nghttp2_data_provider provider{};
  provider.source.ptr = &st;
  provider.read_callback = &read_body;
  nghttp2_submit_response(session_, st.id, nva.data(), nva.size(), body ? &provider : nullptr);
  if (draining_) go_away();
}

void h2_processor::answer_grpc(stream& st) {
  using grpc::status_code;
  const auto fail = [this, &st](status_code c, std::string message) {
    grpc_finish(st, static_cast<int>(c), std::move(message));
  };
  const bool check = st.path == grpc::check_path;
  const bool watch = st.path == grpc::watch_path;
  if (st.method != "POST" || (!check && !watch) || grpc_ == nullptr) {
    return fail(status_code::unimplemented, "unknown method " + st.path);
  }
  std::optional<std::chrono::nanoseconds> timeout;
  if (!st.grpc_timeout.empty()) {
    timeout = grpc::parse_timeout(st.grpc_timeout);
    if (!timeout) return fail(status_code::internal, "malformed grpc-timeout");
  }
  auto decoded = grpc::decode_check_request(st.body);
  if (auto* e = std::get_if<grpc::call_error>(&decoded)) return fail(e->code, e->message);
  st.service = std::move(std::get<std::string>(decoded));
  if (timeout && timeout->count() == 0) {
    return fail(status_code::deadline_exceeded, "deadline exceeded");
  }
  const auto status = grpc_->status(st.service);
  if (check) {
    if (!status) return fail(status_code::not_found, "unknown service");
    if (*status == serving_status::not_serving && options_.grpc_unavailable_when_not_serving) {
      return fail(status_code::unavailable, "NOT_SERVING");
    }
    st.out = grpc::encode_check_response(*status);
    st.grpc_status = static_cast<int>(status_code::ok);
    grpc_respond(st);
    return;
  }
  st.watch = true;
  if (timeout) {
    st.watch_deadline = st.started + std::chrono::duration_cast<clock::duration>(*timeout);
  }
  st.last_sent = status.value_or(serving_status::service_unknown);
  st.out = grpc::encode_check_response(*st.last_sent);
  grpc_respond(st);
}

void h2_processor::grpc_finish(stream& st, int code, std::string message) {
  st.out.clear();
  st.out_pos = 0;
  st.grpc_status = code;
  st.grpc_message = std::move(message);
  grpc_respond(st);
}

void h2_processor::grpc_respond(stream& st) {
  const std::array<nghttp2_nv, 2> headers{make_nv(":status", "200"),
                                          make_nv("content-type", "application/grpc")};
  nghttp2_data_provider provider{};
  provider.source.ptr = &st;
  provider.read_callback = &read_body;
  nghttp2_submit_response(session_, st.id, headers.data(), headers.size(), &provider);
  // gRPC status codes travel in trailers; the HTTP status is always 200.
  record(st, 200);
  if (draining_) go_away();
}

void h2_processor::resume(stream& st) {
  if (!st.deferred) return;
  st.deferred = false;
  nghttp2_session_resume_data(session_, st.id);
}

void h2_processor::health_changed() {
  if (grpc_ == nullptr) return;
  for (auto& [id, st] : streams_) {
    if (!st->watch || st->grpc_status) continue;
    const auto now = grpc_->status(st->service).value_or(serving_status::service_unknown);
    if (st->last_sent == now) continue;
    st->last_sent = now;
    st->out.append(grpc::encode_check_response(now));
    resume(*st);
  }
}

h2_processor::clock::time_point h2_processor::deadline() const noexcept {
  auto earliest = clock::time_point::max();
  for (const auto& [id, st] : streams_) {
    if (!st->answered) {
      earliest = std::min(earliest, st->started + options_.request_timeout);
    } else if (st->watch && !st->grpc_status) {
      earliest = std::min(earliest, st->watch_deadline);
    } else {
      earliest = std::min(earliest, st->answered_at + options_.write_timeout);
    }
  }
  return earliest;
}

bool h2_processor::expire(clock::time_point now) {
  bool must_close = false;
  for (auto& [id, st] : streams_) {
    if (st->watch && !st->grpc_status) {
      if (st->watch_deadline <= now) {
        st->grpc_status = static_cast<int>(grpc::status_code::deadline_exceeded);
        st->grpc_message = "deadline exceeded";
        resume(*st);
      }
    } else if (!st->answered ? st->started + options_.request_timeout <= now
                             : st->answered_at + options_.write_timeout <= now) {
      must_close = true;
    }
  }
  return must_close;
}

void h2_processor::go_away() {
  if (goaway_sent_) return;
  goaway_sent_ = true;
  // Streams up to the last one we saw are finished; the client opens new
  // ones on another connection (another instance, while we drain).
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
}

void h2_processor::shutdown() {
  draining_ = true;
  go_away();
  for (auto& [id, st] : streams_) {
    if (st->watch && !st->grpc_status) {
      st->grpc_status = static_cast<int>(grpc::status_code::ok);
      resume(*st);
    }
  }
}

void h2_processor::terminate() { nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR); }

}  // namespace badges_health::http
