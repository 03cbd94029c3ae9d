// Blocking test client over real sockets, with poll()-based timeouts.
#include "support/raw_client.hpp"

#include <poll.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>

namespace badges_health::test {

namespace asio = boost::asio;
namespace bhttp = boost::beast::http;

raw_client::raw_client(unsigned short port, const std::string& host) : socket_(ioc_) {
  socket_.connect(asio::ip::tcp::endpoint(asio::ip::make_address(host), port));
}

void raw_client::send(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }

bool raw_client::wait_readable(std::chrono::milliseconds timeout) {
  pollfd pfd{socket_.native_handle(), POLLIN, 0};
  return ::poll(&pfd, 1, static_cast<int>(timeout.count())) > 0;
}

std::optional<http_response> raw_client::read_response(bool head, std::chrono::milliseconds timeout) {
  bhttp::response_parser<bhttp::string_body> parser;
  parser.skip(head);
  parser.body_limit(1024 * 1024);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (buffer_.size() > 0) {
      boost::system::error_code ec;
      const auto used = parser.put(buffer_.data(), ec);
      buffer_.consume(used);
      if (!ec && parser.is_done()) return parser.release();
      if (ec && ec != bhttp::error::need_more) return std::nullopt;
      if (!ec && used > 0) continue;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !wait_readable(left)) return std::nullopt;
    boost::system::error_code ec;
    const auto n = socket_.read_some(buffer_.prepare(4096), ec);
    if (ec) {
      if (ec == asio::error::eof && parser.got_some()) {
        parser.put_eof(ec);
        if (!ec && parser.is_done()) return parser.release();
      }
      return std::nullopt;
    }
    buffer_.commit(n);
  }
}

bool raw_client::closed_by_peer(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !wait_readable(left)) return false;
    char buf[4096];
    boost::system::error_code ec;
    socket_.read_some(asio::buffer(buf), ec);
    if (ec) return true;  // EOF or reset
  }
}

std::string raw_client::read_all(std::chrono::milliseconds timeout) {
  std::string out(static_cast<const char*>(buffer_.data().data()), buffer_.size());
  buffer_.consume(buffer_.size());
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !wait_readable(left)) return out;
    char buf[4096];
    boost::system::error_code ec;
    const auto n = socket_.read_some(asio::buffer(buf), ec);
    if (ec) return out;
    out.append(buf, n);
  }
}

void raw_client::close() {
  boost::system::error_code ec;
  socket_.close(ec);
}

std::optional<http_response> request(unsigned short port, const std::string& method,
                                     const std::string& target, const std::string& extra_headers) {
  raw_client c(port);
  c.send(method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extra_headers +
         "Connection: close\r\n\r\n");
  return c.read_response(method == "HEAD");
}

}  // namespace badges_health::test
