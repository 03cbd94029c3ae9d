// Test support: a blocking TCP client that sends exact bytes and reads
// HTTP responses with Beast's parser, so tests control framing (pipelining,
// malformed requests, half-written requests) completely.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace badges_health::test {

using http_response = boost::beast::http::response<boost::beast::http::string_body>;

class raw_client {
 public:
  explicit raw_client(unsigned short port, const std::string& host = "127.0.0.1");

  void send(const std::string& bytes);
  /// Reads one response (for a HEAD request pass head = true). Returns
  /// nullopt if the connection closed or `timeout` passed first.
  std::optional<http_response> read_response(
      bool head = false, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// True when the server closes the connection (EOF or reset) within
  /// `timeout` without sending anything more.
  bool closed_by_peer(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// Raw bytes received until close or timeout.
  std::string read_all(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// What arrived before the peer closed (EOF or reset), or before `timeout`
  /// passed; `closed` says which of the two ended the wait.
  struct read_outcome {
    std::string bytes;
    bool closed;
  };
  read_outcome read_until_close(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  /// Waits until the peer application has read every byte sent on this
  /// connection (delivered, and its kernel receive queue for the connection
  /// is empty; read from /proc/net/tcp, so Linux only). Lets a test know a
  /// partial request has reached the server before acting on it.
  bool wait_until_read_by_peer(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  void close();
  boost::asio::ip::tcp::socket& socket() { return socket_; }

 private:
  bool wait_readable(std::chrono::milliseconds timeout);

  boost::asio::io_context ioc_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

/// A connection to `port`, or nullptr when connecting fails (refused or
/// reset), for tests that expect the server to turn connections away.
std::unique_ptr<raw_client> try_connect(unsigned short port, const std::string& host = "127.0.0.1");

/// One request on a fresh connection: "GET /status HTTP/1.1" etc.
std::optional<http_response> request(unsigned short port, const std::string& method,
                                     const std::string& target,
                                     const std::string& extra_headers = "");

}  // namespace badges_health::test
