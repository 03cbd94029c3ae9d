// Starting and steering the grpc++ health peer.
#include "support/grpc_peer.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

namespace badges_health::test {

namespace {

#ifdef BADGES_HEALTH_GRPC_PEER
constexpr const char* peer_binary = BADGES_HEALTH_GRPC_PEER;
#else
constexpr const char* peer_binary = "";
#endif

}  // namespace

std::string grpc_peer_missing() {
  if (*peer_binary == '\0' || ::access(peer_binary, X_OK) != 0) {
    return "the grpc++ peer was not built: scripts/install-deps --test installs libgrpc++-dev";
  }
  return {};
}

grpc_peer::grpc_peer(std::vector<std::string> args) {
  if (const auto missing = grpc_peer_missing(); !missing.empty()) throw std::runtime_error(missing);
  int in[2];
  int out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  std::vector<char*> argv{const_cast<char*>(peer_binary)};
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::execv(peer_binary, argv.data());
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  stdin_fd_ = in[1];
  stdout_fd_ = out[0];
  const int port = std::atoi(read_line().c_str());
  if (port <= 0 || port > 65535) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    throw std::runtime_error("grpc-health-peer did not start");
  }
  port_ = static_cast<unsigned short>(port);
}

grpc_peer::~grpc_peer() {
  ::close(stdin_fd_);  // the peer stops when its stdin closes
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) break;
    if (i == 99) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::usleep(20'000);
  }
  ::close(stdout_fd_);
}

std::string grpc_peer::read_line() {
  pollfd p{stdout_fd_, POLLIN, 0};
  while (buffered_.find('\n') == std::string::npos && ::poll(&p, 1, 10'000) > 0) {
    char buf[64];
    const auto n = ::read(stdout_fd_, buf, sizeof buf);
    if (n <= 0) break;
    buffered_.append(buf, static_cast<std::size_t>(n));
  }
  const auto end = buffered_.find('\n');
  std::string line = buffered_.substr(0, end);
  buffered_.erase(0, end == std::string::npos ? buffered_.size() : end + 1);
  return line;
}

void grpc_peer::set_serving(const std::string& name, bool serving) {
  const std::string line = std::string(serving ? "serve " : "stop ") + name + "\n";
  if (::write(stdin_fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size()) ||
      read_line() != "ok") {
    throw std::runtime_error("grpc-health-peer did not take the command");
  }
}

}  // namespace badges_health::test
