// Resolve-then-connect, the first step of the tcp, http, grpc and redis
// checks. Long-lived, one per checker: the host is parsed once, a host name
// is resolved asynchronously on every attempt by the connector's own
// resolver (each address in turn until one connects), and a literal IP
// address is used as it is. The socket is the attempt's: a composed read
// or write of an abandoned attempt may still be finishing on its own.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/result.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace badges_health::health {

class connector {
 public:
  /// The endpoint reached, or the failure as a check reports it
  /// ("resolve db: ...", "connect db:5432: ...").
  using outcome = boost::system::result<boost::asio::ip::tcp::endpoint, std::string>;
  using completion = std::function<void(const outcome&)>;

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

  /// Connects `socket` (closing whatever it held). `done` runs once, unless
  /// cancel() comes first; until then the caller keeps the connector and
  /// the socket alive.
  void start(boost::asio::ip::tcp::socket& socket, completion done);
  /// Stops a resolve or connect in progress: its completion is never
  /// called. The caller closes its socket.
  void cancel() noexcept;

  const std::string& host() const noexcept { return host_; }
  bool host_is_address() const noexcept { return literal_.has_value(); }
  /// host:port, with an IPv6 literal in brackets.
  const std::string& authority() const noexcept { return authority_; }
  /// The address connected to, as address:port (the authority when the
  /// host is a literal address).
  std::string describe(const boost::asio::ip::tcp::endpoint& ep) const;

 private:
  // One address: open, set the socket up, connect.
  void connect_one(boost::asio::ip::tcp::socket& socket, const boost::asio::ip::tcp::endpoint& ep,
                   std::function<void(boost::system::error_code)> done);
  // The resolved addresses from `next` on, until one connects.
  void connect_next(boost::asio::ip::tcp::socket& socket, std::uint64_t attempt,
                    boost::asio::ip::tcp::resolver::results_type results,
                    boost::asio::ip::tcp::resolver::results_type::const_iterator next,
                    completion done);

  std::string host_;
  std::string port_;
  unsigned short port_number_;
  std::string authority_;
  std::optional<boost::asio::ip::address> literal_;
  final_ack ack_;
  // The connect in progress; cancel() moves it on, so that a resolve or
  // connect that completes afterwards (its handler already queued) goes no
  // further.
  std::uint64_t attempt_ = 0;
  // Only for a host name.
  std::optional<boost::asio::ip::tcp::resolver> resolver_;
};

}  // namespace badges_health::health
