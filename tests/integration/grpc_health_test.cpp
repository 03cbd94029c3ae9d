// gRPC health (grpc.health.v1.Health) on the service's port, called by
// Python's grpc (Debian python3-grpcio) with hand-encoded messages and by
// curl: service names, unknown names and methods, Watch pushing changes,
// deadlines, the drain, and the AWS ALB mode.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.hpp"
#include "support/grpc_curl.hpp"
#include "support/health_service.hpp"
#include "support/raw_client.hpp"
#include "support/temp_dir.hpp"

namespace badges_health::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

// ServingStatus values.
constexpr int grpc_serving = 1;
constexpr int grpc_not_serving = 2;
constexpr int grpc_service_unknown = 3;

std::string grpc_client_script() {
  const std::string here = __FILE__;  // tests/integration/grpc_health_test.cpp
  const std::string tests = here.substr(0, here.rfind('/', here.rfind('/') - 1));
  return tests + "/support/grpc_health_client.py";
}
// Debian's interpreter, which sees python3-grpcio (a python3 earlier in
// PATH may not).
const std::string debian_python = "/usr/bin/python3";

std::vector<std::string> grpc_client_args(unsigned short port, std::vector<std::string> rest) {
  std::vector<std::string> argv{debian_python, grpc_client_script(), std::to_string(port)};
  argv.insert(argv.end(), rest.begin(), rest.end());
  return argv;
}

json grpc_check(unsigned short port, const std::string& service) {
  const auto r = run_program(grpc_client_args(port, {"check", service}));
  if (r.exit_code != 0) return json{{"error", r.err}};
  return json::parse(r.out, nullptr, false);
}

std::optional<json> next_watch_message(child_process& watch, milliseconds timeout = seconds(5)) {
  const auto line = watch.read_line(timeout);
  if (!line) return std::nullopt;
  return json::parse(*line, nullptr, false);
}

// A file check for each gate: passes while its file exists.
json file_gate(const temp_dir& dir, const std::string& name, bool critical) {
  return {{"name", name},      {"type", "file"},       {"path", dir.file(name)},
          {"when", "present"}, {"critical", critical}, {"interval", "100ms"},
          {"timeout", "50ms"}};
}

void open_file_gate(const temp_dir& dir, const std::string& name) {
  std::ofstream(dir.file(name)) << "x";
}
void close_file_gate(const temp_dir& dir, const std::string& name) {
  std::remove(dir.file(name).c_str());
}

class GrpcHealth : public ::testing::Test {
 protected:
  void SetUp() override {
    open_file_gate(dir_, "db");
    open_file_gate(dir_, "cache");
  }
  health_service start(std::vector<std::string> args = {}) {
    return health_service(
        dir_, json::array({file_gate(dir_, "db", true), file_gate(dir_, "cache", false)}),
        std::move(args));
  }
  temp_dir dir_;
};

TEST_F(GrpcHealth, CheckAnswersEveryName) {
  auto svc = start();
  ASSERT_TRUE(svc.wait_for_result("db"));
  ASSERT_TRUE(svc.wait_for_result("cache"));
  for (const std::string name : {"", "liveness", "readiness", "db", "cache"}) {
    EXPECT_EQ(grpc_check(svc.port(), name), (json{{"code", "OK"}, {"status", grpc_serving}}))
        << name;
  }
  const auto unknown = grpc_check(svc.port(), "no-such-check");
  EXPECT_EQ(unknown["code"], "NOT_FOUND") << unknown;
}

TEST_F(GrpcHealth, CheckFollowsTheChecks) {
  auto svc = start();
  ASSERT_TRUE(svc.wait_for_result("db"));
  // A non-critical failure: degraded, still grpc_serving; its own name is not.
  close_file_gate(dir_, "cache");
  ASSERT_TRUE(svc.wait_for([](const json& b) { return b["status"] == "degraded"; }));
  EXPECT_EQ(grpc_check(svc.port(), "")["status"], grpc_serving);
  EXPECT_EQ(grpc_check(svc.port(), "cache")["status"], grpc_not_serving);
  // A critical failure: the service is down, but alive.
  close_file_gate(dir_, "db");
  ASSERT_TRUE(svc.wait_for([](const json& b) { return b["status"] == "down"; }));
  EXPECT_EQ(grpc_check(svc.port(), "")["status"], grpc_not_serving);
  EXPECT_EQ(grpc_check(svc.port(), "readiness")["status"], grpc_not_serving);
  EXPECT_EQ(grpc_check(svc.port(), "db")["status"], grpc_not_serving);
  EXPECT_EQ(grpc_check(svc.port(), "liveness")["status"], grpc_serving);
}

TEST_F(GrpcHealth, OtherMethodsAreUnimplemented) {
  auto svc = start();
  const auto r = run_program(grpc_client_args(svc.port(), {"call", "Nope"}));
  EXPECT_EQ(json::parse(r.out, nullptr, false)["code"], "UNIMPLEMENTED") << r.out << r.err;
}

// gRPC calls are counted in their own series (by method and grpc-status,
// with their durations), not as HTTP 200s on route "other", and each has
// an access line of its own (protocol gRPC, its grpc-status).
TEST_F(GrpcHealth, CallsHaveTheirOwnSeriesAndAccessLines) {
  auto svc = start({"--access-log", "--log-format", "json"});
  ASSERT_TRUE(svc.wait_for_result("db"));
  EXPECT_EQ(grpc_check(svc.port(), "")["code"], "OK");
  EXPECT_EQ(grpc_check(svc.port(), "db")["code"], "OK");
  EXPECT_EQ(grpc_check(svc.port(), "no-such-check")["code"], "NOT_FOUND");
  run_program(grpc_client_args(svc.port(), {"call", "Nope"}));
  run_program(grpc_client_args(svc.port(), {"list"}));
  const auto res = request(svc.port(), "GET", "/metrics");
  ASSERT_TRUE(res);
  const std::string metrics = res->body();
  EXPECT_THAT(metrics,
              HasSubstr("badges_health_grpc_requests_total{method=\"Check\",grpc_status=\"0\"} 2"));
  EXPECT_THAT(metrics,
              HasSubstr("badges_health_grpc_requests_total{method=\"Check\",grpc_status=\"5\"} 1"));
  EXPECT_THAT(
      metrics,
      HasSubstr("badges_health_grpc_requests_total{method=\"other\",grpc_status=\"12\"} 1"));
  EXPECT_THAT(metrics,
              HasSubstr("badges_health_grpc_requests_total{method=\"List\",grpc_status=\"0\"} 1"));
  EXPECT_THAT(metrics,
              HasSubstr("badges_health_grpc_request_duration_seconds_count{method=\"Check\"} 3"));
  EXPECT_THAT(metrics,
              HasSubstr("badges_health_grpc_request_duration_seconds_count{method=\"List\"} 1"));
  EXPECT_THAT(metrics, Not(HasSubstr("route=\"other\",method=\"other\",code=\"200\"")))
      << "gRPC calls counted as HTTP answers";
  // Their access lines, as JSON fields. Access lines are written in
  // batches: within a second, or with the next line of another kind.
  const auto grpc_lines_written = [&svc] {
    const std::string text = svc.process().log();
    std::size_t n = 0;
    for (auto at = text.find(R"("protocol":"gRPC")"); at != std::string::npos;
         at = text.find(R"("protocol":"gRPC")", at + 1)) {
      ++n;
    }
    return n;
  };
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (grpc_lines_written() < 5 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::size_t grpc_lines = 0;
  std::istringstream log(svc.process().log());
  for (std::string line; std::getline(log, line);) {
    const json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || j.value("msg", "") != "access" || j.value("protocol", "") != "gRPC") {
      continue;
    }
    ++grpc_lines;
    EXPECT_EQ(j["method"], "POST") << line;
    EXPECT_TRUE(j.contains("grpc_status")) << line;
    EXPECT_GT(j["duration_us"].get<double>(), 0.0) << line;
  }
  EXPECT_EQ(grpc_lines, 5u) << svc.process().log();
}

// AWS ALB reads only the grpc-status: NOT_SERVING becomes UNAVAILABLE.
TEST_F(GrpcHealth, UnavailableWhenNotServingFlag) {
  auto svc = start({"--grpc-unavailable-when-not-serving"});
  ASSERT_TRUE(svc.wait_for_result("db"));
  EXPECT_EQ(grpc_check(svc.port(), "")["code"], "OK");
  close_file_gate(dir_, "db");
  ASSERT_TRUE(svc.wait_for([](const json& b) { return b["status"] == "down"; }));
  EXPECT_EQ(grpc_check(svc.port(), "")["code"], "UNAVAILABLE");
  EXPECT_EQ(grpc_check(svc.port(), "liveness")["code"], "OK");
}

// Watch sends the status at once and every change after, as it happens.
TEST_F(GrpcHealth, WatchPushesEveryChange) {
  auto svc = start();
  ASSERT_TRUE(svc.wait_for_result("db"));
  child_process watch_all(grpc_client_args(svc.port(), {"watch", "", "3"}));
  child_process watch_db(grpc_client_args(svc.port(), {"watch", "db", "3"}));
  EXPECT_EQ(next_watch_message(watch_all), (json{{"status", grpc_serving}}));
  EXPECT_EQ(next_watch_message(watch_db), (json{{"status", grpc_serving}}));
  close_file_gate(dir_, "db");
  EXPECT_EQ(next_watch_message(watch_all), (json{{"status", grpc_not_serving}}));
  EXPECT_EQ(next_watch_message(watch_db), (json{{"status", grpc_not_serving}}));
  open_file_gate(dir_, "db");
  EXPECT_EQ(next_watch_message(watch_all), (json{{"status", grpc_serving}}));
  EXPECT_EQ(next_watch_message(watch_db), (json{{"status", grpc_serving}}));
  // A non-critical check failing changes neither stream: nothing is sent.
  close_file_gate(dir_, "cache");
  ASSERT_TRUE(svc.wait_for([](const json& b) { return b["status"] == "degraded"; }));
  EXPECT_EQ(next_watch_message(watch_all),
            (json{{"end", "CANCELLED"}, {"details", "Locally cancelled by application!"}}));
}

// An unknown name is not an error for Watch: SERVICE_UNKNOWN, and the
// stream stays open (until the client's deadline here).
TEST_F(GrpcHealth, WatchOfAnUnknownNameStaysOpen) {
  auto svc = start();
  child_process watch(grpc_client_args(svc.port(), {"watch", "later", "5", "1.5"}));
  EXPECT_EQ(next_watch_message(watch), (json{{"status", grpc_service_unknown}}));
  const auto started = std::chrono::steady_clock::now();
  const auto end = next_watch_message(watch);
  ASSERT_TRUE(end);
  EXPECT_EQ((*end)["end"], "DEADLINE_EXCEEDED");
  EXPECT_GT(std::chrono::steady_clock::now() - started, milliseconds(900));
}

// The server ends a Watch at its grpc-timeout with DEADLINE_EXCEEDED in
// the trailers; curl has no deadline of its own here.
TEST_F(GrpcHealth, ServerHonoursGrpcTimeout) {
  auto svc = start();
  const std::string body = dir_.file("request");
  std::ofstream(body, std::ios::binary).write("\0\0\0\0\0", 5);
  const auto started = std::chrono::steady_clock::now();
  const auto r = run_program(
      {"curl", "-s", "-v", "--http2-prior-knowledge", "--max-time", "10", "--data-binary",
       "@" + body, "-H", "content-type: application/grpc", "-H", "te: trailers", "-H",
       "grpc-timeout: 400m",
       "http://127.0.0.1:" + std::to_string(svc.port()) + "/grpc.health.v1.Health/Watch"});
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("< grpc-status: 4"), std::string::npos) << r.err;
  EXPECT_LT(took, seconds(5));
}

// Check over curl: the status travels in trailers after the message.
TEST_F(GrpcHealth, CheckStatusIsInTrailers) {
  auto svc = start();
  const auto r = curl_grpc_call(svc.port(), "Check", dir_);
  ASSERT_EQ(r.exit_code, 0) << r.trace;
  EXPECT_TRUE(r.status_in_trailers) << "grpc-status must come in trailers: " << r.trace;
  EXPECT_EQ(r.bytes, std::string("\0\0\0\0\x02\x08\x01", 7));
}

// Draining: Watch streams hear NOT_SERVING at once, then end with OK when
// the server stops accepting; the process exits cleanly.
TEST_F(GrpcHealth, WatchFollowsTheDrainAndEndsCleanly) {
  auto svc = start({"--drain-delay", "500ms"});
  ASSERT_TRUE(svc.wait_for_result("db"));
  child_process watch(grpc_client_args(svc.port(), {"watch", "", "5"}));
  ASSERT_EQ(next_watch_message(watch), (json{{"status", grpc_serving}}));
  svc.process().signal(SIGTERM);
  EXPECT_EQ(next_watch_message(watch), (json{{"status", grpc_not_serving}}));
  EXPECT_EQ(next_watch_message(watch), (json{{"end", "OK"}}));
  EXPECT_EQ(svc.process().wait(seconds(10)), 0);
}

}  // namespace
}  // namespace badges_health::test
