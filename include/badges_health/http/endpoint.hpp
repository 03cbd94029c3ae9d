// Addresses and listening sockets, for every listener of the service (the
// HTTP port and the agent port): parsing a host flag, binding, and the one
// way an endpoint is printed.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/result.hpp>
#include <string>

namespace badges_health::http {

/// Parses a host flag value ("0.0.0.0", "::1", "[::1]", "localhost").
/// Throws std::system_error when it is neither an address nor resolvable.
boost::asio::ip::address resolve_host(const std::string& host);

/// "127.0.0.1:8080" or "[::1]:8080".
std::string format_endpoint(const boost::asio::ip::tcp::endpoint& ep);

struct listen_options {
  /// SO_REUSEPORT: one listening socket per worker on the same port.
  bool reuse_port = false;
  /// TCP_DEFER_ACCEPT: a connection is handed over once its client has
  /// sent something (the HTTP port: clients speak first), or after about a
  /// second if it sends nothing. A connect-only check costs the process
  /// nothing.
  bool defer_accept = false;
};

/// A listening socket on `endpoint` (port 0: the kernel picks one).
boost::system::result<boost::asio::ip::tcp::acceptor> listen_on(
    const boost::asio::any_io_executor& ex, const boost::asio::ip::tcp::endpoint& endpoint,
    const listen_options& options);

/// Binds `endpoint` alone, without SO_REUSEPORT, and returns the endpoint
/// bound: fails with "address in use" when another process holds the
/// port, even one that set SO_REUSEPORT, and learns the port when 0 was
/// asked for. The socket is closed again at once.
boost::system::result<boost::asio::ip::tcp::endpoint> claim_endpoint(
    const boost::asio::any_io_executor& ex, const boost::asio::ip::tcp::endpoint& endpoint);

}  // namespace badges_health::http
