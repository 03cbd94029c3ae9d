// The three kinds of HTTP/2 stream, and what they share.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/beast/http/verb.hpp>
#include <charconv>
#include <cstring>
#include <vector>

#include "badges_health/http/request_metrics.hpp"
#include "badges_health/http/response_fields.hpp"
#include "badges_health/util/timestamp.hpp"
#include "h2_connection.hpp"
#include "h2_stream.hpp"

namespace badges_health::http {

namespace bhttp = boost::beast::http;
namespace grpc = util::grpc;

namespace {

nghttp2_nv make_nv(std::string_view name, std::string_view value) noexcept {
  // nghttp2_submit_* copy names and values: no flags, no lifetime concerns.
  return nghttp2_nv{const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(name.data())),
                    const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(value.data())),
                    name.size(), value.size(), NGHTTP2_NV_FLAG_NONE};
}

}  // namespace

// ---- what every stream asks of its connection

h2_stream::h2_stream(h2_connection& conn, std::int32_t id, clock::time_point started,
                     std::unique_ptr<h2_request> request)
    : started_(started), request_(std::move(request)), conn_(conn), id_(id) {}

void h2_stream::submit(std::span<const nghttp2_nv> headers, bool with_body) {
  answered_ = true;
  answered_at_ = now();
  nghttp2_data_provider provider{};
  provider.read_callback = &h2_connection::read_body;
  nghttp2_submit_response(conn_.session_, id_, headers.data(), headers.size(),
                          with_body ? &provider : nullptr);
  if (conn_.draining_) conn_.go_away();
}

void h2_stream::submit_trailers(std::span<const nghttp2_nv> trailers) {
  nghttp2_submit_trailer(conn_.session_, id_, trailers.data(), trailers.size());
}

void h2_stream::resume() {
  if (!deferred_) return;
  deferred_ = false;
  nghttp2_session_resume_data(conn_.session_, id_);
}

void h2_stream::hold(std::size_t bytes) noexcept { conn_.bodies_held_ += bytes; }
void h2_stream::release(std::size_t bytes) noexcept {
  conn_.bodies_held_ -= std::min(bytes, conn_.bodies_held_);
}

namespace {

// The access log's view of a stream's request.
access_entry entry_of(const h2_request* request, const boost::asio::ip::tcp::endpoint* client,
                      std::chrono::nanoseconds duration) {
  access_entry e;
  e.time = std::chrono::system_clock::now();
  e.client = client;
  e.duration = duration;
  if (request != nullptr) {
    e.method = request->method;
    e.target = request->path;
    if (const auto ua = request->fields.find(bhttp::field::user_agent);
        ua != request->fields.end()) {
      e.user_agent = ua->value();
    }
  }
  return e;
}

// The gRPC series' method label (request_metrics::grpc_methods).
constexpr std::size_t grpc_other_method = 3;
std::size_t grpc_method_index(std::string_view path) {
  if (path == grpc::check_path) return 0;
  if (path == grpc::watch_path) return 1;
  if (path == grpc::list_path) return 2;
  return grpc_other_method;
}
static_assert(request_metrics::grpc_methods[2] == "List" &&
              request_metrics::grpc_methods[grpc_other_method] == "other");

}  // namespace

void h2_stream::record_http(unsigned status, std::optional<std::size_t> route,
                            std::optional<std::chrono::nanoseconds> handled_in,
                            std::size_t body_bytes, std::string_view error_code) {
  http::answered a;
  a.route = route;
  a.handled_in = handled_in;
  a.entry.status = status;
  if (request_) a.method = bhttp::string_to_verb(request_->method);
  if (conn_.recorder_.log != nullptr) {
    a.entry = entry_of(request_.get(), conn_.client_, now() - started_);
    a.entry.protocol = to_string(protocol::http2);
    a.entry.status = status;
    a.entry.body_bytes = body_bytes;
    a.entry.error_code = error_code;
  }
  record_answer(conn_.recorder_, a);
}

void h2_stream::record_grpc(grpc::status_code status) {
  access_entry e;
  const bool logging = conn_.recorder_.log != nullptr;
  if (logging) e = entry_of(request_.get(), conn_.client_, now() - started_);
  e.duration = now() - started_;
  e.protocol = "gRPC";
  e.status = 200;
  e.grpc_status = static_cast<int>(status);
  record_grpc_call(conn_.recorder_,
                   request_ ? grpc_method_index(request_->path) : grpc_other_method, status, e);
}

const server_options& h2_stream::options() const noexcept { return conn_.options_; }
const error_middleware& h2_stream::middleware() const noexcept { return conn_.middleware_; }
const grpc_health_source* h2_stream::grpc() const noexcept { return conn_.grpc_; }
const event_source* h2_stream::events() const noexcept { return conn_.events_; }
h2_stream::clock::time_point h2_stream::now() const noexcept { return conn_.now_(); }

h2_stream::clock::time_point h2_stream::deadline() const noexcept {
  // A request not complete within the request timeout; an answer not sent
  // within the write timeout (a client that never opens its window).
  return answered_ ? answered_at_ + options().write_timeout : started_ + options().request_timeout;
}

bool h2_stream::expire(clock::time_point now) { return deadline() <= now; }

// ---- a request answered through the middleware

h2_http_stream::h2_http_stream(h2_connection& conn, std::int32_t id, clock::time_point started,
                               std::unique_ptr<h2_request> request)
    : h2_stream(conn, id, started, std::move(request)) {
  takes_body_ =
      !request_->too_large &&
      middleware().router().takes_body(bhttp::string_to_verb(request_->method), request_->path);
}

void h2_http_stream::on_data(std::string_view bytes) {
  if (answered_) return;
  if (takes_body_ && request_body_.size() + bytes.size() <= router::max_body_bytes) {
    request_body_.append(bytes);
    return;
  }
  // A body where none is taken, or one past the limit: answered now, and
  // the rest is dropped (the stream is reset once the answer is out).
  (takes_body_ ? body_too_large_ : has_body_) = true;
  early_ = true;
  answer();
}

std::optional<http_error> h2_http_stream::refused() const {
  if (request_->too_large) return http_error::header_too_large();
  if (has_body_) return http_error::body_not_allowed();
  if (body_too_large_) return http_error::body_too_large(router::max_body_bytes);
  if (request_->path.size() > options().max_target_bytes) return http_error::target_too_long();
  return std::nullopt;
}

void h2_http_stream::answer() {
  if (const auto e = refused()) return answer_error(*e);
  const auto method = bhttp::string_to_verb(request_->method);
  const auto started = now();
  http::answer a = middleware().handle(method, request_->method, request_->path, protocol::http2,
                                       &request_->fields, request_body_);
  std::string().swap(request_body_);
  respond(std::move(a.res), a.route, now() - started, a.error_code);
}

void h2_http_stream::answer_error(const http_error& e) {
  respond(error_middleware::to_response(e), std::nullopt, std::nullopt, e.code());
}

void h2_http_stream::respond(response res, std::optional<std::size_t> route,
                             std::optional<std::chrono::nanoseconds> handled_in,
                             std::string_view error_code, bool streamed) {
  const auto code = static_cast<unsigned>(res.status);
  char status[4];
  std::to_chars(status, status + sizeof status, code);
  char length[24];
  const auto length_end = std::to_chars(length, length + sizeof length, res.payload().size()).ptr;
  const auto date = util::http_date(std::chrono::system_clock::now());
  // The names of the response's own headers, lowercased (RFC 9113 section
  // 8.2.1); the common ones come lowercase from the field list.
  std::vector<std::string> lowered;
  lowered.reserve(res.headers.size());
  std::vector<nghttp2_nv> nva;
  nva.reserve(8 + res.headers.size());
  nva.push_back(make_nv(":status", std::string_view(status, 3)));
  for_each_field(res, date, std::string_view(length, static_cast<std::size_t>(length_end - length)),
                 [&](const field_view& f) {
                   std::string_view name = f.lower_name;
                   if (name.empty()) {
                     std::string& low = lowered.emplace_back(f.name);
                     std::transform(low.begin(), low.end(), low.begin(), [](char c) {
                       return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
                     });
                     name = low;
                   }
                   nva.push_back(make_nv(name, f.value));
                 });
  const bool head = bhttp::string_to_verb(request_->method) == bhttp::verb::head;
  const bool body = !head && status_has_content(code) && !res.payload().empty();
  const std::size_t body_bytes = body ? res.payload().size() : 0;
  if (body) {
    shared_body_ = std::move(res.shared_body);
    body_ = std::move(res.body);
    if (!shared_body_) hold(body_.size());
  }
  submit(nva, body || streamed);
  record_http(code, route, handled_in, body_bytes, error_code);
}

ssize_t h2_http_stream::read(std::uint8_t* buf, std::size_t length, std::uint32_t* flags) {
  const std::string_view payload = shared_body_ ? shared_body_.view() : std::string_view(body_);
  const std::size_t n = std::min(length, payload.size() - sent_);
  std::memcpy(buf, payload.data() + sent_, n);
  sent_ += n;
  if (!shared_body_) release(n);
  if (sent_ == payload.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

void h2_http_stream::sent() {
  // Nothing more to read from it; an owned body's memory goes now.
  if (!shared_body_) release(body_.size() - std::min(sent_, body_.size()));
  std::string().swap(body_);
  shared_body_ = shared_bytes{};
}

// ---- the event stream

void h2_event_stream::answer() {
  if (const auto e = refused()) return answer_error(*e);
  const auto method = bhttp::string_to_verb(request_->method);
  const auto started = now();
  http::answer a = middleware().handle(method, request_->method, request_->path, protocol::http2,
                                       &request_->fields, {});
  const bool stream =
      a.res.event_stream && method == bhttp::verb::get && a.res.status == bhttp::status::ok;
  if (stream) {
    streaming_ = true;
    checks_ = a.res.event_checks;
    std::string first;
    if (events() != nullptr) cursor_ = events()->snapshot(checks_, first);
    queue(first);
    keep_alive_at_ = next_keep_alive(now());
  }
  respond(std::move(a.res), a.route, now() - started, a.error_code, stream);
}

void h2_event_stream::queue(std::string_view data) {
  if (data.empty()) return;
  if (queued_pos_ == queued_.size()) waiting_since_ = now();
  queued_.append(data);
  hold(data.size());
}

ssize_t h2_event_stream::read(std::uint8_t* buf, std::size_t length, std::uint32_t* flags) {
  if (!streaming_) return h2_http_stream::read(buf, length, flags);
  bool pulled = false;
  if (queued_pos_ == queued_.size() && events() != nullptr) {
    // The library took everything: what is new since, if anything.
    std::string news;
    cursor_ = events()->since(cursor_, checks_, news, event_batch_bytes);
    pulled = !news.empty();
    queue(news);
  }
  const std::size_t n = std::min(length, queued_.size() - queued_pos_);
  std::memcpy(buf, queued_.data() + queued_pos_, n);
  queued_pos_ += n;
  release(n);
  if (queued_pos_ == queued_.size()) {
    std::string().swap(queued_);
    queued_pos_ = 0;
    waiting_since_ = clock::time_point::max();
    // Ending: once what is new (the `down` of the drain) has gone.
    if (ending_ && !pulled) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
    } else if (n == 0) {
      deferred_ = true;
      return NGHTTP2_ERR_DEFERRED;
    }
  }
  return static_cast<ssize_t>(n);
}

void h2_event_stream::health_changed() {
  // A deferred read takes what is new when resumed; otherwise the library
  // reads again on its own once it has sent what it has.
  if (streaming_ && !ending_) resume();
}

h2_stream::clock::time_point h2_event_stream::deadline() const noexcept {
  if (!streaming_) return h2_stream::deadline();
  // Bytes the library has not taken (a window kept shut) meet the write
  // timeout; a quiet stream wakes for its keep-alive comment.
  if (waiting_since_ != clock::time_point::max()) {
    return std::min(keep_alive_at_, waiting_since_ + options().write_timeout);
  }
  return keep_alive_at_;
}

bool h2_event_stream::expire(clock::time_point now) {
  if (!streaming_) return h2_stream::expire(now);
  if (waiting_since_ != clock::time_point::max() &&
      waiting_since_ + options().write_timeout <= now) {
    return true;  // a client that does not read: the connection closes
  }
  if (keep_alive_at_ <= now) {
    keep_alive_at_ = next_keep_alive(now);
    if (queued_pos_ == queued_.size() && !ending_) queue(event_keep_alive);
    resume();
  }
  return false;
}

void h2_event_stream::shutdown() {
  if (!streaming_ || ending_) return;
  // What is new (the `down` of the drain) goes first, then END_STREAM.
  ending_ = true;
  resume();
}

// ---- gRPC: what Check and Watch share

void h2_grpc_stream::on_data(std::string_view bytes) {
  if (answered_) return;
  if (message_.size() + bytes.size() > grpc::max_request_bytes) {
    early_ = true;
    return finish(grpc::status_code::resource_exhausted, "request message too large");
  }
  message_.append(bytes);
}

void h2_grpc_stream::start_response() {
  if (started_response_) return;
  started_response_ = true;
  const std::array<nghttp2_nv, 2> headers{make_nv(":status", "200"),
                                          make_nv("content-type", "application/grpc")};
  submit(headers, true);
  // A call that ends as it starts (Check, or an error) is counted now; a
  // Watch when it ends.
  if (status_) record_grpc(*status_);
}

void h2_grpc_stream::finish(grpc::status_code code, std::string message) {
  status_ = code;
  status_message_ = std::move(message);
  if (!started_response_) {
    out_.clear();
    out_pos_ = 0;
    return start_response();
  }
  record_grpc(code);
  resume();
}

bool h2_grpc_stream::read_request(std::string* service,
                                  std::optional<std::chrono::nanoseconds>& timeout) {
  if (!request_->grpc_timeout.empty()) {
    timeout = grpc::parse_timeout(request_->grpc_timeout);
    if (!timeout) {
      finish(grpc::status_code::internal, "malformed grpc-timeout");
      return false;
    }
  }
  if (service != nullptr) {
    auto decoded = grpc::decode_check_request(message_);
    if (!decoded) {
      finish(decoded.error().code, decoded.error().message);
      return false;
    }
    *service = std::move(*decoded);
  } else if (const auto decoded = grpc::decode_list_request(message_); !decoded) {
    finish(decoded.error().code, decoded.error().message);
    return false;
  }
  if (timeout && timeout->count() == 0) {
    finish(grpc::status_code::deadline_exceeded, "deadline exceeded");
    return false;
  }
  return true;
}

ssize_t h2_grpc_stream::read(std::uint8_t* buf, std::size_t length, std::uint32_t* flags) {
  const std::size_t n = std::min(length, out_.size() - out_pos_);
  std::memcpy(buf, out_.data() + out_pos_, n);
  out_pos_ += n;
  if (out_pos_ < out_.size()) return static_cast<ssize_t>(n);
  out_.clear();
  out_pos_ = 0;
  if (!status_) {
    // A Watch has sent all it has: wait for the next change.
    if (n != 0) return static_cast<ssize_t>(n);
    deferred_ = true;
    return NGHTTP2_ERR_DEFERRED;
  }
  *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
  const std::string_view code = grpc::to_text(*status_);
  std::vector<nghttp2_nv> trailers{make_nv("grpc-status", code)};
  if (!status_message_.empty()) trailers.push_back(make_nv("grpc-message", status_message_));
  submit_trailers(trailers);
  return static_cast<ssize_t>(n);
}

// ---- Check and List

void h2_grpc_unary_stream::answer() {
  if (request_->method == "POST" && grpc() != nullptr) {
    if (request_->path == grpc::check_path) return answer_check();
    if (request_->path == grpc::list_path) return answer_list();
  }
  finish(grpc::status_code::unimplemented, "unknown method " + request_->path);
}

void h2_grpc_unary_stream::answer_check() {
  std::string service;
  std::optional<std::chrono::nanoseconds> timeout;
  if (!read_request(&service, timeout)) return;
  const auto status = grpc()->status(service);
  if (!status) return finish(grpc::status_code::not_found, "unknown service");
  if (*status == serving_status::not_serving && options().grpc_unavailable_when_not_serving) {
    return finish(grpc::status_code::unavailable, "NOT_SERVING");
  }
  out_ = grpc::encode_check_response(*status);
  status_ = grpc::status_code::ok;
  start_response();
}

void h2_grpc_unary_stream::answer_list() {
  std::optional<std::chrono::nanoseconds> timeout;
  if (!read_request(nullptr, timeout)) return;
  auto statuses = grpc()->list();
  if (statuses.size() > grpc::max_list_names) {
    return finish(
        grpc::status_code::resource_exhausted,
        "server health list exceeds maximum capacity: " + std::to_string(grpc::max_list_names));
  }
  // Every status as it is, NOT_SERVING included: the ALB mode
  // (--grpc-unavailable-when-not-serving) is for a prober's Check. Like
  // Check's, the answer is not counted as output held: the cap on names
  // bounds it to a few KiB.
  out_ = grpc::encode_list_response(std::move(statuses));
  status_ = grpc::status_code::ok;
  start_response();
}

// ---- Watch

void h2_grpc_watch_stream::answer() {
  keep_request_ = true;  // for the access log, when the call ends
  std::optional<std::chrono::nanoseconds> timeout;
  if (!read_request(&service_, timeout)) return;
  if (timeout) {
    watch_deadline_ = started_ + std::chrono::duration_cast<clock::duration>(*timeout);
  }
  last_sent_ = grpc()->status(service_).value_or(serving_status::service_unknown);
  out_ = grpc::encode_check_response(*last_sent_);
  start_response();
}

void h2_grpc_watch_stream::health_changed() {
  if (!started_response_ || finished()) return;
  const auto now_status = grpc()->status(service_).value_or(serving_status::service_unknown);
  if (last_sent_ == now_status) return;
  last_sent_ = now_status;
  out_.append(grpc::encode_check_response(now_status));
  resume();
}

h2_stream::clock::time_point h2_grpc_watch_stream::deadline() const noexcept {
  if (!answered_ || finished()) return h2_stream::deadline();
  return watch_deadline_;
}

bool h2_grpc_watch_stream::expire(clock::time_point now) {
  if (!answered_ || finished()) return h2_stream::expire(now);
  if (watch_deadline_ <= now) finish(grpc::status_code::deadline_exceeded, "deadline exceeded");
  return false;
}

void h2_grpc_watch_stream::shutdown() {
  if (started_response_ && !finished()) finish(grpc::status_code::ok, {});
}

}  // namespace badges_health::http
