// Asynchronous resolve-and-connect for the tcp check.
#include "badges_health/health/tcp_probe.hpp"

#include <boost/asio/connect.hpp>

namespace badges_health::health {

namespace asio = boost::asio;
using asio::ip::tcp;

tcp_probe::tcp_probe(std::string host, unsigned short port, asio::any_io_executor ex)
    : host_(std::move(host)), port_(std::to_string(port)), resolver_(ex), socket_(ex) {}

void tcp_probe::start(completion done) {
  resolver_.async_resolve(
      host_, port_,
      [self = shared_from_this(), done = std::move(done)](boost::system::error_code ec,
                                                          tcp::resolver::results_type results) {
        if (ec) return done({false, "resolve " + self->host_ + ": " + ec.message()});
        asio::async_connect(
            self->socket_, results,
            [self, done](boost::system::error_code cec, const tcp::endpoint& ep) {
              boost::system::error_code ignored;
              self->socket_.close(ignored);
              if (cec) {
                return done(
                    {false, "connect " + self->host_ + ":" + self->port_ + ": " + cec.message()});
              }
              done({true, "connected to " + ep.address().to_string() + ":" + self->port_});
            });
      });
}

void tcp_probe::cancel() noexcept {
  resolver_.cancel();
  boost::system::error_code ignored;
  socket_.close(ignored);
}

}  // namespace badges_health::health
