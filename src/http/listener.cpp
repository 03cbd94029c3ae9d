// Accept loop with a connection cap and back-off on resource exhaustion.
#include "badges_health/http/listener.hpp"

#include <spdlog/spdlog.h>

#include "badges_health/http/response_writer.hpp"
#include "badges_health/http/session.hpp"

namespace badges_health::http {

namespace asio = boost::asio;

namespace {

constexpr std::chrono::milliseconds min_backoff{10};
constexpr std::chrono::milliseconds max_backoff{1000};

bool is_resource_exhaustion(const boost::system::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
         ec == asio::error::no_memory || ec.value() == ENFILE;
}

}  // namespace

listener::listener(asio::ip::tcp::acceptor&& acceptor, connection_context& ctx)
    : acceptor_(std::move(acceptor)), backoff_timer_(acceptor_.get_executor()), ctx_(ctx) {}

void listener::start() { do_accept(); }

void listener::stop() {
  stopped_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  backoff_timer_.cancel();
}

void listener::do_accept() {
  if (stopped_) return;
  acceptor_.async_accept(
      [self = shared_from_this()](boost::system::error_code ec, asio::ip::tcp::socket socket) {
        self->on_accept(ec, std::move(socket));
      });
}

void listener::on_accept(boost::system::error_code ec, asio::ip::tcp::socket socket) {
  if (stopped_ || ec == asio::error::operation_aborted) return;
  if (ec) {
    if (is_resource_exhaustion(ec)) return back_off();
    // A connection that died between SYN and accept (ECONNABORTED) and the
    // like: nothing to do but take the next one.
    spdlog::debug("accept failed: {}", ec.message());
    return do_accept();
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

void listener::back_off() {
  // Out of descriptors or memory: retrying at once would spin the CPU on
  // the same error. Wait, doubling up to a second, while sessions close.
  backoff_ = backoff_.count() == 0 ? min_backoff : std::min(backoff_ * 2, max_backoff);
  spdlog::warn("accept failed for lack of resources; retrying in {}ms", backoff_.count());
  backoff_timer_.expires_after(backoff_);
  backoff_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (!ec) self->do_accept();
  });
}

void listener::refuse(asio::ip::tcp::socket& socket) {
  // Over the connection cap: a best-effort 503 on the fresh socket (its send
  // buffer is empty, so a non-blocking write of a few hundred bytes
  // succeeds), then close. Existing connections are not touched.
  std::string reply;
  write_response(error_middleware::to_response(http_error::too_many_connections()),
                 write_options{false, false, 11}, reply);
  boost::system::error_code ec;
  socket.non_blocking(true, ec);
  socket.write_some(asio::buffer(reply), ec);
  socket.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  socket.close(ec);
}

}  // namespace badges_health::http
