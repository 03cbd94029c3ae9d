// Test support for hostile clients: plain non-blocking client sockets (one
// descriptor each and no io_context, so a test can hold hundreds), pipelined
// load that counts responses without parsing them fully, and splitting
// received bytes into HTTP responses.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "support/raw_client.hpp"

namespace badges_health::test {

class plain_connection {
 public:
  /// Connects to 127.0.0.1:`port` (blocking), then switches the socket to
  /// non-blocking. A `receive_buffer` above 0 sets SO_RCVBUF before
  /// connecting, so a client that does not read backs up soon. Throws
  /// std::system_error when connecting fails.
  explicit plain_connection(unsigned short port, int receive_buffer = 0);
  ~plain_connection();
  plain_connection(plain_connection&& other) noexcept;
  plain_connection& operator=(plain_connection&& other) noexcept;
  plain_connection(const plain_connection&) = delete;
  plain_connection& operator=(const plain_connection&) = delete;

  int fd() const noexcept { return fd_; }

  /// Sends what the kernel takes now: the number of bytes (0 when the send
  /// buffer is full), or nullopt once the peer has closed or reset.
  std::optional<std::size_t> send_some(std::string_view bytes);
  /// Sends all of `bytes`, waiting for buffer space; false when the peer
  /// closed or `timeout` passed first.
  bool send_all(std::string_view bytes, std::chrono::milliseconds timeout);
  /// No more bytes from this side (the peer reads end of stream).
  void shutdown_send();

  /// Reads whatever has arrived, without blocking, onto received(). True
  /// once the peer has closed (end of stream or reset).
  bool read_available();
  /// read_available() until the peer closes or `timeout` passes; true when
  /// the peer closed.
  bool wait_closed(std::chrono::milliseconds timeout);
  /// read_available() until `count` complete responses have arrived, the
  /// peer closes or `timeout` passes; the responses that arrived.
  std::vector<http_response> wait_for_responses(std::size_t count,
                                                std::chrono::milliseconds timeout);

  /// Everything received so far, not consumed by wait_for_responses().
  std::string& received() noexcept { return received_; }
  bool peer_closed() const noexcept { return peer_closed_; }

 private:
  bool wait_for(short events, std::chrono::milliseconds timeout) const;

  int fd_ = -1;
  std::string received_;
  bool peer_closed_ = false;
};

/// Complete HTTP responses at the front of some received bytes.
struct parsed_responses {
  std::vector<http_response> responses;
  /// Bytes after the last complete response (an incomplete one).
  std::string rest;
  /// The bytes after the last complete response are not HTTP.
  bool malformed = false;
};
/// Splits `bytes` into responses (none of them answers a HEAD request).
parsed_responses parse_responses(std::string_view bytes);

/// What a pipelined load received.
struct pipeline_tally {
  std::size_t ok = 0;     ///< 200 responses
  std::size_t other = 0;  ///< any other status
  /// Empty when every request was answered; otherwise what went wrong.
  std::string failure;
};

/// Sends `count` copies of `request` on `conn` in batches of `depth`: each
/// batch goes out in one write, and all its responses are read before the
/// next. Responses are counted by status line and skipped by their
/// Content-Length, which keeps a million of them cheap for the client.
/// `timeout` bounds each batch.
pipeline_tally run_pipelined(plain_connection& conn, std::string_view request, std::size_t count,
                             std::size_t depth, std::chrono::milliseconds timeout);

}  // namespace badges_health::test
