// http check: GET the URL (over TLS for https://, with the certificate and
// host name verified) with a proper Host header, follow no redirects, pass
// when the status is expected and (if asked) the body contains a string or
// a JSON value at a JSON Pointer. At most 64 KiB of body is read.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>

#include "badges_health/health/probe.hpp"
#include "connector.hpp"

namespace badges_health::health {

/// Largest response body an http check reads.
inline constexpr std::size_t http_probe_body_limit = 64 * 1024;

class http_probe final : public probe, public std::enable_shared_from_this<http_probe> {
 public:
  /// Throws std::system_error when an https check's CA file cannot be read.
  http_probe(const check_spec& spec, boost::asio::any_io_executor ex);
  void start(completion done) override;
  void cancel() noexcept override;

 private:
  using tls_stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>;

  void on_connected(completion done);
  void on_handshake(completion done, boost::system::error_code ec);
  /// Writes the request and reads the answer on `stream` (the socket, or
  /// the TLS stream over it).
  template <class Stream>
  void exchange(Stream& stream, completion done);
  void on_response(completion done, boost::system::error_code ec);
  /// What the body says at the expected JSON Pointer; empty when it passes.
  std::string json_mismatch(const std::string& body) const;

  connector connector_;
  std::string host_;
  std::string host_header_;
  std::string target_;
  std::vector<status_range> expect_status_;
  std::optional<std::string> expect_body_;
  std::optional<check_spec::json_expectation> expect_json_;
  std::optional<boost::asio::ssl::context> tls_;
  std::optional<tls_stream> stream_;
  boost::beast::flat_buffer buffer_;
  boost::beast::http::request<boost::beast::http::empty_body> request_;
  std::optional<boost::beast::http::response_parser<boost::beast::http::string_body>> parser_;
};

}  // namespace badges_health::health
