// Blocking test client over real sockets, with poll()-based timeouts.
#include "support/raw_client.hpp"

#include <linux/sockios.h>
#include <poll.h>
#include <sys/ioctl.h>

#include <fstream>
#include <sstream>
#include <thread>

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

std::optional<http_response> raw_client::read_response(bool head,
                                                       std::chrono::milliseconds timeout) {
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
  const auto outcome = read_until_close(timeout);
  return outcome.closed && outcome.bytes.empty();
}

std::string raw_client::read_all(std::chrono::milliseconds timeout) {
  return read_until_close(timeout).bytes;
}

raw_client::read_outcome raw_client::read_until_close(std::chrono::milliseconds timeout) {
  // Bytes already buffered by read_response count as received.
  read_outcome out{std::string(static_cast<const char*>(buffer_.data().data()), buffer_.size()),
                   false};
  buffer_.consume(buffer_.size());
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !wait_readable(left)) return out;
    char buf[4096];
    boost::system::error_code ec;
    const auto n = socket_.read_some(asio::buffer(buf), ec);
    if (ec) {
      out.closed = true;  // EOF or reset
      return out;
    }
    out.bytes.append(buf, n);
  }
}

namespace {

// The receive queue of the connection from local port `local` to remote
// port `remote`, per /proc/net/tcp{,6}; nullopt if it is not listed.
std::optional<unsigned long> receive_queue(unsigned short local, unsigned short remote) {
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // column titles
    while (std::getline(in, line)) {
      // "sl: local_address rem_address st tx_queue:rx_queue ..."
      std::istringstream fields(line);
      std::string slot, local_addr, remote_addr, state, queues;
      if (!(fields >> slot >> local_addr >> remote_addr >> state >> queues)) continue;
      const auto port_of = [](const std::string& addr) {
        return std::stoul(addr.substr(addr.rfind(':') + 1), nullptr, 16);
      };
      if (port_of(local_addr) != local || port_of(remote_addr) != remote) continue;
      return std::stoul(queues.substr(queues.find(':') + 1), nullptr, 16);
    }
  }
  return std::nullopt;
}

}  // namespace

bool raw_client::wait_until_read_by_peer(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const auto local = socket_.local_endpoint().port();
  const auto remote = socket_.remote_endpoint().port();
  for (;;) {
    // Our send queue (unsent plus unacknowledged bytes) is empty once the
    // peer's kernel has everything.
    int unacked = -1;
    const bool delivered =
        ::ioctl(socket_.native_handle(), SIOCOUTQ, &unacked) == 0 && unacked == 0;
    if (delivered && receive_queue(remote, local) == 0ul) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    // Polling: the kernel offers no event for "the peer read it".
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void raw_client::close() {
  boost::system::error_code ec;
  socket_.close(ec);
}

std::unique_ptr<raw_client> try_connect(unsigned short port, const std::string& host) {
  try {
    return std::make_unique<raw_client>(port, host);
  } catch (const boost::system::system_error&) {
    return nullptr;
  }
}

std::optional<http_response> request(unsigned short port, const std::string& method,
                                     const std::string& target, const std::string& extra_headers) {
  raw_client c(port);
  c.send(method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extra_headers +
         "Connection: close\r\n\r\n");
  return c.read_response(method == "HEAD");
}

}  // namespace badges_health::test
