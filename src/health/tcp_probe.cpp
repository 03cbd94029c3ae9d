// The tcp check: a connection established is a pass.
#include "tcp_probe.hpp"

namespace badges_health::health {

tcp_probe::tcp_probe(std::string host, unsigned short port, boost::asio::any_io_executor ex)
    : connector_(std::move(host), port, std::move(ex)) {}

void tcp_probe::start(completion done) {
  connector_.start([self = shared_from_this(), done = std::move(done)](
                       const std::string& error, const boost::asio::ip::tcp::endpoint& ep) {
    boost::system::error_code ignored;
    self->connector_.socket().close(ignored);
    if (!error.empty()) return done({false, error});
    done({true, "connected to " + ep.address().to_string() + ":" + std::to_string(ep.port())});
  });
}

void tcp_probe::cancel() noexcept { connector_.cancel(); }

}  // namespace badges_health::health
