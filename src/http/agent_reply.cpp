// One line, then a lingering close.
#include "agent_reply.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/write.hpp>

#include "lingering_close.hpp"

namespace badges_health::http {

namespace asio = boost::asio;
using asio::ip::tcp;

std::string agent_wire_line(std::string line) {
  for (char& c : line) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  line += '\n';
  return line;
}

void serve_agent(accepted_fd fd, const tcp& protocol, connection_context& ctx) {
  const std::size_t open = ctx.open_connections.fetch_add(1, std::memory_order_relaxed);
  connection_slot slot(ctx.open_connections);
  if (open >= ctx.options.max_connections) return;  // closed by `fd`
  tcp::socket socket(ctx.io_context());
  if (fd.assign_to(socket, protocol)) return;
  // A few dozen bytes into a fresh socket's empty send buffer: they go out
  // whole, without waiting on the peer.
  const std::string line = agent_wire_line(ctx.agent_line());
  boost::system::error_code ec;
  socket.write_some(asio::buffer(line), ec);
  if (ec) {
    spdlog::debug("agent reply not sent: {}", ec.message());
    return;
  }
  lingering_close::start(std::move(socket), std::move(slot), ctx);
}

}  // namespace badges_health::http
