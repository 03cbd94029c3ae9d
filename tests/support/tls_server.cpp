// The test CA is made with the openssl command line, as an operator would
// make a private one; the HTTPS server is Python's http.server over ssl.
#include "support/tls_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

namespace badges_health::test {
namespace {

void run(const std::string& command) {
  const std::string quiet = command + " >/dev/null 2>&1";
  if (std::system(quiet.c_str()) != 0) throw std::runtime_error("failed: " + command);
}

std::string support_dir() {
  const std::string here = __FILE__;
  return here.substr(0, here.rfind('/'));
}

}  // namespace

test_ca::test_ca() {
  ca_cert_ = dir_.file("ca.pem");
  ca_key_ = dir_.file("ca.key");
  run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -keyout " +
      ca_key_ + " -out " + ca_cert_ + " -subj '/CN=badges-health test CA'");
}

std::pair<std::string, std::string> test_ca::issue(const std::string& name,
                                                   const std::string& subject_alt_names,
                                                   int days) const {
  const std::string key = dir_.file(name + ".key");
  const std::string csr = dir_.file(name + ".csr");
  const std::string cert = dir_.file(name + ".pem");
  const std::string ext = dir_.write(name + ".ext", "subjectAltName=" + subject_alt_names + "\n");
  run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + key + " -out " +
      csr + " -subj '/CN=" + name + "'");
  run("openssl x509 -req -in " + csr + " -CA " + ca_cert_ + " -CAkey " + ca_key_ +
      " -CAcreateserial -days " + std::to_string(days) + " -out " + cert + " -extfile " + ext);
  return {cert, key};
}

https_server::https_server(const std::string& certificate, const std::string& key) {
  int in[2];
  int out[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0) {
    throw std::runtime_error("pipe failed");
  }
  const std::string script = support_dir() + "/https_server.py";
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    // Debian's interpreter: a python3 earlier on PATH may be another one.
    ::execl("/usr/bin/python3", "python3", script.c_str(), certificate.c_str(), key.c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  stdin_fd_ = in[1];
  std::string line;
  pollfd p{out[0], POLLIN, 0};
  while (line.find('\n') == std::string::npos && ::poll(&p, 1, 10'000) > 0) {
    char buf[64];
    const auto n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    line.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out[0]);
  const int port = std::atoi(line.c_str());
  if (port <= 0 || port > 65535) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    throw std::runtime_error("https_server.py did not start (needs /usr/bin/python3)");
  }
  port_ = static_cast<unsigned short>(port);
}

https_server::~https_server() {
  ::close(stdin_fd_);  // the server stops when its stdin closes
  for (int i = 0; i < 100; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
    ::usleep(20'000);
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
}

}  // namespace badges_health::test
