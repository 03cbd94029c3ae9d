// The tcp check: a connection established is a pass.
#include "tcp_probe.hpp"

namespace badges_health::health {

tcp_probe::tcp_probe(std::string host, unsigned short port, boost::asio::any_io_executor ex)
    : connector_(std::move(host), port, std::move(ex), connector::final_ack::held) {}

void tcp_probe::start(completion done) {
  connector_.start([self = shared_from_this(), done = std::move(done)](
                       const std::string& error, const boost::asio::ip::tcp::endpoint& ep) {
    // A reset rather than a FIN, as HAProxy's connect checks do: no
    // TIME_WAIT left here per attempt (a thousand a second would exhaust
    // the ephemeral ports on a real network). With the handshake's last
    // ACK held back, the reset also ends the connection before the
    // dependency's kernel queues it: a database is not made to accept (a
    // PostgreSQL backend fork) and log a client that said nothing.
    boost::system::error_code ignored;
    auto& socket = self->connector_.socket();
    if (error.empty()) socket.set_option(boost::asio::socket_base::linger(true, 0), ignored);
    socket.close(ignored);
    if (!error.empty()) return done({false, error});
    done({true, "connected to " + self->connector_.describe(ep)});
  });
}

void tcp_probe::cancel() noexcept { connector_.cancel(); }

}  // namespace badges_health::health
