// tcp check: passes when host:port answers the handshake. The host name is
// resolved asynchronously on every attempt (a literal address is not
// resolved). The connection is reset before the dependency accepts it.
#pragma once

#include "badges_health/health/probe.hpp"
#include "connector.hpp"

namespace badges_health::health {

class tcp_probe final : public probe, public std::enable_shared_from_this<tcp_probe> {
 public:
  tcp_probe(std::string host, unsigned short port, boost::asio::any_io_executor ex);
  void start(completion done) override;
  void cancel() noexcept override;

 private:
  connector connector_;
};

}  // namespace badges_health::health
