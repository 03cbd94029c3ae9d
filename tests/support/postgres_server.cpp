// A private PostgreSQL cluster per test: initdb, pg_ctl and psql run as
// child processes (as the postgres user when the tests run as root).
#include "support/postgres_server.hpp"
#include "support/dependency_servers.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace badges_health::test {
namespace {

struct command_result {
  int exit_code;
  std::string output;
};

bool running_as_root() { return ::geteuid() == 0; }

/// Runs `argv` in `cwd` (as the postgres user when we are root) and
/// returns its exit code and its stdout and stderr together.
command_result run(std::vector<std::string> argv, const std::string& cwd) {
  if (running_as_root()) argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--"});
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(out[1], STDERR_FILENO);
    if (::chdir(cwd.c_str()) != 0) _exit(126);
    ::execvp(args[0], args.data());
    _exit(127);
  }
  ::close(out[1]);
  command_result result{-1, {}};
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n > 0) {
      result.output.append(buf, static_cast<std::size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      break;
    }
  }
  ::close(out[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

command_result run_or_throw(std::vector<std::string> argv, const std::string& cwd) {
  const std::string what = argv.front();
  auto r = run(std::move(argv), cwd);
  if (r.exit_code != 0) {
    throw std::runtime_error(what + " failed (exit " + std::to_string(r.exit_code) +
                             "): " + r.output);
  }
  return r;
}

void give_to_postgres(const std::string& path) {
  if (!running_as_root()) return;
  const passwd* pw = ::getpwnam("postgres");
  if (pw == nullptr) throw std::runtime_error("no postgres user (install the postgresql package)");
  if (::chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    throw std::runtime_error("chown " + path + ": " + std::strerror(errno));
  }
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

std::string postgres_bin_dir() {
  const char* dir = std::getenv("POSTGRES_BIN_DIR");
  return dir != nullptr && *dir != '\0' ? dir : "/usr/lib/postgresql/15/bin";
}

std::string postgres_missing() {
  std::string missing;
  for (const char* program : {"initdb", "pg_ctl", "psql", "postgres"}) {
    const std::string path = postgres_bin_dir() + "/" + program;
    if (::access(path.c_str(), X_OK) != 0) missing += (missing.empty() ? "" : ", ") + path;
  }
  if (!missing.empty()) return missing + " not found (scripts/install-deps --test installs them)";
  if (running_as_root() && ::getpwnam("postgres") == nullptr) {
    return "no postgres user to run PostgreSQL as (scripts/install-deps --test creates it)";
  }
  return {};
}

postgres_server::postgres_server() {
  // Under /tmp even when TMPDIR is set: the postgres user must reach it.
  std::string pattern = "/tmp/badges-health-pg-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  }
  dir_ = pattern;
  data_ = dir_ + "/data";
  sockets_ = dir_ + "/sockets";
  log_ = dir_ + "/postgres.log";
  std::filesystem::create_directory(sockets_);
  const std::string pwfile = dir_ + "/superuser-password";
  std::ofstream(pwfile) << "superuser-Secret\n";
  for (const auto& path : {dir_, sockets_, pwfile}) give_to_postgres(path);

  const std::string bin = postgres_bin_dir();
  run_or_throw(
      {bin + "/initdb", "-D", data_, "-U", "postgres", "--auth-local=trust",
       "--auth-host=scram-sha-256", "--pwfile=" + pwfile, "-E", "UTF8", "--locale=C", "--no-sync"},
      dir_);
  // A port found free can be taken before the server binds it: try again.
  for (int attempt = 0;; ++attempt) {
    port_ = free_loopback_port();
    try {
      start();
      break;
    } catch (const std::runtime_error&) {
      if (attempt == 2) throw;
    }
  }
  psql(std::string("CREATE ROLE ") + user + " LOGIN PASSWORD '" + password + "'");
}

postgres_server::~postgres_server() {
  if (running_) {
    run({postgres_bin_dir() + "/pg_ctl", "-D", data_, "-m", "immediate", "-w", "stop"}, dir_);
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string postgres_server::uri(std::optional<std::string> pw) const {
  return std::string("postgresql://") + user + ":" + pw.value_or(password) +
         "@127.0.0.1:" + std::to_string(port_) + "/postgres";
}

void postgres_server::start() {
  const std::string options = "-p " + std::to_string(port_) + " -k " + sockets_ +
                              " -c listen_addresses=127.0.0.1 -c log_connections=on"
                              " -c fsync=off -c max_connections=30 -c shared_buffers=16MB";
  run_or_throw({postgres_bin_dir() + "/pg_ctl", "-D", data_, "-l", log_, "-o", options, "-w", "-t",
                "30", "start"},
               dir_);
  running_ = true;
}

void postgres_server::stop() {
  run_or_throw({postgres_bin_dir() + "/pg_ctl", "-D", data_, "-m", "fast", "-w", "stop"}, dir_);
  running_ = false;
}

std::string postgres_server::psql(const std::string& sql) const {
  auto r = run_or_throw({postgres_bin_dir() + "/psql", "-X", "-q", "-At", "-h", sockets_, "-p",
                         std::to_string(port_), "-U", "postgres", "-d", "postgres", "-c", sql},
                        dir_);
  while (!r.output.empty() && (r.output.back() == '\n' || r.output.back() == ' ')) {
    r.output.pop_back();
  }
  return r.output;
}

int postgres_server::role_connections() const {
  return std::stoi(
      psql(std::string("SELECT count(*) FROM pg_stat_activity WHERE usename = '") + user + "'"));
}

int postgres_server::authorized_connections() const {
  const std::string needle = std::string("connection authorized: user=") + user + " ";
  const std::string text = log();
  int count = 0;
  for (auto p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) ++count;
  return count;
}

std::string postgres_server::log() const { return read_file(log_); }

}  // namespace badges_health::test
