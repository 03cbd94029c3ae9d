// Plain client sockets with poll()-based waits, pipelined load, and
// response splitting for the hostile-client tests.
#include "support/hostile_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>
#include <charconv>
#include <system_error>
#include <utility>

namespace badges_health::test {

namespace bhttp = boost::beast::http;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

milliseconds left_until(steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
  return left.count() > 0 ? left : milliseconds{0};
}

// Consumes the complete responses at the front of `bytes`, counting them by
// status into `tally`; returns the bytes they took. Enough HTTP for this
// server's responses: a status line, fields, and a Content-Length body.
std::size_t count_responses(std::string_view bytes, pipeline_tally& tally) {
  static constexpr std::string_view length_field = "\r\nContent-Length: ";
  std::size_t pos = 0;
  for (;;) {
    const auto head_end = bytes.find("\r\n\r\n", pos);
    if (head_end == std::string_view::npos) return pos;
    const auto head = bytes.substr(pos, head_end + 4 - pos);
    if (head.substr(0, 9) != "HTTP/1.1 ") {
      tally.failure = "not an HTTP/1.1 response: " + std::string(head.substr(0, 40));
      return pos;
    }
    std::size_t length = 0;
    const auto field = head.find(length_field);
    if (field != std::string_view::npos) {
      const char* digits = head.data() + field + length_field.size();
      std::from_chars(digits, head.data() + head.size(), length);
    }
    const std::size_t end = head_end + 4 + length;
    if (bytes.size() < end) return pos;
    ++(head.substr(9, 4) == "200 " ? tally.ok : tally.other);
    pos = end;
  }
}

}  // namespace

plain_connection::plain_connection(unsigned short port, int receive_buffer) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
  if (receive_buffer > 0) {
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  }
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
    const int error = errno;
    ::close(fd_);
    fd_ = -1;
    throw std::system_error(error, std::generic_category(), "connect");
  }
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
}

plain_connection::~plain_connection() {
  if (fd_ >= 0) ::close(fd_);
}

plain_connection::plain_connection(plain_connection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      received_(std::move(other.received_)),
      peer_closed_(other.peer_closed_) {}

plain_connection& plain_connection::operator=(plain_connection&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    received_ = std::move(other.received_);
    peer_closed_ = other.peer_closed_;
  }
  return *this;
}

std::optional<std::size_t> plain_connection::send_some(std::string_view bytes) {
  for (;;) {
    // MSG_NOSIGNAL: a write to a reset connection must not kill the test
    // process with SIGPIPE.
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    return std::nullopt;
  }
}

bool plain_connection::send_all(std::string_view bytes, milliseconds timeout) {
  const auto deadline = steady_clock::now() + timeout;
  while (!bytes.empty()) {
    const auto sent = send_some(bytes);
    if (!sent) return false;
    bytes.remove_prefix(*sent);
    if (*sent == 0 && !wait_for(POLLOUT, left_until(deadline))) return false;
  }
  return true;
}

void plain_connection::shutdown_send() { ::shutdown(fd_, SHUT_WR); }

bool plain_connection::read_available() {
  char buf[64 * 1024];
  while (!peer_closed_) {
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      received_.append(buf, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    peer_closed_ = true;  // end of stream, or reset
  }
  return peer_closed_;
}

bool plain_connection::wait_for(short events, milliseconds timeout) const {
  pollfd pfd{fd_, events, 0};
  return ::poll(&pfd, 1, static_cast<int>(timeout.count())) > 0;
}

bool plain_connection::wait_closed(milliseconds timeout) {
  const auto deadline = steady_clock::now() + timeout;
  while (!read_available()) {
    const auto left = left_until(deadline);
    if (left.count() == 0 || !wait_for(POLLIN | POLLRDHUP, left)) return read_available();
  }
  return true;
}

std::vector<http_response> plain_connection::wait_for_responses(std::size_t count,
                                                                milliseconds timeout) {
  const auto deadline = steady_clock::now() + timeout;
  for (;;) {
    const bool closed = read_available();
    auto parsed = parse_responses(received_);
    if (parsed.responses.size() >= count || closed || parsed.malformed) {
      received_ = std::move(parsed.rest);
      return std::move(parsed.responses);
    }
    const auto left = left_until(deadline);
    if (left.count() == 0 || !wait_for(POLLIN | POLLRDHUP, left)) {
      received_ = std::move(parsed.rest);
      return std::move(parsed.responses);
    }
  }
}

parsed_responses parse_responses(std::string_view bytes) {
  parsed_responses out;
  while (!bytes.empty()) {
    bhttp::response_parser<bhttp::string_body> parser;
    parser.eager(true);
    parser.body_limit(1024 * 1024);
    std::size_t used = 0;
    boost::system::error_code ec;
    while (!parser.is_done() && used < bytes.size()) {
      const auto n = parser.put(boost::asio::buffer(bytes.data() + used, bytes.size() - used), ec);
      used += n;
      if (ec || n == 0) break;
    }
    if (!parser.is_done()) {
      out.malformed = ec && ec != bhttp::error::need_more;
      break;
    }
    out.responses.push_back(parser.release());
    bytes.remove_prefix(used);
  }
  out.rest = std::string(bytes);
  return out;
}

pipeline_tally run_pipelined(plain_connection& conn, std::string_view request, std::size_t count,
                             std::size_t depth, milliseconds timeout) {
  pipeline_tally tally;
  std::string batch;
  for (std::size_t i = 0; i < depth; ++i) batch.append(request);
  std::string& in = conn.received();
  for (std::size_t done = 0; done < count && tally.failure.empty();) {
    const std::size_t n = std::min(depth, count - done);
    const std::string_view this_batch(batch.data(), request.size() * n);
    const auto deadline = steady_clock::now() + timeout;
    if (!conn.send_all(this_batch, timeout)) {
      tally.failure = "sending failed after " + std::to_string(done) + " requests";
      break;
    }
    const std::size_t expected = tally.ok + tally.other + n;
    while (tally.ok + tally.other < expected && tally.failure.empty()) {
      const bool closed = conn.read_available();
      in.erase(0, count_responses(in, tally));
      if (tally.ok + tally.other >= expected) break;
      if (closed) {
        tally.failure =
            "connection closed after " + std::to_string(tally.ok + tally.other) + " responses";
        break;
      }
      pollfd pfd{conn.fd(), POLLIN | POLLRDHUP, 0};
      const auto left = left_until(deadline);
      if (left.count() == 0 || ::poll(&pfd, 1, static_cast<int>(left.count())) <= 0) {
        tally.failure = "no response within the timeout after " +
                        std::to_string(tally.ok + tally.other) + " responses";
      }
    }
    done += n;
  }
  if (tally.failure.empty() && !in.empty()) {
    tally.failure = std::to_string(in.size()) + " unexpected bytes after the last response";
  }
  return tally;
}

}  // namespace badges_health::test
