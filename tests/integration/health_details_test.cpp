// What the service tells about its checks: verbose /status (fields, build
// identity, the details token), /metrics (promtool-valid exposition, the
// check series, the metrics token), and that answering probes never
// probes the dependencies: results come from the background checks only.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/dependency_servers.hpp"
#include "support/health_service.hpp"
#include "support/raw_client.hpp"
#include "support/temp_dir.hpp"

namespace badges_health::test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

const std::vector<std::string> build_env = {"CURRENT_VERSION=9.8.7-test", "COMMIT_HASH=0123abcd"};

bool is_iso8601_utc_ms(const json& v) {
  static const std::regex pattern(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");
  return v.is_string() && std::regex_match(v.get<std::string>(), pattern);
}

// A passing critical tcp check and a failing non-critical file check.
json mixed_checks(const tcp_dependency& db, const temp_dir& dir) {
  return json::array({{{"name", "db"},
                       {"type", "tcp"},
                       {"host", "127.0.0.1"},
                       {"port", db.port()},
                       {"interval", "300ms"},
                       {"timeout", "200ms"}},
                      {{"name", "flag"},
                       {"type", "file"},
                       {"path", dir.file("flag")},
                       {"when", "present"},
                       {"critical", false},
                       {"interval", "300ms"},
                       {"timeout", "200ms"}}});
}

// The sample value of the series written exactly as `series` (name and
// labels), or nullopt when the exposition has no such line.
std::optional<std::string> sample(const std::string& exposition, const std::string& series) {
  std::istringstream lines(exposition);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(series + " ", 0) == 0) return line.substr(series.size() + 1);
  }
  return std::nullopt;
}

// ------------------------------------------------------------- verbose ----

class HealthVerbose : public ::testing::Test {
 protected:
  temp_dir dir_;
  tcp_dependency db_;
};

TEST_F(HealthVerbose, VerboseListsEveryCheckWithItsFields) {
  health_service svc(dir_, mixed_checks(db_, dir_), {}, build_env);
  auto found = svc.wait_for(all_checks_have_results);
  ASSERT_TRUE(found);
  json& body = *found;

  EXPECT_EQ(body["status"], "degraded");
  EXPECT_TRUE(is_iso8601_utc_ms(body["timestamp"])) << body.dump();
  EXPECT_EQ(body["version"], "9.8.7-test");
  EXPECT_EQ(body["commitHash"], "0123abcd");
  ASSERT_TRUE(body["uptimeSeconds"].is_number_integer()) << body.dump();
  EXPECT_GE(body["uptimeSeconds"].get<long long>(), 0);
  EXPECT_LT(body["uptimeSeconds"].get<long long>(), 60);
  EXPECT_EQ(body["ready"], true);
  ASSERT_TRUE(body["checks"].is_object());
  EXPECT_EQ(body["checks"].size(), 2u);

  json& db = body["checks"]["db"];
  EXPECT_EQ(db["status"], "pass");
  EXPECT_EQ(db["critical"], true);
  EXPECT_EQ(db["type"], "tcp");
  EXPECT_TRUE(is_iso8601_utc_ms(db["observedAt"])) << db.dump();
  ASSERT_TRUE(db["durationMs"].is_number()) << db.dump();
  EXPECT_GE(db["durationMs"].get<double>(), 0.0);
  EXPECT_LT(db["durationMs"].get<double>(), 200.0);
  EXPECT_EQ(db["consecutiveFailures"], 0);
  EXPECT_FALSE(db.contains("output")) << "a passing check has no output: " << db.dump();

  json& flag = body["checks"]["flag"];
  EXPECT_EQ(flag["status"], "fail");
  EXPECT_EQ(flag["critical"], false);
  EXPECT_EQ(flag["type"], "file");
  EXPECT_TRUE(is_iso8601_utc_ms(flag["observedAt"])) << flag.dump();
  EXPECT_TRUE(flag["durationMs"].is_number()) << flag.dump();
  EXPECT_GE(flag["consecutiveFailures"].get<int>(), 1);
  EXPECT_EQ(flag["output"], dir_.file("flag") + " is absent");
}

TEST_F(HealthVerbose, VerboseMaybeAnswers400InvalidParameter) {
  health_service svc(dir_, mixed_checks(db_, dir_));
  const auto res = request(svc.port(), "GET", "/status?verbose=maybe");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 400);
  json body = json::parse(res->body(), nullptr, false);
  ASSERT_TRUE(body.is_object()) << res->body();
  EXPECT_EQ(body["code"], "INVALID_PARAMETER");
}

TEST_F(HealthVerbose, VersionAndCommitFromTheEnvironmentAppearInVerboseAndBuildInfo) {
  health_service svc(dir_, mixed_checks(db_, dir_), {}, build_env);
  json body = svc.verbose();
  EXPECT_EQ(body["version"], "9.8.7-test");
  EXPECT_EQ(body["commitHash"], "0123abcd");
  const auto metrics = request(svc.port(), "GET", "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(sample(metrics->body(),
                   R"(badges_health_build_info{version="9.8.7-test",commit="0123abcd"})"),
            "1")
      << metrics->body();
}

// ------------------------------------------------------- details token ----

class HealthDetailsToken : public ::testing::Test {
 protected:
  HealthDetailsToken()
      : svc_(dir_, mixed_checks(db_, dir_), {"--details-token", "s3cret-details"}) {}

  temp_dir dir_;
  tcp_dependency db_;
  health_service svc_;
};

TEST_F(HealthDetailsToken, VerboseWithoutATokenAnswers401WithWwwAuthenticate) {
  const auto res = request(svc_.port(), "GET", "/status?verbose=true");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 401);
  EXPECT_EQ(res->base()["WWW-Authenticate"].substr(0, 7), "Bearer ")
      << res->base()["WWW-Authenticate"];
  EXPECT_EQ(json::parse(res->body())["code"], "UNAUTHORIZED");
  EXPECT_EQ(res->body().find("checks"), std::string::npos) << res->body();
}

TEST_F(HealthDetailsToken, VerboseWithAWrongTokenAnswers401WithWwwAuthenticate) {
  for (const std::string header :
       {"Authorization: Bearer wrong\r\n", "Authorization: Bearer s3cret-detail\r\n",
        "Authorization: Bearer s3cret-detailsX\r\n",
        "Authorization: Basic czNjcmV0LWRldGFpbHM=\r\n"}) {
    const auto res = request(svc_.port(), "GET", "/status?verbose=true", header);
    ASSERT_TRUE(res) << header;
    EXPECT_EQ(res->result_int(), 401) << header;
    EXPECT_EQ(res->base()["WWW-Authenticate"].substr(0, 7), "Bearer ") << header;
    EXPECT_EQ(json::parse(res->body())["code"], "UNAUTHORIZED") << header;
  }
}

TEST_F(HealthDetailsToken, VerboseWithTheTokenAnswers200WithTheChecks) {
  const auto res = request(svc_.port(), "GET", "/status?verbose=true",
                           "Authorization: Bearer s3cret-details\r\n");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
  json body = json::parse(res->body());
  EXPECT_TRUE(body["checks"].contains("db")) << res->body();
  EXPECT_TRUE(body["checks"].contains("flag")) << res->body();
}

TEST_F(HealthDetailsToken, PlainStatusStaysOpenWithOnlyStatusAndTimestamp) {
  for (const std::string target : {"/status", "/status?verbose=false"}) {
    const auto res = request(svc_.port(), "GET", target);
    ASSERT_TRUE(res) << target;
    EXPECT_EQ(res->result_int(), 200) << target;
    json body = json::parse(res->body());
    ASSERT_TRUE(body.is_object()) << target;
    EXPECT_EQ(body.size(), 2u) << target << ": " << res->body();
    EXPECT_TRUE(body.contains("status")) << target;
    EXPECT_TRUE(is_iso8601_utc_ms(body["timestamp"])) << target << ": " << res->body();
  }
}

// ------------------------------------------------------------- metrics ----

class HealthMetrics : public ::testing::Test {
 protected:
  temp_dir dir_;
  tcp_dependency db_;
};

// The path of `program` on $PATH, or nullopt.
std::optional<std::string> find_on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

TEST_F(HealthMetrics, PromtoolAcceptsTheExpositionAfterTraffic) {
  const auto promtool = find_on_path("promtool");
  ASSERT_TRUE(promtool) << "promtool is not on PATH; install the Debian package 'prometheus' "
                           "(it provides /usr/bin/promtool) to run this test";
  health_service svc(dir_, mixed_checks(db_, dir_), {}, build_env);
  ASSERT_TRUE(svc.wait_for(all_checks_have_results));
  // Traffic on several routes, methods and codes, so every family has
  // labelled samples.
  for (const auto& [method, target] :
       std::vector<std::pair<std::string, std::string>>{{"GET", "/status"},
                                                        {"GET", "/readyz"},
                                                        {"GET", "/livez"},
                                                        {"HEAD", "/status"},
                                                        {"GET", "/nowhere"},
                                                        {"POST", "/status"},
                                                        {"GET", "/status?verbose=maybe"},
                                                        {"GET", "/"}}) {
    ASSERT_TRUE(request(svc.port(), method, target)) << method << " " << target;
  }
  const auto res = request(svc.port(), "GET", "/metrics");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->result_int(), 200);
  const std::string file = dir_.write("metrics.txt", res->body());
  const std::string out = dir_.file("promtool.out");
  const std::string command =
      "'" + *promtool + "' check metrics < '" + file + "' > '" + out + "' 2>&1";
  const int status = std::system(command.c_str());
  std::ifstream in(out);
  const std::string said((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(WIFEXITED(status)) << command;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "promtool says:\n"
                                    << said << "\nexposition:\n"
                                    << res->body();
}

TEST_F(HealthMetrics, ExpositionHasEveryExpectedFamilyAndTheCheckSeries) {
  health_service svc(dir_, mixed_checks(db_, dir_), {}, build_env);
  ASSERT_TRUE(svc.wait_for(all_checks_have_results));
  ASSERT_TRUE(request(svc.port(), "GET", "/status"));
  const auto res = request(svc.port(), "GET", "/metrics");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->result_int(), 200);
  EXPECT_EQ(res->base()["Content-Type"].substr(0, 10), "text/plain");
  const std::string& text = res->body();
  for (const std::string family :
       {"badges_health_http_requests_total", "badges_health_http_request_duration_seconds",
        "badges_health_status", "badges_health_check_up", "badges_health_check_duration_seconds",
        "badges_health_check_failures_total", "badges_health_open_connections",
        "badges_health_build_info"}) {
    EXPECT_NE(text.find("# TYPE " + family + " "), std::string::npos) << family << " missing:\n"
                                                                      << text;
  }
  EXPECT_NE(text.find("\nbadges_health_http_request_duration_seconds_bucket{"), std::string::npos)
      << text;
  EXPECT_NE(text.find("\nbadges_health_http_requests_total{"), std::string::npos) << text;
  EXPECT_EQ(sample(text, R"(badges_health_status{status="degraded"})"), "1") << text;
  EXPECT_EQ(sample(text, R"(badges_health_status{status="ok"})"), "0") << text;
  EXPECT_EQ(sample(text, "badges_health_ready"), "1") << "degraded is ready:\n" << text;
  EXPECT_EQ(sample(text, R"(badges_health_check_up{check="db",critical="true"})"), "1") << text;
  EXPECT_EQ(sample(text, R"(badges_health_check_up{check="flag",critical="false"})"), "0") << text;
  EXPECT_TRUE(sample(text, R"(badges_health_check_duration_seconds{check="db"})")) << text;
  const auto failures = sample(text, R"(badges_health_check_failures_total{check="flag"})");
  ASSERT_TRUE(failures) << text;
  EXPECT_GE(std::stoll(*failures), 1);
  EXPECT_EQ(sample(text, R"(badges_health_check_failures_total{check="db"})"), "0") << text;
  const auto open = sample(text, "badges_health_open_connections");
  ASSERT_TRUE(open) << text;
  EXPECT_GE(std::stoll(*open), 1) << "the connection asking for /metrics is open";
}

TEST_F(HealthMetrics, MetricsTokenGuardsMetricsButNotStatus) {
  health_service svc(dir_, mixed_checks(db_, dir_), {"--metrics-token", "m3trics"});
  const auto without = request(svc.port(), "GET", "/metrics");
  ASSERT_TRUE(without);
  EXPECT_EQ(without->result_int(), 401);
  EXPECT_EQ(without->base()["WWW-Authenticate"].substr(0, 7), "Bearer ");
  EXPECT_EQ(json::parse(without->body())["code"], "UNAUTHORIZED");
  EXPECT_EQ(without->body().find("badges_health_"), std::string::npos) << without->body();

  const auto wrong = request(svc.port(), "GET", "/metrics", "Authorization: Bearer m3tricz\r\n");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->result_int(), 401);

  const auto right = request(svc.port(), "GET", "/metrics", "Authorization: Bearer m3trics\r\n");
  ASSERT_TRUE(right);
  EXPECT_EQ(right->result_int(), 200);
  EXPECT_NE(right->body().find("# TYPE badges_health_status gauge"), std::string::npos)
      << right->body();

  for (const std::string target : {"/status", "/status?verbose=true", "/readyz", "/livez"}) {
    const auto res = request(svc.port(), "GET", target);
    ASSERT_TRUE(res) << target;
    EXPECT_NE(res->result_int(), 401) << target << " must not need the metrics token";
  }
}

// --------------------------------------------------------- probe storm ----

// An http check, whose dependency counts every request it receives (a tcp
// check's connection is reset before the dependency can accept it).
TEST(HealthProbeStorm, ThousandStatusRequestsSendNoRequestToTheDependency) {
  temp_dir dir;
  http_dependency db;
  health_service svc(dir, json::array({{{"name", "db"},
                                        {"type", "http"},
                                        {"url", db.url("/health")},
                                        {"interval", "30s"},
                                        {"timeout", "1s"}}}));
  ASSERT_TRUE(eventually(
      [&] {
        const auto res = request(svc.port(), "GET", "/readyz");
        return res && res->result_int() == 200;
      },
      seconds(5)))
      << "never ready";
  ASSERT_TRUE(eventually([&] { return db.requests() >= 1; }, seconds(2)));
  const std::size_t before = db.requests();

  constexpr int connections = 10;
  constexpr int per_connection = 100;
  std::atomic<int> ok{0};
  std::atomic<int> broken{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < connections; ++i) {
    clients.emplace_back([&] {
      try {
        raw_client c(svc.port());
        for (int n = 0; n < per_connection; ++n) {
          c.send("GET /status HTTP/1.1\r\nHost: localhost\r\n\r\n");
          const auto res = c.read_response();
          if (!res) {
            broken.fetch_add(1);
            return;
          }
          if (res->result_int() == 200) ok.fetch_add(1);
        }
      } catch (const std::exception&) {
        broken.fetch_add(1);
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(broken.load(), 0);
  EXPECT_EQ(ok.load(), connections * per_connection);

  // Absence can only be shown by waiting a little: give any request the
  // probes might have caused time to arrive (the next scheduled attempt
  // is 30 s away).
  const bool changed = eventually([&] { return db.requests() != before; }, milliseconds(300));
  EXPECT_FALSE(changed) << "dependency requests went from " << before << " to " << db.requests();
  EXPECT_EQ(db.requests(), before);
}

}  // namespace
}  // namespace badges_health::test
