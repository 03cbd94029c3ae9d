// Test support: a real HAProxy in front of instances of the binary, started
// from a config written to a scratch directory, run in the foreground (-db)
// and killed when the test ends; server state is read over its admin socket.
// Servers can be checked over HTTP (a given request or HAProxy's bare
// default) and, optionally, through an agent port as well.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace badges_health::test {

/// Where HAProxy is looked for: $HAPROXY_BINARY if set, else /usr/sbin/haproxy.
std::string haproxy_binary();

/// The HAProxy agent port an instance started with `--agent-port` names in
/// its start-up line ("...; HAProxy agent on 127.0.0.1:PORT"); 0 when the
/// line names none within 2 s.
unsigned short announced_agent_port(server_process& instance);

class haproxy_process {
 public:
  struct options {
    /// Backend servers s1, s2, ... on 127.0.0.1 at these ports.
    std::vector<unsigned short> server_ports;
    /// `retries 2` and `option redispatch` when true; `retries 0` when false,
    /// so that every failed attempt to reach a server reaches the client.
    bool retry_elsewhere = false;
    /// The health check's request: `option httpchk <it>` expecting status
    /// 200. Empty: a bare `option httpchk`, HAProxy's own default, which
    /// sends `OPTIONS / HTTP/1.0` and takes any 2xx or 3xx as a pass.
    std::string httpchk = "GET /status";
    /// Agent ports, one per server in the order of server_ports: each
    /// server gets `agent-check agent-port P agent-inter 200ms`. Empty: no
    /// agent checks.
    std::vector<unsigned short> agent_ports;
    /// `weight N` on every server line; 0 keeps HAProxy's default of 1
    /// (which an agent's percentage can only scale down to 0 or 1).
    unsigned weight = 0;
  };

  /// Writes `dir`/haproxy.cfg and starts HAProxy with `-f cfg -db`; returns
  /// once its frontend accepts connections and its admin socket answers.
  /// Throws, with HAProxy's output, on failure.
  haproxy_process(const temp_dir& dir, options opts);
  ~haproxy_process();
  haproxy_process(const haproxy_process&) = delete;
  haproxy_process& operator=(const haproxy_process&) = delete;

  unsigned short frontend_port() const noexcept { return frontend_port_; }

  /// The "status" column of `show stat` for backend server `server` ("UP",
  /// "DOWN", "UP 1/2", "MAINT", ...), or "" when the socket gave no answer.
  std::string server_status(const std::string& server) const {
    return server_stat(server, "status");
  }

  /// Column `column` ("status", "stot", ...) of `show stat` for backend
  /// server `server`, or "" when the socket gave no answer.
  std::string server_stat(const std::string& server, const std::string& column) const;

  /// Sends one command to the admin socket; the full answer.
  std::string admin(const std::string& command) const;

  /// Everything HAProxy wrote to stdout and stderr so far.
  std::string log() const;

 private:
  std::string socket_path_;
  std::string log_path_;
  unsigned short frontend_port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace badges_health::test
