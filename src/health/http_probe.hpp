// http check: GET the URL with a proper Host header, follow no redirects,
// pass when the status is expected and (if asked) the body contains a
// string. At most 64 KiB of body is read.
#pragma once

#include <boost/asio/ip/tcp.hpp>
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
  http_probe(const check_spec& spec, boost::asio::any_io_executor ex);
  void start(completion done) override;
  void cancel() noexcept override;

 private:
  void on_connected(completion done);
  void on_response(completion done, boost::system::error_code ec);

  connector connector_;
  std::string host_header_;
  std::string target_;
  std::vector<status_range> expect_status_;
  std::optional<std::string> expect_body_;
  boost::beast::flat_buffer buffer_;
  boost::beast::http::request<boost::beast::http::empty_body> request_;
  std::optional<boost::beast::http::response_parser<boost::beast::http::string_body>> parser_;
};

}  // namespace badges_health::health
