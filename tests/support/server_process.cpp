// Spawning and supervising the real binary for integration tests.
#include "support/server_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>
#include <stdexcept>
#include <thread>

#ifndef BADGES_HEALTH_BINARY
#error "BADGES_HEALTH_BINARY must name the binary under test"
#endif

extern char** environ;

namespace badges_health::test {
namespace {

struct spawned {
  pid_t pid;
  int out_fd;
  int err_fd;
};

spawned spawn(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  int out_pipe[2];
  int err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  std::vector<std::string> argv_storage{BADGES_HEALTH_BINARY};
  argv_storage.insert(argv_storage.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);

  // The child gets our environment minus the service's own variables (so a
  // developer's shell cannot change test outcomes), plus `env`.
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string kv = *e;
    static const std::vector<std::string> owned = {"HTTP_SERVER_", "BADGES_HEALTH_"};
    bool skip = false;
    for (const auto& prefix : owned) skip = skip || kv.rfind(prefix, 0) == 0;
    if (!skip) env_storage.push_back(kv);
  }
  env_storage.insert(env_storage.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(out_pipe[1], STDOUT_FILENO);
    dup2(err_pipe[1], STDERR_FILENO);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  return {pid, out_pipe[0], err_pipe[0]};
}

// Reads whatever is available on `fd` within `wait`; false at EOF.
bool read_available(int fd, std::string& into, std::chrono::milliseconds wait) {
  pollfd pfd{fd, POLLIN, 0};
  if (::poll(&pfd, 1, static_cast<int>(wait.count())) <= 0) return true;
  char buf[4096];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  if (n <= 0) return false;
  into.append(buf, static_cast<std::size_t>(n));
  return true;
}

}  // namespace

server_process::server_process(std::vector<std::string> args, std::vector<std::string> env) {
  std::vector<std::string> full{"--host", "127.0.0.1", "--port", "0"};
  full.insert(full.end(), args.begin(), args.end());
  const auto child = spawn(full, env);
  pid_ = child.pid;
  ::close(child.out_fd);
  stderr_fd_ = child.err_fd;

  static const std::regex listening(R"(listening on [^ ]*:(\d+))");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  std::smatch m;
  while (!std::regex_search(log_, m, listening)) {
    if (std::chrono::steady_clock::now() > deadline || !running()) {
      const std::string seen = log_;
      signal(SIGKILL);
      throw std::runtime_error("server did not start; log:\n" + seen);
    }
    drain_pipe(std::chrono::milliseconds(50));
  }
  port_ = static_cast<unsigned short>(std::stoi(m[1].str()));
}

server_process::~server_process() {
  if (!exited_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  if (stderr_fd_ >= 0) ::close(stderr_fd_);
}

void server_process::signal(int sig) const {
  if (!exited_) ::kill(pid_, sig);
}

bool server_process::running() {
  if (exited_) return false;
  int status = 0;
  const pid_t r = ::waitpid(pid_, &status, WNOHANG);
  if (r == pid_) {
    exited_ = true;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    return false;
  }
  return true;
}

int server_process::wait(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("server did not exit in time; log:\n" + log());
    }
    drain_pipe(std::chrono::milliseconds(10));
  }
  drain_pipe(std::chrono::milliseconds(0));
  return exit_code_;
}

void server_process::drain_pipe(std::chrono::milliseconds wait) {
  if (stderr_fd_ < 0) return;
  if (!read_available(stderr_fd_, log_, wait)) {
    ::close(stderr_fd_);
    stderr_fd_ = -1;
  }
}

std::string server_process::log() {
  // Take everything already written without blocking.
  for (int i = 0; i < 64 && stderr_fd_ >= 0; ++i) {
    const auto before = log_.size();
    drain_pipe(std::chrono::milliseconds(0));
    if (log_.size() == before) break;
  }
  return log_;
}

bool server_process::wait_for_log(const std::string& needle, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (log().find(needle) == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    drain_pipe(std::chrono::milliseconds(20));
  }
  return true;
}

run_result run_binary(const std::vector<std::string>& args, const std::vector<std::string>& env,
                      std::chrono::milliseconds timeout) {
  const auto child = spawn(args, env);
  run_result result{-1, {}, {}};
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool out_open = true;
  bool err_open = true;
  while (out_open || err_open) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(child.pid, SIGKILL);
      break;
    }
    if (out_open)
      out_open = read_available(child.out_fd, result.out, std::chrono::milliseconds(10));
    if (err_open)
      err_open = read_available(child.err_fd, result.err, std::chrono::milliseconds(10));
  }
  ::close(child.out_fd);
  ::close(child.err_fd);
  int status = 0;
  ::waitpid(child.pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  return result;
}

}  // namespace badges_health::test
