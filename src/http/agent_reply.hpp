// HAProxy's agent check on the agent port: each connection gets one line of
// agent words (`up ready 100%`, `drain`, `down #reason`) and is closed with
// a lingering close, since closing at once would reset the connection if
// the peer had sent anything (HAProxy's `agent-send`), and a reset can
// discard the line before the peer reads it. What the line says is the
// caller's business; this knows only sockets.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <string>

#include "accept_loop.hpp"
#include "connection.hpp"

namespace badges_health::http {

/// Serves a connection accepted on the agent port. Past --max-connections
/// it is closed without a line.
void serve_agent(accepted_fd fd, const boost::asio::ip::tcp& protocol, connection_context& ctx);

/// `line` made safe to send as one agent line: any CR or LF inside becomes
/// a space, and the line ends with exactly one `\n`.
std::string agent_wire_line(std::string line);

}  // namespace badges_health::http
