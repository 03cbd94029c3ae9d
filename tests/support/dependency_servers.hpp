// Test support: real stand-ins for the dependencies that checks probe, on
// 127.0.0.1 ephemeral ports, each served by its own thread. A TCP listener
// that counts connections and can go away and come back on the same port,
// and an HTTP server whose answer can be switched while it runs.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace badges_health::test {

/// A TCP listener on 127.0.0.1 that accepts and counts connections.
class tcp_dependency {
 public:
  enum class mode {
    /// Accept, then close at once (a port that is up).
    close_at_once,
    /// Accept and keep the connection open without ever writing (a server
    /// that hangs after the handshake).
    hold_open,
  };

  /// Binds 127.0.0.1:0 and starts listening. Throws on failure.
  tcp_dependency();
  ~tcp_dependency();
  tcp_dependency(const tcp_dependency&) = delete;
  tcp_dependency& operator=(const tcp_dependency&) = delete;

  unsigned short port() const noexcept { return port_; }
  /// Connections accepted since construction.
  std::size_t connections() const noexcept { return connections_.load(); }
  void set_mode(mode m) noexcept { mode_.store(m); }
  /// Stops listening (and drops held connections): connects are refused
  /// until reopen(). Returns once the port is closed.
  void close();
  /// Listens again on the same port. Returns once it listens; throws if the
  /// port cannot be bound again.
  void reopen();

 private:
  void run();
  void apply_wanted_state();
  void open_listener();
  void close_listener();
  void reserve_port();
  void release_reserve();

  unsigned short port_ = 0;
  int listen_fd_ = -1;
  // While closed: a bound, non-listening socket on port_, so connects are
  // refused and no bind to port 0 or outgoing connection elsewhere can be
  // given the port before reopen().
  int reserve_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::vector<int> held_;
  std::atomic<std::size_t> connections_{0};
  std::atomic<mode> mode_{mode::close_at_once};

  // Listening state the caller asked for, applied by the worker thread so
  // that only it ever touches the descriptors it polls.
  std::mutex mutex_;
  std::condition_variable changed_;
  bool want_listening_ = true;
  bool listening_ = false;
  std::string error_;

  std::atomic<bool> stopping_{false};
  std::thread worker_;
};

/// A port on 127.0.0.1 that refuses every connection for as long as this
/// object lives: the socket is bound (without SO_REUSEADDR) and never
/// listens. Unlike a port found free and then closed, no other process's
/// listener and no outgoing connection's local end can take it meanwhile,
/// so a check aimed at it fails every time.
class closed_tcp_port {
 public:
  /// Binds 127.0.0.1:0. Throws on failure.
  closed_tcp_port();
  ~closed_tcp_port();
  closed_tcp_port(const closed_tcp_port&) = delete;
  closed_tcp_port& operator=(const closed_tcp_port&) = delete;

  unsigned short port() const noexcept { return port_; }

 private:
  int fd_ = -1;
  unsigned short port_ = 0;
};

/// A port on 127.0.0.1 that the kernel says is free now (bound to 0, then
/// released), for a server started by another program that needs its port
/// on its command line (PostgreSQL, Redis). Another test may take it
/// before that server binds it: callers retry with a new one.
unsigned short free_loopback_port();

/// A minimal HTTP/1.1 server on 127.0.0.1: one request per connection,
/// answered according to the behaviour set last.
class http_dependency {
 public:
  /// Binds 127.0.0.1:0; answers 200 with body "ok" until told otherwise.
  http_dependency();
  ~http_dependency();
  http_dependency(const http_dependency&) = delete;
  http_dependency& operator=(const http_dependency&) = delete;

  unsigned short port() const noexcept { return port_; }
  /// "http://127.0.0.1:<port><target>".
  std::string url(const std::string& target = "/health") const;

  void answer_ok(std::string body);
  void answer_error();
  /// Answers 200 with `body` only after `delay`.
  void answer_slowly(std::chrono::milliseconds delay, std::string body = "ok");
  /// Reads the request and never answers; the connection stays open until
  /// the client gives up.
  void never_answer();

  /// Complete request heads received so far.
  std::size_t requests() const noexcept { return requests_.load(); }

 private:
  enum class mode { ok, error, slow, silent };
  struct behaviour {
    mode how = mode::ok;
    std::string body = "ok";
    std::chrono::milliseconds delay{0};
  };
  struct connection {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };

  void set(behaviour b);
  void run();
  void serve(int fd);
  void reap(bool all);

  unsigned short port_ = 0;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::atomic<std::size_t> requests_{0};
  std::mutex mutex_;
  behaviour behaviour_;
  std::vector<connection> connections_;
  std::thread worker_;
};

}  // namespace badges_health::test
