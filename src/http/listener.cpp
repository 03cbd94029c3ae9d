// Accept loop with a connection cap and back-off on resource exhaustion.
#include "listener.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/error.hpp>
#include <string>

#include "badges_health/http/response_writer.hpp"
#include "session.hpp"

namespace badges_health::http {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

constexpr std::chrono::milliseconds min_backoff{10};
constexpr std::chrono::milliseconds max_backoff{1000};

// Errors that concern only the connection being accepted (it died between
// SYN and accept, or a firewall rule refused it): take the next one.
bool concerns_one_connection(const boost::system::error_code& ec) {
  namespace e = asio::error;
  return ec == e::connection_aborted || ec == e::interrupted || ec == e::try_again ||
         ec == e::would_block || ec == e::network_down || ec == e::network_unreachable ||
         ec == e::host_unreachable || ec == e::timed_out || ec == e::no_permission ||
         ec == e::no_protocol_option || ec == e::operation_not_supported ||
         ec == boost::system::errc::protocol_error;
}

bool is_resource_exhaustion(const boost::system::error_code& ec) {
  namespace e = asio::error;
  return ec == e::no_descriptors || ec == e::no_buffer_space || ec == e::no_memory ||
         ec == boost::system::errc::too_many_files_open_in_system;
}

}  // namespace

listener::listener(tcp::acceptor acceptor, connection_context& ctx)
    : acceptor_(std::move(acceptor)), backoff_timer_(acceptor_.get_executor()), ctx_(ctx) {}

void listener::stop() {
  if (stopped_) return;
  stopped_ = true;
  backoff_timer_.cancel();
  boost::system::error_code ec;
  acceptor_.close(ec);  // the accept in progress completes with operation_aborted
}

void listener::do_accept() {
  acceptor_.async_accept(
      [self = shared_from_this()](boost::system::error_code ec, tcp::socket socket) {
        self->on_accept(ec, std::move(socket));
      });
}

void listener::on_accept(boost::system::error_code ec, tcp::socket socket) {
  if (stopped_) return;
  if (ec) {
    if (concerns_one_connection(ec)) {
      spdlog::debug("accept failed: {}", ec.message());
      return do_accept();
    }
    return back_off(ec);
  }
  backoff_ = std::chrono::milliseconds{0};
  const std::size_t open = ctx_.open_connections.fetch_add(1, std::memory_order_relaxed);
  if (open >= ctx_.options.max_connections) {
    ctx_.open_connections.fetch_sub(1, std::memory_order_relaxed);
    refuse(socket);
  } else {
    std::make_shared<session>(std::move(socket), ctx_)->start();
  }
  do_accept();
}

void listener::back_off(boost::system::error_code ec) {
  backoff_ = backoff_.count() == 0 ? min_backoff : std::min(backoff_ * 2, max_backoff);
  spdlog::warn("accept failed{}: {}; retrying in {}ms",
               is_resource_exhaustion(ec) ? " for lack of resources" : "", ec.message(),
               backoff_.count());
  backoff_timer_.expires_after(backoff_);
  backoff_timer_.async_wait([self = shared_from_this()](boost::system::error_code wait_ec) {
    if (!wait_ec && !self->stopped_) self->do_accept();
  });
}

void listener::refuse(tcp::socket& socket) {
  // The fresh socket's send buffer is empty, so a non-blocking write of a
  // few hundred bytes goes out whole. Existing connections are not touched.
  std::string reply;
  write_response(error_middleware::to_response(http_error::too_many_connections()),
                 write_options{false, false, 11}, reply);
  boost::system::error_code ec;
  socket.non_blocking(true, ec);
  if (!ec) socket.write_some(asio::buffer(reply), ec);
  socket.shutdown(tcp::socket::shutdown_send, ec);
  socket.close(ec);
}

}  // namespace badges_health::http
