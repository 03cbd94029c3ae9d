// Running HAProxy for integration tests, and reading `show stat` from it.
#include "support/haproxy_process.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace badges_health::test {
namespace {

std::vector<std::string> split(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::string field;
  std::istringstream in(line);
  while (std::getline(in, field, sep)) out.push_back(field);
  return out;
}

// The frontend's listening socket, bound to 127.0.0.1:0 here and handed
// to HAProxy as descriptor kFrontendFd (`bind fd@3`): the port is never
// free between choosing it and HAProxy listening on it, so no other test's
// socket can take it meanwhile.
constexpr int kFrontendFd = 3;

int frontend_listener(unsigned short& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      ::listen(fd, SOMAXCONN) != 0) {
    ::close(fd);
    throw std::runtime_error("could not listen on 127.0.0.1:0");
  }
  port = ntohs(addr.sin_port);
  return fd;
}

std::string config_text(const std::string& socket_path, const haproxy_process::options& opts) {
  std::ostringstream cfg;
  cfg << "global\n"
      << "  stats socket " << socket_path << " level admin\n"
      << "\n"
      << "defaults\n"
      << "  mode http\n"
      << "  timeout connect 1s\n"
      << "  timeout client 5s\n"
      << "  timeout server 5s\n";
  if (opts.retry_elsewhere) {
    // What a real deployment has: a request whose connection to a server
    // fails (refused, or reset before any response) is tried again, and the
    // last try may go to another server. It hides failures of the service,
    // so only tests that say so use it.
    cfg << "  retries 2\n"
        << "  option redispatch\n";
  } else {
    // HAProxy retries 3 times by default; 0 lets every failed connection to
    // a server reach the client, so the test sees what the service does.
    cfg << "  retries 0\n";
  }
  cfg << "\n"
      << "frontend fe\n"
      << "  bind fd@" << kFrontendFd << "\n"
      << "  default_backend be\n"
      << "\n"
      << "backend be\n";
  if (opts.httpchk.empty()) {
    cfg << "  option httpchk\n";
  } else {
    cfg << "  option httpchk " << opts.httpchk << "\n"
        << "  http-check expect status 200\n";
  }
  if (!opts.agent_ports.empty() && opts.agent_ports.size() != opts.server_ports.size()) {
    throw std::invalid_argument("haproxy_process: one agent port per server, or none");
  }
  for (std::size_t i = 0; i < opts.server_ports.size(); ++i) {
    cfg << "  server s" << (i + 1) << " 127.0.0.1:" << opts.server_ports[i]
        << " check inter 200ms fall 2 rise 2";
    if (!opts.agent_ports.empty()) {
      cfg << " agent-check agent-port " << opts.agent_ports[i] << " agent-inter 200ms";
    }
    if (opts.weight != 0) cfg << " weight " << opts.weight;
    cfg << "\n";
  }
  return cfg.str();
}

}  // namespace

std::string haproxy_binary() {
  const char* env = std::getenv("HAPROXY_BINARY");
  return env != nullptr && *env != '\0' ? env : "/usr/sbin/haproxy";
}

unsigned short announced_agent_port(server_process& instance) {
  static const std::regex agent(R"(HAProxy agent on [^ ]*:(\d+)\r?\n)");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (;;) {
    // The whole line, newline included, so a line read in two pieces is
    // not taken for a shorter port.
    const std::string log = instance.log();
    std::smatch m;
    if (std::regex_search(log, m, agent)) {
      return static_cast<unsigned short>(std::stoi(m[1].str()));
    }
    if (std::chrono::steady_clock::now() > deadline) return 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

haproxy_process::haproxy_process(const temp_dir& dir, options opts)
    : socket_path_(dir.file("admin.sock")), log_path_(dir.file("haproxy.log")) {
  const std::string binary = haproxy_binary();
  if (::access(binary.c_str(), X_OK) != 0) {
    throw std::runtime_error("HAProxy not found at " + binary +
                             " (install the Debian package `haproxy`, or set HAPROXY_BINARY)");
  }
  const std::string cfg_path = dir.write("haproxy.cfg", config_text(socket_path_, opts));
  const int listen_fd = frontend_listener(frontend_port_);

  std::vector<std::string> argv_storage{binary, "-f", cfg_path, "-db"};
  std::vector<char*> argv;
  for (auto& a : argv_storage) argv.push_back(a.data());
  argv.push_back(nullptr);
  // Output goes to a file, not a pipe, so HAProxy never blocks on a pipe
  // that the test does not read while it runs.
  const int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (log_fd < 0) {
    ::close(listen_fd);
    throw std::runtime_error("cannot open " + log_path_);
  }
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(log_fd);
    ::close(listen_fd);
    throw std::runtime_error("fork failed");
  }
  if (pid_ == 0) {
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    // dup2 clears close-on-exec on the copy; when the socket already is
    // descriptor 3 there is no copy, so clear it by hand.
    if (listen_fd == kFrontendFd) {
      ::fcntl(listen_fd, F_SETFD, 0);
    } else {
      ::dup2(listen_fd, kFrontendFd);
    }
    ::execve(argv[0], argv.data(), environ);
    _exit(127);
  }
  ::close(log_fd);
  ::close(listen_fd);

  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("HAProxy exited at start-up; output:\n" + log());
    }
    // The admin socket is served from HAProxy's event loop, which starts
    // only after every listener is set up; the frontend's own socket
    // accepts into its backlog from the start, so it proves nothing.
    if (!admin("show info\n").empty()) break;
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("HAProxy did not start within 10 s; output:\n" + log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

haproxy_process::~haproxy_process() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

std::string haproxy_process::admin(const std::string& command) const {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {};
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path_.size() >= sizeof addr.sun_path) {
    ::close(fd);
    throw std::runtime_error("admin socket path too long: " + socket_path_);
  }
  std::memcpy(addr.sun_path, socket_path_.c_str(), socket_path_.size() + 1);
  std::string answer;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, command.data(), command.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(command.size())) {
    // Without "prompt" HAProxy answers one command and closes; read to EOF,
    // giving up after 2 s.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd pfd{fd, POLLIN, 0};
      if (::poll(&pfd, 1, 100) <= 0) continue;
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) break;
      answer.append(buf, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return answer;
}

std::string haproxy_process::server_stat(const std::string& server,
                                         const std::string& column) const {
  std::istringstream in(admin("show stat\n"));
  std::string line;
  std::size_t wanted_column = 0;
  while (std::getline(in, line)) {
    if (line.rfind("# ", 0) == 0) {
      const auto header = split(line.substr(2), ',');
      for (std::size_t i = 0; i < header.size(); ++i) {
        if (header[i] == column) wanted_column = i;
      }
      continue;
    }
    const auto fields = split(line, ',');
    if (fields.size() > wanted_column && wanted_column > 0 && fields[0] == "be" &&
        fields[1] == server) {
      return fields[wanted_column];
    }
  }
  return {};
}

std::string haproxy_process::log() const {
  std::ifstream in(log_path_);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace badges_health::test
