// postgres and redis checks against real servers of their own: passing,
// failing in the servers' words, outages and recovery, a slow query cut off
// without leaving a backend behind, a probe storm that opens no database
// connection, `${VAR}` in the checks file, and passwords never shown.
// Skips only when the PostgreSQL or redis programs are not installed.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "support/child_process.hpp"
#include "support/dependency_servers.hpp"
#include "support/health_service.hpp"
#include "support/postgres_server.hpp"
#include "support/raw_client.hpp"
#include "support/redis_server.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace badges_health::test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* wrong_password = "Wrong-pw-9Hx";

json postgres_check(const std::string& name, const std::string& conninfo,
                    json extra = json::object()) {
  json c = {{"name", name},
            {"type", "postgres"},
            {"conninfo", conninfo},
            {"interval", "400ms"},
            {"timeout", "300ms"},
            {"rise", 1},
            {"fall", 1}};
  c.update(extra);
  return c;
}

json redis_check(const std::string& name, unsigned short port, json extra = json::object()) {
  json c = {{"name", name},        {"type", "redis"},    {"host", "127.0.0.1"}, {"port", port},
            {"interval", "400ms"}, {"timeout", "300ms"}, {"rise", 1},           {"fall", 1}};
  c.update(extra);
  return c;
}

std::string db_check_output(const json& body, const std::string& name) {
  const json out = json_at(body, "/checks/" + name + "/output");
  return out.is_string() ? out.get<std::string>() : std::string();
}

std::string db_check_status(const json& body, const std::string& name) {
  const json s = json_at(body, "/checks/" + name + "/status");
  return s.is_string() ? s.get<std::string>() : std::string();
}

/// Verbose status once check `name` is `status`; a test failure (and an
/// empty object) when that does not come within `timeout`.
json wait_for_db_check(const health_service& svc, const std::string& name,
                       const std::string& status, milliseconds timeout = seconds(8)) {
  auto body =
      svc.wait_for([&](const json& b) { return db_check_status(b, name) == status; }, timeout);
  if (!body) {
    ADD_FAILURE() << "check " << name << " not " << status << " within " << timeout.count()
                  << " ms: " << svc.verbose().dump();
    return json::object();
  }
  return *body;
}

class PostgresChecks : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const auto missing = postgres_missing(); !missing.empty()) GTEST_SKIP() << missing;
    server_.emplace();
  }

  postgres_server& db() { return *server_; }

  temp_dir dir_;
  std::optional<postgres_server> server_;
};

TEST_F(PostgresChecks, PassesAgainstALiveServer) {
  health_service svc(dir_, json::array({postgres_check("db", db().uri())}));
  const json body = wait_for_db_check(svc, "db", "pass");
  EXPECT_EQ(body["status"], "ok") << body.dump();
  EXPECT_EQ(json_at(body, "/checks/db/type"), "postgres");
  EXPECT_GE(db().authorized_connections(), 1);
}

TEST_F(PostgresChecks, WrongPasswordFailsSayingAuthenticationFailed) {
  health_service svc(dir_, json::array({postgres_check("db", db().uri(wrong_password))}));
  const json body = wait_for_db_check(svc, "db", "fail");
  const std::string output = db_check_output(body, "db");
  EXPECT_THAT(output, HasSubstr("password authentication failed for user \"badges\""));
  EXPECT_THAT(output, HasSubstr(" ms)"));
  EXPECT_THAT(body.dump(), Not(HasSubstr(wrong_password)));
  EXPECT_EQ(body["status"], "down");
}

TEST_F(PostgresChecks, QueryErrorFailsWithTheServersMessage) {
  health_service svc(
      dir_,
      json::array({postgres_check("db", db().uri(), {{"query", "SELECT * FROM no_such_table"}})}));
  const json body = wait_for_db_check(svc, "db", "fail");
  EXPECT_THAT(db_check_output(body, "db"), HasSubstr("relation \"no_such_table\" does not exist"));
}

// The server stopped and started again, for a critical check (down) and a
// non-critical one (degraded).
struct outage_case {
  const char* name;
  bool critical;
  const char* status_while_down;
  unsigned http_status_while_down;
};

class PostgresOutage : public PostgresChecks, public ::testing::WithParamInterface<outage_case> {};

TEST_P(PostgresOutage, ServerStoppedFailsTheCheckAndStartedAgainPassesIt) {
  const outage_case& c = GetParam();
  health_service svc(dir_,
                     json::array({postgres_check("db", db().uri(), {{"critical", c.critical}})}));
  wait_for_db_check(svc, "db", "pass");

  db().stop();
  const json down = wait_for_db_check(svc, "db", "fail");
  EXPECT_EQ(down["status"], c.status_while_down) << down.dump();
  EXPECT_THAT(db_check_output(down, "db"), HasSubstr("Connection refused"));
  const auto res = request(svc.port(), "GET", "/status");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), c.http_status_while_down);

  db().start();
  const json up = wait_for_db_check(svc, "db", "pass");
  EXPECT_EQ(up["status"], "ok") << up.dump();
}

INSTANTIATE_TEST_SUITE_P(Criticality, PostgresOutage,
                         ::testing::Values(outage_case{"critical", true, "down", 503},
                                           outage_case{"not_critical", false, "degraded", 200}),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST_F(PostgresChecks, SlowQueryTimesOutAndLeavesNoConnectionBehind) {
  // One attempt in the window: the next comes 10 s later.
  health_service svc(
      dir_, json::array({postgres_check(
                "db", db().uri(),
                {{"query", "SELECT pg_sleep(5)"}, {"interval", "10s"}, {"timeout", "500ms"}})}));
  const json body = wait_for_db_check(svc, "db", "fail", seconds(5));
  EXPECT_THAT(db_check_output(body, "db"), HasSubstr("timed out after 500ms"));
  // pg_sleep(5) would keep a backend busy for 4.5 s more if the probe only
  // closed its socket.
  EXPECT_TRUE(eventually([&] { return db().role_connections() == 0; }, milliseconds(1500),
                         milliseconds(100)))
      << db().role_connections() << " backends of the check's role still there";
}

TEST_F(PostgresChecks, ProbeStormOpensNoDatabaseConnections) {
  health_service svc(dir_, json::array({postgres_check("db", db().uri(), {{"interval", "1s"}})}));
  wait_for_db_check(svc, "db", "pass");
  const int before = db().authorized_connections();
  const auto started = std::chrono::steady_clock::now();
  int answered = 0;
  for (int i = 0; i < 1000; ++i) {
    const auto res = request(svc.port(), "GET", "/status");
    if (res && res->result_int() == 200) ++answered;
  }
  const auto took =
      std::chrono::duration_cast<milliseconds>(std::chrono::steady_clock::now() - started);
  const int added = db().authorized_connections() - before;
  EXPECT_EQ(answered, 1000);
  // The schedule alone: one connection per interval (1 s), plus the one in
  // flight at each end.
  const auto scheduled = static_cast<int>(took.count() / 1000) + 2;
  EXPECT_LE(added, scheduled) << "1,000 requests in " << took.count() << " ms";
}

TEST_F(PostgresChecks, ConninfoFromAnEnvironmentVariable) {
  health_service svc(dir_, json::array({postgres_check("db", "${BADGES_TEST_PG_CONNINFO}")}), {},
                     {"BADGES_TEST_PG_CONNINFO=" + db().uri()});
  const json body = wait_for_db_check(svc, "db", "pass");
  EXPECT_EQ(body["status"], "ok");
}

TEST_F(PostgresChecks, PasswordsAppearNowhere) {
  const std::string keyword_form = "host=127.0.0.1 port=" + std::to_string(db().port()) +
                                   " dbname=postgres user=badges password=" + wrong_password;
  const json checks = json::array({postgres_check("db", db().uri()),
                                   postgres_check("wrong_uri", db().uri(wrong_password)),
                                   postgres_check("wrong_keywords", keyword_form)});
  health_service svc(dir_, checks, {"--log-level", "debug"});
  wait_for_db_check(svc, "wrong_keywords", "fail");
  wait_for_db_check(svc, "wrong_uri", "fail");
  wait_for_db_check(svc, "db", "pass");
  db().stop();
  wait_for_db_check(svc, "db", "fail");

  const std::string verbose = svc.verbose().dump();
  const auto metrics = request(svc.port(), "GET", "/metrics");
  ASSERT_TRUE(metrics);
  const auto printed = run_binary({"--config", svc.config_path(), "--print-config"});
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  EXPECT_THAT(printed.out, HasSubstr("postgresql://badges:****@127.0.0.1:"));
  EXPECT_THAT(printed.out, HasSubstr("password=****"));
  svc.process().signal(SIGTERM);
  svc.process().wait();
  for (const auto& [where, text] : {std::pair<std::string, std::string>{"log", svc.process().log()},
                                    {"verbose status", verbose},
                                    {"metrics", metrics->body()},
                                    {"--print-config", printed.out + printed.err}}) {
    EXPECT_THAT(text, Not(HasSubstr(postgres_server::password))) << where;
    EXPECT_THAT(text, Not(HasSubstr(wrong_password))) << where;
  }
}

class RedisChecks : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const auto missing = redis_missing(); !missing.empty()) GTEST_SKIP() << missing;
    server_.emplace();
  }

  temp_dir dir_;
  std::optional<redis_server> server_;
};

// Credentials as the checks file gives them, and what the check says.
struct redis_case {
  const char* name;
  json credentials;
  const char* status;
  const char* output;
};

class RedisAuth : public RedisChecks, public ::testing::WithParamInterface<redis_case> {};

TEST_P(RedisAuth, PingAfterAuth) {
  const redis_case& c = GetParam();
  health_service svc(dir_, json::array({redis_check("cache", server_->port(), c.credentials)}));
  const json body = wait_for_db_check(svc, "cache", c.status);
  EXPECT_THAT(db_check_output(body, "cache"), HasSubstr(c.output)) << body.dump();
  EXPECT_THAT(body.dump(), Not(HasSubstr(redis_server::password)));
  EXPECT_THAT(body.dump(), Not(HasSubstr(wrong_password)));
}

INSTANTIATE_TEST_SUITE_P(
    Credentials, RedisAuth,
    ::testing::Values(
        redis_case{"right_password", {{"password", redis_server::password}}, "pass", ""},
        redis_case{"default_user_named",
                   {{"username", "default"}, {"password", redis_server::password}},
                   "pass",
                   ""},
        redis_case{"wrong_password", {{"password", wrong_password}}, "fail", "AUTH failed"},
        redis_case{"no_password", json::object(), "fail", "NOAUTH"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST_F(RedisChecks, StoppedServerFailsTheCheck) {
  const unsigned short port = server_->port();
  health_service svc(
      dir_, json::array({redis_check("cache", port, {{"password", redis_server::password}})}));
  wait_for_db_check(svc, "cache", "pass");
  server_.reset();
  const json body = wait_for_db_check(svc, "cache", "fail");
  EXPECT_THAT(db_check_output(body, "cache"), HasSubstr("Connection refused"));
}

TEST_F(RedisChecks, PasswordFromAnEnvironmentVariableIsShownOnlyAsSet) {
  health_service svc(dir_,
                     json::array({redis_check("cache", server_->port(),
                                              {{"password", "${BADGES_TEST_REDIS_PW}"}})}),
                     {}, {std::string("BADGES_TEST_REDIS_PW=") + redis_server::password});
  wait_for_db_check(svc, "cache", "pass");
  const auto printed = run_binary({"--config", svc.config_path(), "--print-config"},
                                  {std::string("BADGES_TEST_REDIS_PW=") + redis_server::password});
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  EXPECT_THAT(printed.out, HasSubstr("\"passwordSet\": true"));
  EXPECT_THAT(printed.out, Not(HasSubstr(redis_server::password)));
}

// Needs no server: an unset variable stops start-up, naming field and variable.
TEST(ChecksFileVariables, UnsetVariableIsAConfigErrorNamingTheFieldAndTheVariable) {
  temp_dir dir;
  const std::string path = dir.write(
      "checks.json",
      json{{"checks", json::array({postgres_check("db", "${BADGES_TEST_UNSET_VARIABLE}")})}}
          .dump());
  const auto r = run_binary({"--config", path});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("checks[0].conninfo: environment variable "
                               "BADGES_TEST_UNSET_VARIABLE is not set"));
}

// libpq and its dependencies are loaded by the first postgres check, not at
// start: a process without one has none of them mapped, and one whose
// libpq is missing stops at start-up saying which check needs it.

bool maps_libpq(pid_t pid) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.find("libpq.so") != std::string::npos) return true;
  }
  return false;
}

TEST(LibpqLoading, ProcessWithoutAPostgresCheckDoesNotLoadLibpq) {
  server_process server({"--drain-delay", "0"});
  const auto res = request(server.port(), "GET", "/status");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
  EXPECT_FALSE(maps_libpq(server.pid())) << "libpq mapped with no postgres check configured";
}

TEST(LibpqLoading, PostgresCheckLoadsLibpq) {
  temp_dir dir;
  const std::string config = dir.write(
      "checks.json",
      json{{"checks", json::array({postgres_check("db", "postgresql://127.0.0.1:1/x")})}}.dump());
  server_process server({"--drain-delay", "0", "--config", config});
  EXPECT_TRUE(maps_libpq(server.pid())) << "the postgres check runs without libpq?";
}

TEST(LibpqLoading, MissingLibpqStopsStartUpNamingTheCheckAndThePackage) {
  // libpq replaced, in a mount namespace of the test's own, by a file
  // that is not a library: as on a machine without the libpq5 package.
  if (geteuid() != 0) GTEST_SKIP() << "needs root for a mount namespace (CI runs as root)";
  const auto found =
      run_program({"sh", "-c", "ldconfig -p | grep -m1 'libpq.so.5 ' | sed 's/.*=> //'"});
  std::string libpq = found.out;
  while (!libpq.empty() && (libpq.back() == '\n' || libpq.back() == ' ')) libpq.pop_back();
  ASSERT_FALSE(libpq.empty()) << "libpq.so.5 not found by ldconfig";
  temp_dir dir;
  const std::string config = dir.write(
      "checks.json",
      json{{"checks", json::array({postgres_check("db", "postgresql://127.0.0.1:1/x")})}}.dump());
  const auto run =
      run_program({"unshare", "--mount", "sh", "-c",
                   "mount --bind /dev/null \"$0\" && exec \"$1\" --port 0 --config \"$2\"", libpq,
                   BADGES_HEALTH_BINARY, config});
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_THAT(run.err, HasSubstr("checks[0].conninfo")) << run.err;
  EXPECT_THAT(run.err, HasSubstr("libpq.so.5")) << run.err;
  EXPECT_THAT(run.err, HasSubstr("libpq5")) << run.err;
}

}  // namespace
}  // namespace badges_health::test
