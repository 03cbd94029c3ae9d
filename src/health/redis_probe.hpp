// redis check: connect, `AUTH [username] password` when a password is
// configured, then PING; a pass when PING answers +PONG.
//
// Not hiredis: the check is one command of a few bytes, and hiredis's
// asynchronous adapters are written for libevent, libev and friends, not
// Asio; driving its context by hand would take more code than the RESP
// exchange below, and add a library to the image.
#pragma once

#include <boost/asio/streambuf.hpp>
#include <chrono>
#include <string>

#include "badges_health/health/probe.hpp"
#include "connector.hpp"

namespace badges_health::health {

/// Largest reply line a redis check reads.
inline constexpr std::size_t redis_probe_reply_limit = 4096;

class redis_probe final : public probe, public std::enable_shared_from_this<redis_probe> {
 public:
  redis_probe(const check_spec& spec, boost::asio::any_io_executor ex);
  void start(completion done) override;
  void cancel() noexcept override;

 private:
  void on_connected();
  void read_reply();
  void on_reply(boost::system::error_code ec);
  void finish(bool pass, const std::string& what);

  connector connector_;
  std::string username_;
  std::string password_;
  std::string request_;
  boost::asio::streambuf replies_{redis_probe_reply_limit};
  // Replies still expected: AUTH's (when sent), then PING's.
  bool awaiting_auth_ = false;
  completion done_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace badges_health::health
