// Asynchronous resolve-and-connect shared by the tcp and http checks.
#include "connector.hpp"

#include <boost/asio/connect.hpp>

namespace badges_health::health {

namespace asio = boost::asio;
using asio::ip::tcp;

connector::connector(std::string host, unsigned short port, asio::any_io_executor ex)
    : host_(std::move(host)),
      port_(std::to_string(port)),
      port_number_(port),
      resolver_(ex),
      socket_(ex) {
  const bool v6 = host_.find(':') != std::string::npos;
  authority_ = (v6 ? "[" + host_ + "]" : host_) + ":" + port_;
}

void connector::start(completion done) {
  // A literal address needs no resolver: its round trip (a hand-off to
  // Asio's resolver thread and back) would cost more than the connect.
  boost::system::error_code literal_ec;
  const auto address = asio::ip::make_address(host_, literal_ec);
  if (!literal_ec) {
    const tcp::endpoint ep(address, port_number_);
    socket_.async_connect(ep, [this, ep, done = std::move(done)](boost::system::error_code cec) {
      if (cec) return done("connect " + authority_ + ": " + cec.message(), ep);
      done({}, ep);
    });
    return;
  }
  resolver_.async_resolve(
      host_, port_,
      [this, done = std::move(done)](boost::system::error_code ec,
                                     tcp::resolver::results_type results) {
        if (ec) return done("resolve " + host_ + ": " + ec.message(), tcp::endpoint{});
        asio::async_connect(socket_, results,
                            [this, done](boost::system::error_code cec, const tcp::endpoint& ep) {
                              if (cec)
                                return done("connect " + authority_ + ": " + cec.message(), ep);
                              done({}, ep);
                            });
      });
}

void connector::cancel() noexcept {
  resolver_.cancel();
  boost::system::error_code ignored;
  socket_.close(ignored);
}

}  // namespace badges_health::health
