// Test support: runs the real badges-health binary on an ephemeral port,
// learns the port from its start-up log line, sends it signals and
// collects its exit status and log.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace badges_health::test {

class server_process {
 public:
  /// Starts the binary with `--port 0 --host 127.0.0.1` plus `args`, and
  /// waits (up to 10 s) for its "listening on" line. Throws on failure.
  explicit server_process(std::vector<std::string> args = {}, std::vector<std::string> env = {});
  ~server_process();
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  unsigned short port() const noexcept { return port_; }
  pid_t pid() const noexcept { return pid_; }

  void signal(int sig) const;
  /// Waits for exit; returns the exit code, or -signal if killed, or
  /// throws after `timeout`.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  bool running();
  /// Everything the process has written to stderr so far.
  std::string log();
  /// Waits until the log contains `needle`; false on timeout.
  bool wait_for_log(const std::string& needle,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  void drain_pipe(std::chrono::milliseconds wait);

  pid_t pid_ = -1;
  int stderr_fd_ = -1;
  unsigned short port_ = 0;
  std::string log_;
  bool exited_ = false;
  int exit_code_ = 0;
};

/// Result of running the binary to completion (for flag tests).
struct run_result {
  int exit_code;
  std::string out;
  std::string err;
};
run_result run_binary(const std::vector<std::string>& args,
                      const std::vector<std::string>& env = {},
                      std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace badges_health::test
