// Test support: a program other than the service (curl, h2load, the Python
// gRPC client) run as a child whose standard output is read line by line
// as it comes, with deadlines; killed when the test is done with it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace badges_health::test {

class child_process {
 public:
  /// Starts argv[0] (searched in PATH) with stdout piped to us and stderr
  /// collected. Throws when it cannot start.
  explicit child_process(std::vector<std::string> argv);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// The next line of output without its newline, or nullopt when the
  /// program closed its output or `timeout` passed first.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  /// Waits for the exit (killing the program after `timeout`); its exit
  /// code, or -signal. What it wrote is kept for output()/errors().
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  /// Output not yet taken by read_line.
  const std::string& output() const noexcept { return out_; }
  const std::string& errors() const noexcept { return err_; }

 private:
  /// Reads what is there within `wait`; false at end of output.
  bool pump(std::chrono::milliseconds wait);

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool out_open_ = true;
  bool exited_ = false;
  int exit_code_ = 0;
  std::string out_;
  std::string err_;
};

struct program_result {
  int exit_code;
  std::string out;
  std::string err;
};

/// Runs a program to completion (killed after `timeout`).
program_result run_program(std::vector<std::string> argv,
                           std::chrono::milliseconds timeout = std::chrono::seconds(20));

}  // namespace badges_health::test
