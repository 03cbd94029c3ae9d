// Resolve-then-connect, the first step of the tcp and http checks. A host
// name is resolved asynchronously on every attempt; a literal IP address
// is used as it is.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <string>

namespace badges_health::health {

class connector {
 public:
  /// `error` is empty on success, else the failure as a check reports it
  /// ("resolve db: ...", "connect db:5432: ...").
  using completion =
      std::function<void(const std::string& error, const boost::asio::ip::tcp::endpoint&)>;

  connector(std::string host, unsigned short port, boost::asio::any_io_executor ex);

  /// The caller keeps the connector alive until `done` runs.
  void start(completion done);
  /// Stops a resolve or connect in progress (its completion then reports
  /// the cancellation) and closes the socket.
  void cancel() noexcept;

  boost::asio::ip::tcp::socket& socket() noexcept { return socket_; }
  /// host:port, with an IPv6 literal in brackets.
  const std::string& authority() const noexcept { return authority_; }

 private:
  std::string host_;
  std::string port_;
  unsigned short port_number_;
  std::string authority_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::ip::tcp::socket socket_;
};

}  // namespace badges_health::health
