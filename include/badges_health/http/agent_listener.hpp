// HAProxy's agent check: a TCP port that, for each connection, writes one
// line of agent words (`up ready 100%`, `drain`, `down #reason`) and closes.
// What the line says is the caller's business; this knows only sockets.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace badges_health::http {

class agent_listener : public std::enable_shared_from_this<agent_listener> {
 public:
  /// Returns the agent words for this instant, without the newline. Called
  /// once per connection, on the listener's executor.
  using line_source = std::function<std::string()>;

  /// `executor` runs one handler at a time (a single-threaded io_context
  /// or a strand): the listener and its replies share state unlocked.
  agent_listener(boost::asio::any_io_executor executor, line_source line);

  /// Binds and listens on `endpoint` (port 0 picks one). Throws
  /// std::system_error whose message names the address. Returns the
  /// address actually bound.
  boost::asio::ip::tcp::endpoint bind(const boost::asio::ip::tcp::endpoint& endpoint);

  /// Starts accepting; each connection gets one line and is closed.
  void start() { do_accept(); }

  /// Stops accepting and closes the port. Replies already being written
  /// finish on their own. Runs on the listener's executor.
  void stop();

 private:
  class reply;

  void do_accept();
  void on_accept(boost::system::error_code ec, boost::asio::ip::tcp::socket socket);

  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  line_source line_;
  std::size_t lingering_ = 0;  // replies waiting for their peer to close
  bool stopped_ = false;
};

/// `line` made safe to send as one agent line: any CR or LF inside becomes
/// a space, and the line ends with exactly one `\n`.
std::string agent_wire_line(std::string line);

}  // namespace badges_health::http
