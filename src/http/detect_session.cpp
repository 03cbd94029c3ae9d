// Protocol detection and the first exchange of a fresh connection.
#include "detect_session.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string_view>
#include <utility>

#include "badges_health/http/request_processor.hpp"
#include "badges_health/http/response_writer.hpp"
#include "h2_session.hpp"
#include "http1_session.hpp"

namespace badges_health::http {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// Prior knowledge (RFC 9113 section 3.4): an HTTP/2 client opens with this
// preface, which no HTTP/1.1 request can begin with.
constexpr std::string_view h2_preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

enum class detected { http1, http2, undecided };

detected detect(std::string_view seen) noexcept {
  const std::size_t m = std::min(seen.size(), h2_preface.size());
  if (seen.substr(0, m) != h2_preface.substr(0, m)) return detected::http1;
  return seen.size() < h2_preface.size() ? detected::undecided : detected::http2;
}

// Over the connection cap: a best-effort 503, then close. The fresh
// socket's send buffer is empty, so a few hundred bytes go out whole.
// Existing connections are not touched.
void refuse(int fd) {
  std::string reply;
  write_response(error_middleware::to_response(http_error::too_many_connections()),
                 write_options{false, false, 11}, reply);
  static_cast<void>(::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT));
  ::shutdown(fd, SHUT_WR);
}

// Sends as much of `out` as the socket takes now. False when the peer is
// gone.
bool send_now(int fd, output_queue& out) {
  output_queue::buffer_array buffers;
  std::array<iovec, output_queue::max_buffers> iov{};
  while (!out.empty()) {
    const std::size_t count = out.front(buffers);
    for (std::size_t i = 0; i < count; ++i) {
      iov[i].iov_base = const_cast<void*>(buffers[i].data());
      iov[i].iov_len = buffers[i].size();
    }
    msghdr msg{};
    msg.msg_iov = iov.data();
    msg.msg_iovlen = count;
    const ssize_t sent = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (sent < 0) return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
    out.consume(static_cast<std::size_t>(sent));
  }
  return true;
}

// The sessions take a socket with no operation pending.
void start_http1(tcp::socket socket, connection_slot slot, connection_context& ctx,
                 const tcp::endpoint& client, request_processor processor,
                 connection::clock::time_point request_deadline, bool more_to_read) {
  std::make_shared<http1_session>(std::move(socket), std::move(slot), ctx, client,
                                  std::move(processor), request_deadline)
      ->start(more_to_read);
}

void start_http2(tcp::socket socket, connection_slot slot, connection_context& ctx,
                 const tcp::endpoint& client, connection::clock::time_point request_deadline,
                 std::string_view after_preface) {
  std::make_shared<h2_session>(std::move(socket), std::move(slot), ctx, client, request_deadline)
      ->start(after_preface);
}

// Decided from `seen` (everything read so far): on to the session.
void dispatch(tcp::socket socket, connection_slot slot, connection_context& ctx,
              const tcp::endpoint& client, connection::clock::time_point request_deadline,
              std::string_view seen, bool more_to_read) {
  if (detect(seen) == detected::http2) {
    return start_http2(std::move(socket), std::move(slot), ctx, client, request_deadline,
                       seen.substr(h2_preface.size()));
  }
  request_processor processor(ctx.options, ctx.middleware, ctx.recorder());
  processor.set_client(&client);
  processor.receive(seen, ctx.is_draining());
  start_http1(std::move(socket), std::move(slot), ctx, client, std::move(processor),
              request_deadline, more_to_read);
}

}  // namespace

void serve_accepted(accepted_fd fd, const tcp& protocol, connection_context& ctx) {
  const std::size_t open = ctx.open_connections.fetch_add(1, std::memory_order_relaxed);
  connection_slot slot(ctx.open_connections);
  if (open >= ctx.options.max_connections) return refuse(fd.get());
  // The first request's read budget starts at accept.
  const auto request_deadline = ctx.now() + ctx.options.request_timeout;

  auto& buffer = ctx.read_buffer();
  const ssize_t n = ::recv(fd.get(), buffer.data(), buffer.size(), 0);
  if (n == 0) return;  // closed before sending anything
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return;
  const std::string_view seen(buffer.data(), n < 0 ? 0 : static_cast<std::size_t>(n));
  const bool more_to_read = seen.size() == buffer.size();

  tcp::socket socket(ctx.io_context());
  if (!seen.empty() && detect(seen) == detected::http1) {
    request_processor processor(ctx.options, ctx.middleware, ctx.recorder());
    processor.set_client(&fd.peer());
    processor.receive(seen, ctx.is_draining());
    // A prober's request on a connection of its own: answered and closed
    // here, on the descriptor, when the whole answer goes out at once.
    if (processor.clean_close() && !more_to_read) {
      if (!send_now(fd.get(), processor.output())) return;
      if (processor.output().empty()) return;  // closed by `fd`
    }
    const tcp::endpoint client = fd.peer();
    if (fd.assign_to(socket, protocol)) return;
    return start_http1(std::move(socket), std::move(slot), ctx, client, std::move(processor),
                       request_deadline, more_to_read);
  }
  const tcp::endpoint client = fd.peer();
  if (fd.assign_to(socket, protocol)) return;
  if (seen.empty() || detect(seen) == detected::undecided) {
    return std::make_shared<detect_session>(std::move(socket), std::move(slot), ctx, client,
                                            request_deadline, std::string(seen))
        ->start();
  }
  dispatch(std::move(socket), std::move(slot), ctx, client, request_deadline, seen, more_to_read);
}

detect_session::detect_session(tcp::socket socket, connection_slot slot, connection_context& ctx,
                               const tcp::endpoint& client, clock::time_point request_deadline,
                               std::string seen)
    : socket_(std::move(socket)),
      slot_(std::move(slot)),
      ctx_(ctx),
      client_(client),
      deadline_(request_deadline),
      seen_(std::move(seen)) {
  ctx_.track(*this);
  ctx_.deadline_set(deadline_);
}

detect_session::~detect_session() { ctx_.forget(*this); }

void detect_session::start() {
  socket_.async_wait(
      tcp::socket::wait_read,
      [self = shared_from_this()](boost::system::error_code ec) { self->on_readable(ec); });
}

void detect_session::on_readable(boost::system::error_code ec) {
  if (closed_) return;
  if (ec) return close();
  auto& buffer = ctx_.read_buffer();
  const std::size_t n = socket_.read_some(asio::buffer(buffer), ec);
  if (ec == asio::error::would_block) return start();
  if (ec) {
    spdlog::debug("connection closed before its first request: {}", ec.message());
    return close();
  }
  seen_.append(buffer.data(), n);
  if (detect(seen_) == detected::undecided) return start();
  closed_ = true;
  const auto request_deadline = std::exchange(deadline_, clock::time_point::max());
  dispatch(std::move(socket_), std::move(slot_), ctx_, client_, request_deadline, seen_,
           n == buffer.size());
}

void detect_session::close() {
  closed_ = true;
  deadline_ = clock::time_point::max();
  boost::system::error_code ec;
  socket_.close(ec);
}

}  // namespace badges_health::http
