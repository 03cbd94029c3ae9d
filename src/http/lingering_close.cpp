// Half-close, then read and drop until the client's end.
#include "lingering_close.hpp"

namespace badges_health::http {

namespace asio = boost::asio;
using asio::ip::tcp;

void lingering_close::start(tcp::socket socket, connection_slot slot, connection_context& ctx) {
  boost::system::error_code ec;
  socket.shutdown(tcp::socket::shutdown_send, ec);
  if (ec) return;  // already reset by the peer: closes with `socket`
  auto self = std::make_shared<lingering_close>(std::move(socket), std::move(slot), ctx);
  self->do_wait();
}

lingering_close::lingering_close(tcp::socket socket, connection_slot slot, connection_context& ctx)
    : socket_(std::move(socket)),
      slot_(std::move(slot)),
      ctx_(ctx),
      deadline_(ctx.now() + ctx.options.linger_timeout) {
  ctx_.track(*this);
  ctx_.deadline_set(deadline_);
}

lingering_close::~lingering_close() { ctx_.forget(*this); }

void lingering_close::do_wait() {
  socket_.async_wait(
      tcp::socket::wait_read,
      [self = shared_from_this()](boost::system::error_code ec) { self->on_readable(ec); });
}

void lingering_close::on_readable(boost::system::error_code ec) {
  if (ec || !socket_.is_open()) return close();
  auto& buffer = ctx_.read_buffer();
  for (;;) {
    const std::size_t n = socket_.read_some(asio::buffer(buffer), ec);
    if (ec == asio::error::would_block) return do_wait();
    // End of stream (the expected end), a reset, or too much: close.
    if (ec) return close();
    dropped_ += n;
    if (dropped_ > max_linger_bytes) return close();
  }
}

void lingering_close::close() {
  deadline_ = clock::time_point::max();
  boost::system::error_code ec;
  socket_.close(ec);  // a wait in progress completes with operation_aborted
}

}  // namespace badges_health::http
