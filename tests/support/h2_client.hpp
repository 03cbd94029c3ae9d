// Test support for HTTP/2 by hand: frames written byte for byte (RFC 9113
// section 4), header blocks encoded as HPACK literals and table references
// (RFC 7541, no Huffman), and a client connection that reads the server's
// frames, decodes its header blocks and keeps each stream's answer, so a
// test can send anything, well-formed or hostile, and see exactly what
// comes back.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/hostile_client.hpp"

namespace badges_health::test::h2 {

/// What a prior-knowledge client sends first (RFC 9113 section 3.4).
inline constexpr std::string_view preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Largest frame payload either side may send until told otherwise; the
/// clients here never raise it, so the server must keep to it.
inline constexpr std::size_t default_max_frame_size = 16384;

enum class frame_type : std::uint8_t {
  data = 0x0,
  headers = 0x1,
  priority = 0x2,
  rst_stream = 0x3,
  settings = 0x4,
  push_promise = 0x5,
  ping = 0x6,
  goaway = 0x7,
  window_update = 0x8,
  continuation = 0x9,
};

namespace flags {
inline constexpr std::uint8_t none = 0x0;
inline constexpr std::uint8_t end_stream = 0x1;
inline constexpr std::uint8_t ack = 0x1;
inline constexpr std::uint8_t end_headers = 0x4;
inline constexpr std::uint8_t padded = 0x8;
inline constexpr std::uint8_t priority = 0x20;
}  // namespace flags

/// RFC 9113 section 7.
enum class error_code : std::uint32_t {
  no_error = 0x0,
  protocol_error = 0x1,
  internal_error = 0x2,
  flow_control_error = 0x3,
  settings_timeout = 0x4,
  stream_closed = 0x5,
  frame_size_error = 0x6,
  refused_stream = 0x7,
  cancel = 0x8,
  compression_error = 0x9,
  connect_error = 0xa,
  enhance_your_calm = 0xb,
  inadequate_security = 0xc,
  http_1_1_required = 0xd,
};

/// The name of an error code ("ENHANCE_YOUR_CALM"), or its number.
std::string to_string(error_code code);

enum class setting : std::uint16_t {
  header_table_size = 0x1,
  enable_push = 0x2,
  max_concurrent_streams = 0x3,
  initial_window_size = 0x4,
  max_frame_size = 0x5,
  max_header_list_size = 0x6,
};

using settings_list = std::vector<std::pair<setting, std::uint32_t>>;

// --- Writing frames -------------------------------------------------------

/// A frame: the 9-byte header (length, type, flags, stream) and `payload`.
/// `type` is a byte so that tests can write unknown types too.
std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream_id,
                  std::string_view payload);
std::string frame(frame_type type, std::uint8_t flags, std::uint32_t stream_id,
                  std::string_view payload);

std::string settings_frame(const settings_list& settings = {});
std::string settings_ack_frame();
std::string ping_frame(std::uint64_t opaque, bool ack = false);
std::string rst_stream_frame(std::uint32_t stream_id, error_code code);
std::string window_update_frame(std::uint32_t stream_id, std::uint32_t increment);
std::string data_frame(std::uint32_t stream_id, std::string_view data, bool end_stream);
/// HEADERS with `flags` as given (END_HEADERS is not implied).
std::string headers_frame(std::uint32_t stream_id, std::string_view block, std::uint8_t flags);
std::string continuation_frame(std::uint32_t stream_id, std::string_view block, bool end_headers);

/// An HPACK header block by hand: each call appends one representation.
/// Strings are sent as literals (never Huffman-coded), so what a test
/// writes is what the server decodes.
class header_block {
 public:
  /// Literal without indexing, new name (section 6.2.2).
  header_block& literal(std::string_view name, std::string_view value);
  /// Literal with incremental indexing, new name (section 6.2.1): the
  /// field enters the dynamic table as index 62, older entries move up.
  header_block& literal_indexed(std::string_view name, std::string_view value);
  /// Indexed field (section 6.1): 1 to 61 static, 62 on dynamic.
  header_block& indexed(std::size_t index);
  /// Appends raw bytes (a malformed representation, say).
  header_block& raw(std::string_view bytes);

  const std::string& bytes() const noexcept { return bytes_; }

 private:
  void string_literal(std::string_view s);

  std::string bytes_;
};

/// :method, :scheme http, :authority and :path, as literals.
header_block request_headers(std::string_view method, std::string_view path,
                             std::string_view authority = "localhost");

/// A gRPC call's request headers: POST `path`, content-type
/// application/grpc and te: trailers.
header_block grpc_request_headers(std::string_view path);

/// One length-prefixed grpc.health.v1.HealthCheckRequest naming `service`.
std::string grpc_check_request(std::string_view service);

// --- Reading frames -------------------------------------------------------

struct received_frame {
  std::uint8_t type = 0;
  std::uint8_t flags = 0;
  std::uint32_t stream_id = 0;
  std::string payload;

  bool is(frame_type t) const noexcept { return type == static_cast<std::uint8_t>(t); }
};

/// Why `f`, sent by a server to a client that never raised its
/// SETTINGS_MAX_FRAME_SIZE, breaks RFC 9113 framing (a length out of
/// bounds, a connection-level frame on a stream or the reverse, a stream
/// the client could not have opened); empty when it does not.
std::string framing_violation(const received_frame& f);

/// Complete frames at the front of some bytes.
struct frame_split {
  std::vector<received_frame> frames;
  /// Bytes the complete frames took.
  std::size_t used = 0;
  /// A frame header announced more than default_max_frame_size: nothing
  /// after it can be framed.
  bool oversized = false;
};
frame_split split_frames(std::string_view bytes);

using header_list = std::vector<std::pair<std::string, std::string>>;

/// The value of `name` in `headers`, or empty.
std::string header_value(const header_list& headers, std::string_view name);

/// HPACK decoding (libnghttp2's inflater: a server may Huffman-code and
/// index whatever it likes, and a test has no business re-implementing
/// that).
class header_decoder {
 public:
  header_decoder();
  ~header_decoder();
  header_decoder(const header_decoder&) = delete;
  header_decoder& operator=(const header_decoder&) = delete;

  /// The fields of one complete header block; nullopt when it does not
  /// decode (the connection's HPACK state is then lost).
  std::optional<header_list> decode(std::string_view block);

 private:
  struct inflater;
  std::unique_ptr<inflater> impl_;
};

/// What one stream received.
struct stream_state {
  header_list headers;   ///< the first header block (the response headers)
  header_list trailers;  ///< a later header block
  std::string body;      ///< DATA payloads, padding removed
  bool ended = false;    ///< END_STREAM seen
  std::optional<error_code> reset;

  /// :status as a number; 0 when none came.
  unsigned status() const;
  /// The stream is finished: ended or reset.
  bool done() const noexcept { return ended || reset.has_value(); }
};

/// The stream's answer as an HTTP/1.1-shaped response (status, fields
/// without the pseudo-headers, body), for the checks in response_checks.
http_response as_http_response(const stream_state& st);

struct goaway_info {
  std::uint32_t last_stream_id = 0;
  error_code code = error_code::no_error;
  std::string debug;
};

/// A client connection over a plain_connection: it sends exactly what a
/// test gives it, and reads, checks and decodes what comes back.
class client {
 public:
  struct options {
    /// Send the preface and a SETTINGS frame at once.
    bool preface = true;
    settings_list settings = {};
    /// Acknowledge the server's SETTINGS as they arrive, as RFC 9113
    /// requires; a client that never reads does not.
    bool ack_settings = true;
    /// SO_RCVBUF before connecting; see plain_connection.
    int receive_buffer = 0;
  };

  /// Connects to 127.0.0.1:`port`; throws std::system_error on failure.
  explicit client(unsigned short port);
  client(unsigned short port, options opts);

  plain_connection& socket() noexcept { return conn_; }

  /// Sends all of `bytes`; false when the server closed first or `timeout`
  /// passed.
  bool send(std::string_view bytes,
            std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

  /// The next client stream id (1, 3, 5, ...).
  std::uint32_t next_stream_id() noexcept;
  /// Sends `block` as one HEADERS frame on a new stream (END_HEADERS, and
  /// END_STREAM when `end_stream`); the stream id, or 0 when sending failed.
  std::uint32_t open_stream(const header_block& block, bool end_stream = true);
  /// GET `path` on a new stream.
  std::uint32_t get(std::string_view path) { return open_stream(request_headers("GET", path)); }

  /// Reads and processes what has arrived, without blocking. True once the
  /// server has closed the connection.
  bool pump();
  /// pump() until `done` holds, the server closes, or `timeout` passes;
  /// whether `done` holds.
  bool wait(const std::function<bool()>& done, std::chrono::milliseconds timeout);
  /// Waits for stream `id` to end or be reset; its state, or nullptr.
  const stream_state* wait_for_stream(std::uint32_t id, std::chrono::milliseconds timeout);
  /// Waits for the server to close the connection.
  bool wait_closed(std::chrono::milliseconds timeout);

  const stream_state* stream(std::uint32_t id) const;
  const std::map<std::uint32_t, stream_state>& streams() const noexcept { return streams_; }
  const std::optional<goaway_info>& goaway() const noexcept { return goaway_; }
  bool closed() const noexcept { return conn_.peer_closed(); }
  /// SETTINGS frames (not acknowledgements) the server sent.
  std::size_t settings_received() const noexcept { return settings_received_; }
  std::size_t frames_received() const noexcept { return frames_received_; }
  /// The first thing the server sent that is not well-formed HTTP/2 (bad
  /// framing, an undecodable header block, a response on a stream we did
  /// not open); empty while everything was.
  const std::string& violation() const noexcept { return violation_; }

 private:
  void process(const received_frame& f);
  void header_fragment(const received_frame& f, std::string_view fragment);
  void end_header_block();

  plain_connection conn_;
  options opts_;
  header_decoder decoder_;
  std::string in_;
  std::map<std::uint32_t, stream_state> streams_;
  std::optional<goaway_info> goaway_;
  std::uint32_t next_id_ = 1;
  std::size_t settings_received_ = 0;
  std::size_t frames_received_ = 0;
  // A header block in progress (HEADERS without END_HEADERS so far).
  std::string block_;
  std::uint32_t block_stream_ = 0;
  bool block_ends_stream_ = false;
  bool in_block_ = false;
  std::string violation_;
};

/// GET `path` on a fresh connection, the preface, SETTINGS and request in
/// one write; the stream's state, or nullopt when no complete answer came
/// within `timeout` (refused, reset, closed or too slow).
std::optional<stream_state> fetch(unsigned short port, std::string_view path,
                                  std::chrono::milliseconds timeout);

}  // namespace badges_health::test::h2
