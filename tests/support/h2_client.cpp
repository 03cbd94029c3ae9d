// HTTP/2 frames and HPACK literals written by hand, and a client that
// reads frames back, decoding header blocks with libnghttp2's inflater.
#include "support/h2_client.hpp"

#include <nghttp2/nghttp2.h>
#include <poll.h>

#include <algorithm>
#include <array>

namespace badges_health::test::h2 {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

void put_u32(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>((v >> 24) & 0xff));
  out.push_back(static_cast<char>((v >> 16) & 0xff));
  out.push_back(static_cast<char>((v >> 8) & 0xff));
  out.push_back(static_cast<char>(v & 0xff));
}

std::uint32_t get_u32(std::string_view in) {
  std::uint32_t v = 0;
  for (std::size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

// An HPACK integer with an N-bit prefix (RFC 7541 section 5.1); `first`
// holds the representation's bits above the prefix.
void put_integer(std::string& out, std::uint8_t first, unsigned prefix_bits, std::size_t value) {
  const std::size_t max_prefix = (std::size_t{1} << prefix_bits) - 1;
  if (value < max_prefix) {
    out.push_back(static_cast<char>(first | value));
    return;
  }
  out.push_back(static_cast<char>(first | max_prefix));
  value -= max_prefix;
  while (value >= 128) {
    out.push_back(static_cast<char>((value % 128) + 128));
    value /= 128;
  }
  out.push_back(static_cast<char>(value));
}

milliseconds left_until(steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
  return std::max(left, milliseconds{0});
}

// The fragment of a HEADERS or DATA payload once padding (and for HEADERS
// the priority fields) are taken off; nullopt when they do not fit.
std::optional<std::string_view> strip_padding(const received_frame& f, std::size_t priority_bytes) {
  std::string_view p = f.payload;
  std::size_t pad = 0;
  if ((f.flags & flags::padded) != 0) {
    if (p.empty()) return std::nullopt;
    pad = static_cast<unsigned char>(p.front());
    p.remove_prefix(1);
  }
  if (p.size() < priority_bytes + pad) return std::nullopt;
  p.remove_prefix(priority_bytes);
  p.remove_suffix(pad);
  return p;
}

}  // namespace

std::string to_string(error_code code) {
  static constexpr std::array<std::string_view, 14> names{"NO_ERROR",
                                                          "PROTOCOL_ERROR",
                                                          "INTERNAL_ERROR",
                                                          "FLOW_CONTROL_ERROR",
                                                          "SETTINGS_TIMEOUT",
                                                          "STREAM_CLOSED",
                                                          "FRAME_SIZE_ERROR",
                                                          "REFUSED_STREAM",
                                                          "CANCEL",
                                                          "COMPRESSION_ERROR",
                                                          "CONNECT_ERROR",
                                                          "ENHANCE_YOUR_CALM",
                                                          "INADEQUATE_SECURITY",
                                                          "HTTP_1_1_REQUIRED"};
  const auto n = static_cast<std::uint32_t>(code);
  if (n < names.size()) return std::string(names[n]);
  return "error " + std::to_string(n);
}

// --- Writing frames -------------------------------------------------------

std::string frame(std::uint8_t type, std::uint8_t flag_bits, std::uint32_t stream_id,
                  std::string_view payload) {
  std::string out;
  out.reserve(9 + payload.size());
  const auto length = static_cast<std::uint32_t>(payload.size());
  out.push_back(static_cast<char>((length >> 16) & 0xff));
  out.push_back(static_cast<char>((length >> 8) & 0xff));
  out.push_back(static_cast<char>(length & 0xff));
  out.push_back(static_cast<char>(type));
  out.push_back(static_cast<char>(flag_bits));
  put_u32(out, stream_id & 0x7fffffffu);
  out.append(payload);
  return out;
}

std::string frame(frame_type type, std::uint8_t flag_bits, std::uint32_t stream_id,
                  std::string_view payload) {
  return frame(static_cast<std::uint8_t>(type), flag_bits, stream_id, payload);
}

std::string settings_frame(const settings_list& settings) {
  std::string payload;
  for (const auto& [id, value] : settings) {
    const auto n = static_cast<std::uint16_t>(id);
    payload.push_back(static_cast<char>(n >> 8));
    payload.push_back(static_cast<char>(n & 0xff));
    put_u32(payload, value);
  }
  return frame(frame_type::settings, flags::none, 0, payload);
}

std::string settings_ack_frame() { return frame(frame_type::settings, flags::ack, 0, ""); }

std::string ping_frame(std::uint64_t opaque, bool ack) {
  std::string payload;
  put_u32(payload, static_cast<std::uint32_t>(opaque >> 32));
  put_u32(payload, static_cast<std::uint32_t>(opaque));
  return frame(frame_type::ping, ack ? flags::ack : flags::none, 0, payload);
}

std::string rst_stream_frame(std::uint32_t stream_id, error_code code) {
  std::string payload;
  put_u32(payload, static_cast<std::uint32_t>(code));
  return frame(frame_type::rst_stream, flags::none, stream_id, payload);
}

std::string window_update_frame(std::uint32_t stream_id, std::uint32_t increment) {
  std::string payload;
  put_u32(payload, increment & 0x7fffffffu);
  return frame(frame_type::window_update, flags::none, stream_id, payload);
}

std::string data_frame(std::uint32_t stream_id, std::string_view data, bool end_stream) {
  return frame(frame_type::data, end_stream ? flags::end_stream : flags::none, stream_id, data);
}

std::string headers_frame(std::uint32_t stream_id, std::string_view block, std::uint8_t flag_bits) {
  return frame(frame_type::headers, flag_bits, stream_id, block);
}

std::string continuation_frame(std::uint32_t stream_id, std::string_view block, bool end_headers) {
  return frame(frame_type::continuation, end_headers ? flags::end_headers : flags::none, stream_id,
               block);
}

void header_block::string_literal(std::string_view s) {
  put_integer(bytes_, 0x00, 7, s.size());  // H = 0: not Huffman-coded
  bytes_.append(s);
}

header_block& header_block::literal(std::string_view name, std::string_view value) {
  bytes_.push_back('\0');  // 0000 0000: without indexing, new name
  string_literal(name);
  string_literal(value);
  return *this;
}

header_block& header_block::literal_indexed(std::string_view name, std::string_view value) {
  bytes_.push_back('\x40');  // 0100 0000: incremental indexing, new name
  string_literal(name);
  string_literal(value);
  return *this;
}

header_block& header_block::indexed(std::size_t index) {
  put_integer(bytes_, 0x80, 7, index);
  return *this;
}

header_block& header_block::raw(std::string_view bytes) {
  bytes_.append(bytes);
  return *this;
}

header_block request_headers(std::string_view method, std::string_view path,
                             std::string_view authority) {
  header_block b;
  b.literal(":method", method).literal(":scheme", "http").literal(":authority", authority);
  b.literal(":path", path);
  return b;
}

header_block grpc_request_headers(std::string_view path) {
  header_block b = request_headers("POST", path);
  b.literal("content-type", "application/grpc").literal("te", "trailers");
  return b;
}

std::string grpc_check_request(std::string_view service) {
  // HealthCheckRequest { string service = 1; }: tag 0x0a, a varint length.
  std::string message;
  if (!service.empty()) {
    message.push_back('\x0a');
    std::size_t n = service.size();
    while (n >= 128) {
      message.push_back(static_cast<char>((n % 128) + 128));
      n /= 128;
    }
    message.push_back(static_cast<char>(n));
    message.append(service);
  }
  std::string out(1, '\0');  // not compressed
  put_u32(out, static_cast<std::uint32_t>(message.size()));
  return out + message;
}

// --- Reading frames -------------------------------------------------------

std::string framing_violation(const received_frame& f) {
  const std::size_t n = f.payload.size();
  const auto type = static_cast<frame_type>(f.type);
  const auto where = [&](std::string_view what) {
    return std::string(what) + " (type " + std::to_string(f.type) + ", stream " +
           std::to_string(f.stream_id) + ", length " + std::to_string(n) + ")";
  };
  if (n > default_max_frame_size) return where("frame above the client's SETTINGS_MAX_FRAME_SIZE");
  switch (type) {
    case frame_type::settings:
      if (f.stream_id != 0) return where("SETTINGS on a stream");
      if (n % 6 != 0 || ((f.flags & flags::ack) != 0 && n != 0)) return where("SETTINGS length");
      return {};
    case frame_type::ping:
      if (f.stream_id != 0 || n != 8) return where("malformed PING");
      return {};
    case frame_type::goaway:
      if (f.stream_id != 0 || n < 8) return where("malformed GOAWAY");
      return {};
    case frame_type::window_update:
      if (n != 4) return where("malformed WINDOW_UPDATE");
      return {};
    case frame_type::rst_stream:
      if (f.stream_id == 0 || n != 4) return where("malformed RST_STREAM");
      break;
    case frame_type::data:
    case frame_type::headers:
    case frame_type::continuation:
    case frame_type::priority:
      if (f.stream_id == 0) return where("stream frame on stream 0");
      break;
    case frame_type::push_promise:
      return where("PUSH_PROMISE from a server whose client never enabled push");
    default:
      return {};  // unknown types are allowed and ignored
  }
  // The server may only answer streams its client opened: odd numbers.
  if (f.stream_id % 2 == 0) return where("frame on a stream the client could not have opened");
  return {};
}

frame_split split_frames(std::string_view bytes) {
  frame_split out;
  while (bytes.size() - out.used >= 9) {
    const std::string_view head = bytes.substr(out.used, 9);
    const std::size_t length =
        (static_cast<std::size_t>(static_cast<unsigned char>(head[0])) << 16) |
        (static_cast<std::size_t>(static_cast<unsigned char>(head[1])) << 8) |
        static_cast<unsigned char>(head[2]);
    if (length > default_max_frame_size) {
      out.oversized = true;
      break;
    }
    if (bytes.size() - out.used < 9 + length) break;
    received_frame f;
    f.type = static_cast<std::uint8_t>(head[3]);
    f.flags = static_cast<std::uint8_t>(head[4]);
    f.stream_id = get_u32(head.substr(5)) & 0x7fffffffu;
    f.payload.assign(bytes.substr(out.used + 9, length));
    out.frames.push_back(std::move(f));
    out.used += 9 + length;
  }
  return out;
}

std::string header_value(const header_list& headers, std::string_view name) {
  for (const auto& [n, v] : headers) {
    if (n == name) return v;
  }
  return {};
}

struct header_decoder::inflater {
  nghttp2_hd_inflater* hd = nullptr;
  ~inflater() { nghttp2_hd_inflate_del(hd); }
};

header_decoder::header_decoder() : impl_(std::make_unique<inflater>()) {
  if (nghttp2_hd_inflate_new(&impl_->hd) != 0) throw std::bad_alloc();
}

header_decoder::~header_decoder() = default;

std::optional<header_list> header_decoder::decode(std::string_view block) {
  header_list out;
  auto* in = reinterpret_cast<std::uint8_t*>(const_cast<char*>(block.data()));
  std::size_t left = block.size();
  for (;;) {
    nghttp2_nv nv{};
    int inflate_flags = 0;
    const auto rv = nghttp2_hd_inflate_hd2(impl_->hd, &nv, &inflate_flags, in, left, 1);
    if (rv < 0) return std::nullopt;
    in += rv;
    left -= static_cast<std::size_t>(rv);
    if ((inflate_flags & NGHTTP2_HD_INFLATE_EMIT) != 0) {
      out.emplace_back(std::string(reinterpret_cast<const char*>(nv.name), nv.namelen),
                       std::string(reinterpret_cast<const char*>(nv.value), nv.valuelen));
    }
    if ((inflate_flags & NGHTTP2_HD_INFLATE_FINAL) != 0) {
      nghttp2_hd_inflate_end_headers(impl_->hd);
      return out;
    }
    if ((inflate_flags & NGHTTP2_HD_INFLATE_EMIT) == 0 && left == 0) return std::nullopt;
  }
}

unsigned stream_state::status() const {
  const std::string s = header_value(headers, ":status");
  unsigned v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return 0;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  return v;
}

http_response as_http_response(const stream_state& st) {
  http_response res;
  res.result(st.status());
  for (const auto& [name, value] : st.headers) {
    if (!name.empty() && name.front() != ':') res.insert(name, value);
  }
  res.body() = st.body;
  return res;
}

client::client(unsigned short port) : client(port, options{}) {}

client::client(unsigned short port, options opts)
    : conn_(port, opts.receive_buffer), opts_(std::move(opts)) {
  if (opts_.preface) send(std::string(preface) + settings_frame(opts_.settings));
}

bool client::send(std::string_view bytes, milliseconds timeout) {
  return conn_.send_all(bytes, timeout);
}

std::uint32_t client::next_stream_id() noexcept {
  const std::uint32_t id = next_id_;
  next_id_ += 2;
  return id;
}

std::uint32_t client::open_stream(const header_block& block, bool end_stream) {
  const std::uint32_t id = next_stream_id();
  const std::uint8_t f = flags::end_headers | (end_stream ? flags::end_stream : flags::none);
  return send(headers_frame(id, block.bytes(), f)) ? id : 0;
}

bool client::pump() {
  const bool closed = conn_.read_available();
  in_.append(conn_.received());
  conn_.received().clear();
  const frame_split split = split_frames(in_);
  for (const auto& f : split.frames) process(f);
  in_.erase(0, split.used);
  if (split.oversized && violation_.empty()) {
    violation_ =
        "a frame header announced more than " + std::to_string(default_max_frame_size) + " bytes";
  }
  return closed;
}

void client::process(const received_frame& f) {
  ++frames_received_;
  if (const std::string bad = framing_violation(f); !bad.empty()) {
    if (violation_.empty()) violation_ = bad;
    return;
  }
  if (in_block_ && !f.is(frame_type::continuation)) {
    if (violation_.empty()) violation_ = "a frame interrupted a header block";
    in_block_ = false;
  }
  switch (static_cast<frame_type>(f.type)) {
    case frame_type::settings:
      if ((f.flags & flags::ack) == 0) {
        ++settings_received_;
        if (opts_.ack_settings) send(settings_ack_frame(), milliseconds(1000));
      }
      break;
    case frame_type::headers: {
      const std::size_t priority_bytes = (f.flags & flags::priority) != 0 ? 5 : 0;
      const auto fragment = strip_padding(f, priority_bytes);
      if (!fragment) {
        if (violation_.empty()) violation_ = "HEADERS padding longer than its payload";
        break;
      }
      block_.clear();
      block_stream_ = f.stream_id;
      block_ends_stream_ = (f.flags & flags::end_stream) != 0;
      in_block_ = true;
      header_fragment(f, *fragment);
      break;
    }
    case frame_type::continuation:
      if (!in_block_ || f.stream_id != block_stream_) {
        if (violation_.empty()) violation_ = "CONTINUATION outside a header block";
        break;
      }
      header_fragment(f, f.payload);
      break;
    case frame_type::data: {
      const auto fragment = strip_padding(f, 0);
      if (!fragment) {
        if (violation_.empty()) violation_ = "DATA padding longer than its payload";
        break;
      }
      auto& st = streams_[f.stream_id];
      st.body.append(*fragment);
      if ((f.flags & flags::end_stream) != 0) st.ended = true;
      break;
    }
    case frame_type::rst_stream:
      streams_[f.stream_id].reset = static_cast<error_code>(get_u32(f.payload));
      break;
    case frame_type::goaway:
      goaway_ =
          goaway_info{get_u32(f.payload) & 0x7fffffffu,
                      static_cast<error_code>(get_u32(f.payload.substr(4))), f.payload.substr(8)};
      break;
    default:
      break;  // PING acknowledgements, WINDOW_UPDATE, PRIORITY, unknown types
  }
}

void client::header_fragment(const received_frame& f, std::string_view fragment) {
  block_.append(fragment);
  if ((f.flags & flags::end_headers) != 0) end_header_block();
}

void client::end_header_block() {
  in_block_ = false;
  auto fields = decoder_.decode(block_);
  if (!fields) {
    if (violation_.empty()) violation_ = "a header block that does not decode";
    return;
  }
  if (block_stream_ >= next_id_) {
    if (violation_.empty()) {
      violation_ = "headers on stream " + std::to_string(block_stream_) + ", not opened yet";
    }
    return;
  }
  auto& st = streams_[block_stream_];
  (st.headers.empty() ? st.headers : st.trailers) = std::move(*fields);
  if (block_ends_stream_) st.ended = true;
}

bool client::wait(const std::function<bool()>& done, milliseconds timeout) {
  const auto deadline = steady_clock::now() + timeout;
  for (;;) {
    const bool closed = pump();
    if (done()) return true;
    const auto left = left_until(deadline);
    if (closed || left.count() == 0) return false;
    pollfd pfd{conn_.fd(), POLLIN | POLLRDHUP, 0};
    ::poll(&pfd, 1, static_cast<int>(left.count()));
  }
}

const stream_state* client::wait_for_stream(std::uint32_t id, milliseconds timeout) {
  wait(
      [&] {
        const auto* st = stream(id);
        return st != nullptr && st->done();
      },
      timeout);
  return stream(id);
}

bool client::wait_closed(milliseconds timeout) {
  return wait([&] { return closed(); }, timeout) || closed();
}

const stream_state* client::stream(std::uint32_t id) const {
  const auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : &it->second;
}

std::optional<stream_state> fetch(unsigned short port, std::string_view path,
                                  milliseconds timeout) {
  try {
    client c(port, client::options{.preface = false});
    const std::string request =
        std::string(preface) + settings_frame() +
        headers_frame(c.next_stream_id(), request_headers("GET", path).bytes(),
                      flags::end_headers | flags::end_stream);
    if (!c.send(request, timeout)) return std::nullopt;
    const auto* st = c.wait_for_stream(1, timeout);
    if (st == nullptr || !st->ended || !c.violation().empty()) return std::nullopt;
    return *st;
  } catch (const std::system_error&) {
    return std::nullopt;  // connect failed
  }
}

}  // namespace badges_health::test::h2
