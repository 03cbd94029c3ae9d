// Asynchronous resolve-and-connect shared by the tcp, http, grpc and redis
// checks.
#include "connector.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <boost/asio/post.hpp>

#include "badges_health/util/socket_option.hpp"

namespace badges_health::health {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// TCP_QUICKACK (Asio names TCP_NODELAY but not this one).
using quick_ack = util::boolean_socket_option<IPPROTO_TCP, TCP_QUICKACK>;

}  // namespace

connector::connector(std::string host, unsigned short port, asio::any_io_executor ex, final_ack ack)
    : host_(std::move(host)), port_(std::to_string(port)), port_number_(port), ack_(ack) {
  const bool v6 = host_.find(':') != std::string::npos;
  authority_ = (v6 ? "[" + host_ + "]" : host_) + ":" + port_;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host_, ec);
  // A literal address needs no resolver: its round trip (a hand-off to
  // Asio's resolver thread and back) would cost more than the connect.
  if (!ec) {
    literal_ = address;
  } else {
    resolver_.emplace(std::move(ex));
  }
}

std::string connector::describe(const tcp::endpoint& ep) const {
  if (literal_ && ep.address() == *literal_ && ep.port() == port_number_) return authority_;
  const auto address = ep.address().to_string();
  const auto port = std::to_string(ep.port());
  return ep.address().is_v6() ? "[" + address + "]:" + port : address + ":" + port;
}

void connector::start(tcp::socket& socket, completion done) {
  const std::uint64_t attempt = ++attempt_;
  if (literal_) {
    const tcp::endpoint ep(*literal_, port_number_);
    connect_one(socket, ep,
                [this, attempt, ep, done = std::move(done)](boost::system::error_code ec) {
                  if (attempt != attempt_) return;
                  if (ec)
                    return done(outcome(boost::system::in_place_error,
                                        "connect " + authority_ + ": " + ec.message()));
                  done(ep);
                });
    return;
  }
  resolver_->async_resolve(
      host_, port_,
      [this, &socket, attempt, done = std::move(done)](
          boost::system::error_code ec, tcp::resolver::results_type results) mutable {
        if (attempt != attempt_) return;
        if (ec)
          return done(
              outcome(boost::system::in_place_error, "resolve " + host_ + ": " + ec.message()));
        if (results.empty()) {
          return done(
              outcome(boost::system::in_place_error, "resolve " + host_ + ": no addresses"));
        }
        const auto first = results.begin();
        connect_next(socket, attempt, std::move(results), first, std::move(done));
      });
}

void connector::connect_one(tcp::socket& socket, const tcp::endpoint& ep,
                            std::function<void(boost::system::error_code)> done) {
  boost::system::error_code ec;
  socket.close(ec);
  socket.open(ep.protocol(), ec);
  // Best effort: without it the handshake completes, which is still a
  // correct check.
  if (!ec && ack_ == final_ack::held) socket.set_option(quick_ack(false), ec);
  if (ec && !socket.is_open()) {
    return asio::post(socket.get_executor(), [ec, done = std::move(done)] { done(ec); });
  }
  socket.async_connect(ep, std::move(done));
}

void connector::connect_next(tcp::socket& socket, std::uint64_t attempt,
                             tcp::resolver::results_type results,
                             tcp::resolver::results_type::const_iterator next, completion done) {
  const tcp::endpoint ep = next->endpoint();
  connect_one(socket, ep,
              [this, &socket, attempt, results = std::move(results), next, ep,
               done = std::move(done)](boost::system::error_code ec) mutable {
                if (attempt != attempt_) return;
                if (!ec) return done(ep);
                if (std::next(next) == results.end()) {
                  return done(outcome(boost::system::in_place_error,
                                      "connect " + authority_ + ": " + ec.message()));
                }
                const auto after = std::next(next);
                connect_next(socket, attempt, std::move(results), after, std::move(done));
              });
}

void connector::cancel() noexcept {
  ++attempt_;
  if (resolver_) resolver_->cancel();
}

}  // namespace badges_health::health
