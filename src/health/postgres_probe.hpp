// postgres check: a fresh connection per attempt through libpq's
// non-blocking API, the query sent, and a pass when it returns without
// error. Asio waits on libpq's socket, so no thread ever blocks on the
// database; cancel() (the scheduler's timeout) closes the connection.
#pragma once

#include <libpq-fe.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "badges_health/health/probe.hpp"

namespace badges_health::health {

class postgres_probe final : public probe, public std::enable_shared_from_this<postgres_probe> {
 public:
  postgres_probe(const check_spec& spec, boost::asio::any_io_executor ex);
  ~postgres_probe() override;
  void start(completion done) override;
  void cancel() noexcept override;

 private:
  using wait_type = boost::asio::posix::stream_descriptor::wait_type;

  void resolve_next(std::size_t index);
  void connect();
  void poll_connect();
  void send_query();
  void flush_query();
  void read_results();
  void wait(wait_type what, void (postgres_probe::*next)());
  /// Fails the attempt with libpq's words (passwords hidden) and the time taken.
  void fail(const std::string& why);
  void finish(probe_result r);
  /// Stops waiting on libpq's socket and gives the descriptor back to it.
  void forget_socket() noexcept;
  /// forget_socket(), then PQfinish: the connection is gone.
  void close() noexcept;
  std::string elapsed() const;

  std::string conninfo_;
  std::string query_;
  std::chrono::milliseconds timeout_;
  boost::asio::any_io_executor ex_;
  boost::asio::ip::tcp::resolver resolver_;
  // Host names of the conninfo and the addresses found for them (libpq's
  // `hostaddr`), so that libpq itself never calls the blocking getaddrinfo.
  std::vector<std::string> hosts_;
  std::vector<std::string> addresses_;
  PGconn* conn_ = nullptr;
  std::optional<boost::asio::posix::stream_descriptor> socket_;
  // The user's own `options` (the probe adds statement_timeout to them).
  std::string options_;
  // The first error among the query's results.
  std::string query_error_;
  completion done_;
  std::chrono::steady_clock::time_point started_;
  bool finished_ = false;
};

}  // namespace badges_health::health
