// Test support: a real redis-server on a free 127.0.0.1 port with a
// password (requirepass), nothing saved to disk, killed when the test ends.
#pragma once

#include <sys/types.h>

#include <string>

namespace badges_health::test {

/// $REDIS_SERVER_BINARY if set, else redis-server from /usr/bin.
std::string redis_server_binary();
/// Empty when redis-server is there, else what is missing (the reason a
/// test skips).
std::string redis_missing();

class redis_server {
 public:
  static constexpr const char* password = "redis-Secret-4Kp";

  /// Starts redis-server and waits (up to 10 s) until it answers. Throws on
  /// failure.
  redis_server();
  ~redis_server();
  redis_server(const redis_server&) = delete;
  redis_server& operator=(const redis_server&) = delete;

  unsigned short port() const noexcept { return port_; }

 private:
  pid_t pid_ = -1;
  unsigned short port_ = 0;
  std::string dir_;
};

}  // namespace badges_health::test
