// Resolve-then-connect, the first step of the tcp, http and redis checks.
// A host name is resolved asynchronously on every attempt (each address in
// turn until one connects); a literal IP address is used as it is.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <optional>
#include <string>

namespace badges_health::health {

class connector {
 public:
  /// `error` is empty on success, else the failure as a check reports it
  /// ("resolve db: ...", "connect db:5432: ...").
  using completion =
      std::function<void(const std::string& error, const boost::asio::ip::tcp::endpoint&)>;

  /// What the last packet of the TCP handshake does.
  enum class final_ack {
    /// Sent at once: the peer's application accepts the connection.
    immediate,
    /// Held back (TCP_QUICKACK off) for a caller that only wants to know
    /// the port answers and closes with a reset straight away: the peer's
    /// kernel drops the half-open connection and its application never
    /// sees it, as with HAProxy's connect-only checks.
    held,
  };

  connector(std::string host, unsigned short port, boost::asio::any_io_executor ex,
            final_ack ack = final_ack::immediate);

  /// The caller keeps the connector alive until `done` runs.
  void start(completion done);
  /// Stops a resolve or connect in progress (its completion then reports
  /// the cancellation) and closes the socket.
  void cancel() noexcept;

  boost::asio::ip::tcp::socket& socket() noexcept { return socket_; }
  /// host:port, with an IPv6 literal in brackets.
  const std::string& authority() const noexcept { return authority_; }
  /// The address connected to, as address:port (the authority when the
  /// host is a literal address).
  std::string describe(const boost::asio::ip::tcp::endpoint& ep) const;

 private:
  // One address: open, set the socket up, connect.
  void connect_one(const boost::asio::ip::tcp::endpoint& ep,
                   std::function<void(boost::system::error_code)> done);
  // The resolved addresses from `next` on, until one connects.
  void connect_next(boost::asio::ip::tcp::resolver::results_type results,
                    boost::asio::ip::tcp::resolver::results_type::const_iterator next,
                    completion done);

  std::string host_;
  std::string port_;
  unsigned short port_number_;
  std::string authority_;
  std::optional<boost::asio::ip::address> literal_;
  final_ack ack_;
  // Set by cancel(): a resolve or connect that completes afterwards (its
  // handler already queued) goes no further.
  bool cancelled_ = false;
  // Only for a host name (a resolver costs an allocation and a service
  // lookup, paid on every attempt).
  std::optional<boost::asio::ip::tcp::resolver> resolver_;
  boost::asio::ip::tcp::socket socket_;
};

}  // namespace badges_health::health
