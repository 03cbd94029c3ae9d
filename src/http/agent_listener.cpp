// The agent port's accept loop and its one-line replies. A reply is a few
// dozen bytes written into a fresh socket's empty send buffer, so it never
// waits on the peer; only the close waits, briefly, for the peer's end.
#include "badges_health/http/agent_listener.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/error.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <system_error>
#include <utility>

#include "badges_health/http/server.hpp"

namespace badges_health::http {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// After an accept error that is not about one connection (out of
// descriptors, for instance), wait this long instead of spinning.
constexpr std::chrono::milliseconds accept_retry{100};

// How long a reply waits for the peer to close after the line is sent, and
// how many replies may wait at once: beyond that a reply closes as soon as
// its line is written, so a flood of connections cannot hold descriptors
// the HTTP server needs.
constexpr std::chrono::milliseconds linger_limit{1'000};
constexpr std::size_t max_lingering = 64;

}  // namespace

std::string agent_wire_line(std::string line) {
  for (char& c : line) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  line += '\n';
  return line;
}

// One connection: write the line, end our side, then read (and drop) until
// the peer closes or the linger limit passes. Closing at once would reset
// the connection if the peer had sent anything (HAProxy's `agent-send`),
// and a reset can discard the line before the peer reads it.
class agent_listener::reply : public std::enable_shared_from_this<reply> {
 public:
  reply(tcp::socket socket, std::string line, std::shared_ptr<agent_listener> owner)
      : socket_(std::move(socket)),
        timer_(socket_.get_executor()),
        line_(std::move(line)),
        owner_(std::move(owner)) {}
  ~reply() {
    if (lingering_) --owner_->lingering_;
  }
  reply(const reply&) = delete;
  reply& operator=(const reply&) = delete;

  void start() { do_write(); }

 private:
  void do_write() {
    asio::async_write(socket_, asio::buffer(line_),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        self->on_write(ec);
                      });
  }

  void on_write(boost::system::error_code ec) {
    if (ec) {
      spdlog::debug("agent reply not sent: {}", ec.message());
      return close();
    }
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    if (owner_->lingering_ >= max_lingering) return close();
    lingering_ = true;
    ++owner_->lingering_;
    timer_.expires_after(linger_limit);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
      if (!wait_ec) self->close();
    });
    do_linger();
  }

  void do_linger() {
    socket_.async_read_some(asio::buffer(discard_),
                            [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                              self->on_linger(ec);
                            });
  }

  void on_linger(boost::system::error_code ec) {
    if (ec) return close();  // end of stream (the expected end), a reset, or the timer's close
    do_linger();
  }

  void close() {
    boost::system::error_code ignored;
    timer_.cancel();
    socket_.close(ignored);
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  std::string line_;
  std::shared_ptr<agent_listener> owner_;
  bool lingering_ = false;
  std::array<char, 256> discard_{};
};

agent_listener::agent_listener(asio::any_io_executor executor, line_source line)
    : acceptor_(executor), retry_timer_(executor), line_(std::move(line)) {}

tcp::endpoint agent_listener::bind(const tcp::endpoint& endpoint) {
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  // SO_REUSEADDR only: another live listener on the port still makes the
  // bind fail, which is the "in use" start-up must report.
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    throw std::system_error(ec, "cannot listen on " + format_endpoint(endpoint) + " (agent port)");
  }
  return acceptor_.local_endpoint();
}

void agent_listener::stop() {
  if (stopped_) return;
  stopped_ = true;
  retry_timer_.cancel();
  boost::system::error_code ignored;
  acceptor_.close(ignored);  // the accept in progress completes with operation_aborted
}

void agent_listener::do_accept() {
  acceptor_.async_accept(
      [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
        self->on_accept(ec, std::move(socket));
      });
}

void agent_listener::on_accept(boost::system::error_code ec, tcp::socket socket) {
  if (stopped_) return;
  if (ec == asio::error::connection_aborted) return do_accept();  // gone before we took it
  if (ec) {
    spdlog::warn("agent port: accept failed: {}; retrying in {}ms", ec.message(),
                 accept_retry.count());
    retry_timer_.expires_after(accept_retry);
    retry_timer_.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
      if (!wait_ec && !self->stopped_) self->do_accept();
    });
    return;
  }
  std::make_shared<reply>(std::move(socket), agent_wire_line(line_()), shared_from_this())->start();
  do_accept();
}

}  // namespace badges_health::http
