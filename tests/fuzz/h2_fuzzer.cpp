// libFuzzer target over an HTTP/2 connection without sockets: arbitrary
// bytes after the preface, delivered in arbitrary pieces, through
// libnghttp2, the middleware and the gRPC health service, with health
// changes, deadlines and a shutdown along the way. Whatever comes in,
// nothing may crash, and what comes out must be HTTP/2 a client can read:
// whole frames, lengths within the client's default frame size, each type
// where it belongs, header blocks that decode.
//
// Input: byte 0 chooses how the rest is split into reads (1 to 256 bytes);
// byte 1 chooses, two bits per read in turn, what happens after each read:
// nothing, a health change, a clock jump, or shutdown. The rest is what the
// client sends after its preface (tests/fuzz/h2_corpus has examples).
#include <nghttp2/nghttp2.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "badges_health/app/check_reports.hpp"
#include "badges_health/app/handlers.hpp"
#include "badges_health/health/health_model.hpp"
#include "badges_health/health/report_sink.hpp"
#include "badges_health/http/error_middleware.hpp"
#include "badges_health/http/grpc_health.hpp"
#include "badges_health/http/request_metrics.hpp"
#include "badges_health/http/router.hpp"
#include "http/h2_connection.hpp"

namespace {

using namespace badges_health;
using http::serving_status;

// Service names as the app's service has them: "" follows the health
// (flipped by the input), "liveness" always serves, anything else is
// unknown.
class health_source final : public http::grpc_health_source {
 public:
  std::optional<serving_status> status(std::string_view service) const override {
    if (service.empty()) return serving ? serving_status::serving : serving_status::not_serving;
    if (service == "liveness") return serving_status::serving;
    return std::nullopt;
  }
  std::vector<http::named_status> list() const override {
    return {{"", *status("")}, {"liveness", serving_status::serving}};
  }
  bool serving = true;
};

// Takes the reports the write route accepts (for "processor"), as the
// scheduler would.
class sink_for_reports final : public health::report_sink {
 public:
  health::report_outcome submit(std::string_view name, health::check_result) override {
    return name == "processor" ? health::report_outcome::accepted
                               : health::report_outcome::unknown_check;
  }
};

struct service {
  service() {
    // Small limits and timeouts reach the limit and deadline paths.
    options.max_header_bytes = 1024;
    options.max_target_bytes = 256;
    options.max_concurrent_streams = 8;
    options.request_timeout = std::chrono::milliseconds(200);
    options.write_timeout = std::chrono::milliseconds(200);
    options.idle_timeout = std::chrono::milliseconds(400);
    // With the write route, so that request bodies are fuzzed too.
    app::register_routes(router, model, metrics, info, "token", "", &reports);
  }
  http::server_options options;
  health::health_model model;
  http::metrics_registry metrics{1};  // register_routes names the routes
  app::service_info info;
  sink_for_reports sink;
  app::check_report_handler reports{sink, "token"};
  http::router router;
  http::error_middleware middleware{router};
};

// Reads the server's output as a client would, frame by frame, and aborts
// at the first thing a client could not read.
class frame_checker {
 public:
  frame_checker() {
    if (nghttp2_hd_inflate_new(&inflater_) != 0) std::abort();
  }
  ~frame_checker() { nghttp2_hd_inflate_del(inflater_); }
  frame_checker(const frame_checker&) = delete;
  frame_checker& operator=(const frame_checker&) = delete;

  // `out` is everything the processor has produced so far; what is new
  // since the last call must be whole frames.
  void check(std::string_view out) {
    while (pos_ < out.size()) {
      if (out.size() - pos_ < 9) std::abort();  // half a frame header
      const auto* h = reinterpret_cast<const std::uint8_t*>(out.data() + pos_);
      const std::size_t length = (std::size_t{h[0]} << 16) | (std::size_t{h[1]} << 8) | h[2];
      const std::uint8_t type = h[3];
      const std::uint8_t flags = h[4];
      const std::uint32_t stream = ((std::uint32_t{h[5]} << 24) | (std::uint32_t{h[6]} << 16) |
                                    (std::uint32_t{h[7]} << 8) | h[8]) &
                                   0x7fffffffu;
      // libnghttp2 never sends more than the default maximum (its DATA and
      // header-block buffers are that size), whatever the client allows.
      if (length > 16384 || out.size() - pos_ - 9 < length) std::abort();
      frame(type, flags, stream, out.substr(pos_ + 9, length));
      pos_ += 9 + length;
    }
  }

 private:
  void frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream,
             std::string_view payload) {
    const std::size_t n = payload.size();
    // The server's connection preface is a SETTINGS frame.
    if (frames_++ == 0 && type != NGHTTP2_SETTINGS) std::abort();
    // A header block is contiguous: nothing between its frames.
    if (in_block_ && (type != NGHTTP2_CONTINUATION || stream != block_stream_)) std::abort();
    switch (type) {
      case NGHTTP2_SETTINGS:
        if (stream != 0 || n % 6 != 0 || ((flags & NGHTTP2_FLAG_ACK) != 0 && n != 0)) {
          std::abort();
        }
        return;
      case NGHTTP2_PING:
        if (stream != 0 || n != 8) std::abort();
        return;
      case NGHTTP2_GOAWAY:
        if (stream != 0 || n < 8) std::abort();
        return;
      case NGHTTP2_WINDOW_UPDATE:
        if (n != 4) std::abort();
        return;
      case NGHTTP2_RST_STREAM:
        if (n != 4) std::abort();
        break;
      case NGHTTP2_DATA:
        break;
      case NGHTTP2_HEADERS:
        // The server sets neither padding nor priority.
        if ((flags & (NGHTTP2_FLAG_PADDED | NGHTTP2_FLAG_PRIORITY)) != 0) std::abort();
        block_.assign(payload);
        block_stream_ = stream;
        in_block_ = true;
        if ((flags & NGHTTP2_FLAG_END_HEADERS) != 0) end_block();
        break;
      case NGHTTP2_CONTINUATION:
        if (!in_block_) std::abort();
        block_.append(payload);
        if ((flags & NGHTTP2_FLAG_END_HEADERS) != 0) end_block();
        break;
      default:
        std::abort();  // PRIORITY, PUSH_PROMISE or an extension: never ours
    }
    // Stream frames are on streams the client opened: odd, never 0.
    if (stream == 0 || stream % 2 == 0) std::abort();
  }

  void end_block() {
    in_block_ = false;
    auto* in = reinterpret_cast<std::uint8_t*>(block_.data());
    std::size_t left = block_.size();
    for (;;) {
      nghttp2_nv nv;
      int inflate_flags = 0;
      const auto rv = nghttp2_hd_inflate_hd2(inflater_, &nv, &inflate_flags, in, left, 1);
      if (rv < 0) std::abort();  // the server's HPACK does not decode
      in += rv;
      left -= static_cast<std::size_t>(rv);
      if ((inflate_flags & NGHTTP2_HD_INFLATE_FINAL) != 0) break;
      if ((inflate_flags & NGHTTP2_HD_INFLATE_EMIT) == 0 && left == 0) std::abort();
    }
    nghttp2_hd_inflate_end_headers(inflater_);
  }

  nghttp2_hd_inflater* inflater_ = nullptr;
  std::size_t pos_ = 0;
  std::size_t frames_ = 0;
  std::string block_;
  std::uint32_t block_stream_ = 0;
  bool in_block_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static service svc;
  if (size < 2) return 0;
  const std::size_t chunk = std::size_t{data[0]} + 1;
  const std::uint8_t schedule = data[1];
  std::string_view input(reinterpret_cast<const char*>(data + 2), size - 2);

  health_source source;
  // The fuzzer's own clock: each read is 50 ms after the last, so the
  // 200 ms timeouts pass within a few reads.
  static http::h2_connection::clock::time_point now;
  now = http::h2_connection::clock::now();
  http::h2_connection processor(svc.options, svc.middleware, {&svc.metrics.worker(0), nullptr},
                                &source, []() noexcept { return now; });
  frame_checker checker;
  std::string out;
  const auto flush = [&] {
    // As if the writer had fallen behind by a varying amount: the bound on
    // output held defers answers on some turns and not on others.
    processor.set_unsent((out.size() * 7) % (2 * http::h2_connection::max_held_output));
    const bool ok = processor.send(out);
    checker.check(out);
    return ok;
  };
  bool draining = false;
  bool open = flush();
  for (std::size_t i = 0; open && !input.empty(); ++i) {
    const std::string_view piece = input.substr(0, chunk);
    input.remove_prefix(piece.size());
    open = processor.receive(piece, draining);
    if (!flush() || !open || processor.finished()) break;
    now += std::chrono::milliseconds(50);
    switch ((schedule >> ((i % 4) * 2)) & 3) {
      case 1:
        source.serving = !source.serving;
        processor.health_changed();
        break;
      case 2:
        static_cast<void>(processor.deadline());
        if (processor.expire(now)) {
          // What the session does at a deadline: GOAWAY and close.
          processor.terminate();
          open = false;
        }
        break;
      case 3:
        if (!draining) processor.shutdown();
        draining = true;
        break;
      default:
        break;
    }
    if (!flush()) break;
  }
  // The connection's end: whatever is still open runs out of time.
  if (open && processor.expire(now + std::chrono::hours(1))) processor.terminate();
  flush();
  static_cast<void>(processor.idle());
  static_cast<void>(processor.any_stream());
  return 0;
}
