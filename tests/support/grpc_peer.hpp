// Test support: the grpc++ health server (tests/helpers/grpc_health_peer)
// as a child process on 127.0.0.1, whose services' statuses the test sets
// while it runs.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace badges_health::test {

class grpc_peer {
 public:
  /// Starts the peer with `args` (--no-health, --tls CERT KEY, --service
  /// NAME). Throws when it does not start.
  explicit grpc_peer(std::vector<std::string> args = {});
  ~grpc_peer();
  grpc_peer(const grpc_peer&) = delete;
  grpc_peer& operator=(const grpc_peer&) = delete;

  unsigned short port() const noexcept { return port_; }
  /// `name` answers SERVING (true) or NOT_SERVING; returns once the peer
  /// has applied it.
  void set_serving(const std::string& name, bool serving);

 private:
  std::string read_line();

  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  int stdout_fd_ = -1;
  unsigned short port_ = 0;
  std::string buffered_;
};

/// Why the grpc++ peer cannot be used (not built), or empty.
std::string grpc_peer_missing();

}  // namespace badges_health::test
