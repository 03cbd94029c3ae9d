// Test support: a real PostgreSQL server of its own (initdb into a scratch
// directory, pg_ctl start on a free 127.0.0.1 port with its own socket
// directory), a password-protected test role, and log_connections into a
// log file the test reads. As root (CI), every PostgreSQL program runs as
// the `postgres` user, since PostgreSQL refuses to run as root.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace badges_health::test {

/// Where the PostgreSQL 15 server programs are:
/// $POSTGRES_BIN_DIR if set, else /usr/lib/postgresql/15/bin.
std::string postgres_bin_dir();
/// Empty when initdb, pg_ctl and psql are there, else what is missing
/// (the reason a test skips).
std::string postgres_missing();

class postgres_server {
 public:
  /// The role the checks log in as, and its password.
  static constexpr const char* user = "badges";
  static constexpr const char* password = "pg-Secret-7Qz";

  /// initdb, start, create the role. Throws, with the programs' output,
  /// on failure.
  postgres_server();
  ~postgres_server();
  postgres_server(const postgres_server&) = delete;
  postgres_server& operator=(const postgres_server&) = delete;

  unsigned short port() const noexcept { return port_; }
  /// postgresql://badges:<password>@127.0.0.1:<port>/postgres, with
  /// `password` in place of the right one when given.
  std::string uri(std::optional<std::string> password = std::nullopt) const;

  /// pg_ctl stop -m fast (waits until stopped) / start (waits until ready).
  void stop();
  void start();

  /// Runs `sql` with psql as the superuser over the socket directory; the
  /// output without alignment (-At). Throws when psql fails.
  std::string psql(const std::string& sql) const;
  /// Backends of the test role in pg_stat_activity.
  int role_connections() const;
  /// "connection authorized" lines for the test role in the server log.
  int authorized_connections() const;
  /// The server log so far.
  std::string log() const;

 private:
  std::string dir_;
  std::string data_;
  std::string sockets_;
  std::string log_;
  unsigned short port_ = 0;
  bool running_ = false;
};

}  // namespace badges_health::test
