// The tcp check: passes when host:port answers the TCP handshake. As
// HAProxy's connect checks do, the handshake's last ACK is held back and the
// connection reset at once, so the dependency's kernel drops it before its
// application could accept it, and no TIME_WAIT is left here.
#include <boost/asio/socket_base.hpp>
#include <nlohmann/json.hpp>

#include "../attempt.hpp"
#include "../connector.hpp"
#include "badges_health/health/check_reader.hpp"
#include "badges_health/health/checker.hpp"

namespace badges_health::health {

namespace checks {
extern const check_type tcp;
}  // namespace checks

// Everything of the unit in its own namespace: the units are compiled in
// unity batches, where two anonymous namespaces would be one.
namespace tcp_check {
namespace {

struct tcp_fields {
  std::string host;
  unsigned short port = 0;
  bool operator==(const tcp_fields&) const = default;
};

class tcp_checker final : public checker, public std::enable_shared_from_this<tcp_checker> {
 public:
  tcp_checker(const tcp_fields& f, boost::asio::any_io_executor ex)
      : connector_(f.host, f.port, ex, connector::final_ack::held),
        socket_(ex),
        attempt_(std::move(ex)) {}

  // One socket for every attempt: the only operation on it is the connect,
  // whose late completion finds a newer attempt number and stops there.
  void start(completion done) override {
    const auto n = attempt_.begin(std::move(done));
    connector_.start(socket_, [self = shared_from_this(), n](const connector::outcome& reached) {
      if (!self->attempt_.current(n)) return;
      // A reset rather than a FIN: no TIME_WAIT here per attempt (a
      // thousand a second would exhaust the ephemeral ports on a real
      // network); with the last ACK held back, the dependency's kernel
      // never queues the connection for its application either.
      boost::system::error_code ignored;
      auto& socket = self->socket_;
      if (reached) socket.set_option(boost::asio::socket_base::linger(true, 0), ignored);
      socket.close(ignored);
      if (!reached) return self->attempt_.finish(n, {check_status::fail, reached.error()});
      self->attempt_.finish(
          n, {check_status::pass, "connected to " + self->connector_.describe(*reached)});
    });
  }

  void cancel() noexcept override {
    attempt_.cancel();
    connector_.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  connector connector_;
  boost::asio::ip::tcp::socket socket_;
  attempt_slot attempt_;
};

class tcp_settings final : public typed_settings<tcp_fields> {
 public:
  using typed_settings::typed_settings;
  const check_type& type() const noexcept override { return checks::tcp; }
  void describe(nlohmann::ordered_json& out) const override {
    out["host"] = fields_.host;
    out["port"] = fields_.port;
  }
  std::shared_ptr<checker> make_checker(const check_spec&,
                                        const checker_context& context) const override {
    return std::make_shared<tcp_checker>(fields_, context.executor);
  }
};

std::shared_ptr<const check_settings> read(const check_reader& in, check_spec&) {
  tcp_fields f;
  f.host = in.non_empty_string("host");
  f.port = in.port("port");
  return std::make_shared<tcp_settings>(std::move(f));
}

constexpr std::string_view fields[] = {"host", "port"};

}  // namespace
}  // namespace tcp_check

const check_type checks::tcp{"tcp", "component", tcp_check::fields, false, &tcp_check::read};

}  // namespace badges_health::health
