// Dependency checks against real local dependencies: each check type
// passing and failing, timeouts, name resolution failures, hysteresis,
// aggregation into ok / degraded / down, and readiness before the first
// results. Waits poll the verbose status with a deadline; intervals are a
// few hundred milliseconds so state changes come quickly.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include "support/dependency_servers.hpp"
#include "support/health_service.hpp"
#include "support/raw_client.hpp"
#include "support/temp_dir.hpp"

namespace badges_health::test {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::seconds;

json tcp_check(const std::string& name, unsigned short port, json extra = json::object()) {
  json c = {{"name", name}, {"type", "tcp"},       {"host", "127.0.0.1"},
            {"port", port}, {"interval", "300ms"}, {"timeout", "200ms"}};
  c.update(extra);
  return c;
}

json http_check(const std::string& name, const std::string& url, json extra = json::object()) {
  json c = {
      {"name", name}, {"type", "http"}, {"url", url}, {"interval", "300ms"}, {"timeout", "200ms"}};
  c.update(extra);
  return c;
}

json file_check(const std::string& name, const std::string& path, const std::string& when,
                json extra = json::object()) {
  json c = {{"name", name}, {"type", "file"},      {"path", path},
            {"when", when}, {"interval", "300ms"}, {"timeout", "200ms"}};
  c.update(extra);
  return c;
}

std::string output_of(const json& body, const std::string& name) {
  const json out = json_at(body, "/checks/" + name + "/output");
  return out.is_string() ? out.get<std::string>() : std::string();
}

class HealthCheckTypes : public ::testing::Test {
 protected:
  // The verbose status once `name` has its first result; a test failure
  // (and an empty object) when none comes within 5 s.
  json first_result(const health_service& svc, const std::string& name) {
    auto body = svc.wait_for_result(name);
    if (!body) {
      ADD_FAILURE() << "check " << name << " produced no result within 5 s";
      return json::object();
    }
    return *body;
  }

  temp_dir dir_;
};

// ---------------------------------------------------------------- tcp ----

TEST_F(HealthCheckTypes, TcpCheckPassesWhenThePortAcceptsConnections) {
  tcp_dependency db;
  health_service svc(dir_, json::array({tcp_check("db", db.port())}));
  json body = first_result(svc, "db");
  EXPECT_EQ(body["checks"]["db"]["status"], "pass");
  EXPECT_FALSE(body["checks"]["db"].contains("output")) << body.dump();
  EXPECT_EQ(body["status"], "ok");
  // It was this port that answered.
  EXPECT_EQ(json_at(body, "/checks/db/transitions/0/reason"),
            "connected to 127.0.0.1:" + std::to_string(db.port()))
      << body.dump();
  const auto res = request(svc.port(), "GET", "/status");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
}

// A host name is resolved on the attempt and its addresses tried in turn.
TEST_F(HealthCheckTypes, TcpCheckResolvesAHostNameAndReportsTheAddressItReached) {
  tcp_dependency db;
  health_service svc(dir_, json::array({tcp_check("db", db.port(), {{"host", "localhost"}})}));
  json body = first_result(svc, "db");
  EXPECT_EQ(body["checks"]["db"]["status"], "pass") << body.dump();
  EXPECT_EQ(json_at(body, "/checks/db/transitions/0/reason"),
            "connected to 127.0.0.1:" + std::to_string(db.port()))
      << body.dump();
}

// The handshake's last ACK is held back and the connection reset, as
// HAProxy's connect checks do: the dependency's kernel drops the half-open
// connection, so its application has nothing to accept (no PostgreSQL
// backend forked and no "incomplete startup packet" logged per attempt).
TEST_F(HealthCheckTypes, TcpCheckLeavesTheDependencyNoConnectionToAccept) {
  tcp_dependency db;
  health_service svc(
      dir_,
      json::array({tcp_check("db", db.port(), {{"interval", "100ms"}, {"timeout", "50ms"}})}));
  // Distinct results seen: a lower bound on the attempts made.
  std::set<std::string> observed;
  const auto until = std::chrono::steady_clock::now() + milliseconds(1500);
  while (std::chrono::steady_clock::now() < until) {
    const json body = svc.verbose();
    const json at = json_at(body, "/checks/db/observedAt");
    if (at.is_string()) {
      EXPECT_EQ(json_at(body, "/checks/db/status"), "pass") << body.dump();
      observed.insert(at.get<std::string>());
    }
    std::this_thread::sleep_for(milliseconds(30));
  }
  svc.process().signal(SIGINT);
  svc.process().wait();
  // Anything the attempts left to accept has arrived by now.
  std::this_thread::sleep_for(milliseconds(200));
  ASSERT_GE(observed.size(), 4u) << "too few attempts to judge";
  // Every attempt accepted would be at least as many as observed; allow a
  // few that a loaded machine delayed past the held ACK's timer (200 ms,
  // TCP_DELACK_MAX).
  EXPECT_LE(db.connections() * 2, observed.size())
      << db.connections() << " connections accepted for " << observed.size() << " attempts seen";
}

TEST_F(HealthCheckTypes, TcpCheckFailsWhenNothingListensOnThePort) {
  tcp_dependency db;
  db.close();
  health_service svc(dir_, json::array({tcp_check("db", db.port())}));
  json body = first_result(svc, "db");
  EXPECT_EQ(body["checks"]["db"]["status"], "fail");
  const std::string out = output_of(body, "db");
  EXPECT_NE(out.find("connect 127.0.0.1:" + std::to_string(db.port())), std::string::npos) << out;
  EXPECT_NE(out.find("refused"), std::string::npos) << out;
  const auto res = request(svc.port(), "GET", "/status");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 503);
  EXPECT_EQ(json::parse(res->body())["status"], "down");
}

TEST_F(HealthCheckTypes, UnresolvableHostIsAFailedCheckAndTheServerKeepsServing) {
  health_service svc(
      dir_,
      json::array(
          {tcp_check("tcpdns", 5432,
                     {{"host", "no-such-host.invalid"}, {"timeout", "1s"}, {"interval", "2s"}}),
           http_check("httpdns", "http://no-such-host.invalid/health",
                      {{"timeout", "1s"}, {"interval", "2s"}})}));
  auto body = svc.wait_for(
      [](const json& b) { return all_checks_have_results(b) && b["checks"].size() == 2; });
  ASSERT_TRUE(body) << "no results for the unresolvable hosts within 5 s";
  for (const std::string name : {"tcpdns", "httpdns"}) {
    EXPECT_EQ((*body)["checks"][name]["status"], "fail") << name;
    // Either the resolver said so, or (with a resolver that does not
    // answer) the attempt timed out; both are failures that name a cause.
    const std::string out = output_of(*body, name);
    EXPECT_TRUE(out.find("resolve no-such-host.invalid") != std::string::npos ||
                out.find("timed out after 1s") != std::string::npos)
        << name << ": " << out;
  }
  EXPECT_TRUE(svc.process().running());
  const auto live = request(svc.port(), "GET", "/livez");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->result_int(), 200);
}

// --------------------------------------------------------------- http ----

TEST_F(HealthCheckTypes, HttpCheckPassesOn200) {
  http_dependency api;
  api.answer_ok("fine");
  health_service svc(dir_, json::array({http_check("api", api.url())}));
  json body = first_result(svc, "api");
  EXPECT_EQ(body["checks"]["api"]["status"], "pass") << body.dump();
  EXPECT_EQ(body["checks"]["api"]["type"], "http");
  EXPECT_GE(api.requests(), 1u);
}

TEST_F(HealthCheckTypes, HttpCheckFailsOn500) {
  http_dependency api;
  api.answer_error();
  health_service svc(dir_, json::array({http_check("api", api.url())}));
  json body = first_result(svc, "api");
  EXPECT_EQ(body["checks"]["api"]["status"], "fail");
  EXPECT_EQ(output_of(body, "api"), "unexpected status 500");
  EXPECT_EQ(body["status"], "down");
}

TEST_F(HealthCheckTypes, HttpCheckPassesOnACodeListedInExpectStatus) {
  http_dependency api;
  api.answer_error();
  health_service svc(dir_,
                     json::array({http_check("api", api.url(),
                                             {{"expect_status", json::array({"200-204", 500})}})}));
  json body = first_result(svc, "api");
  EXPECT_EQ(body["checks"]["api"]["status"], "pass") << body.dump();
}

TEST_F(HealthCheckTypes, HttpCheckPassesWhenTheBodyHasTheExpectedText) {
  http_dependency api;
  api.answer_ok(R"({"database":"ready"})");
  health_service svc(dir_,
                     json::array({http_check("api", api.url(), {{"expect_body", "\"ready\""}})}));
  json body = first_result(svc, "api");
  EXPECT_EQ(body["checks"]["api"]["status"], "pass") << body.dump();
}

TEST_F(HealthCheckTypes, HttpCheckFailsWhenTheBodyLacksTheExpectedText) {
  http_dependency api;
  api.answer_ok(R"({"database":"starting"})");
  health_service svc(dir_,
                     json::array({http_check("api", api.url(), {{"expect_body", "\"ready\""}})}));
  json body = first_result(svc, "api");
  EXPECT_EQ(body["checks"]["api"]["status"], "fail");
  EXPECT_EQ(output_of(body, "api"), "status 200 but body lacks '\"ready\"'");
}

TEST_F(HealthCheckTypes, HttpCheckFailsWhenTheAnswerComesAfterTheTimeout) {
  http_dependency api;
  api.answer_slowly(milliseconds(800));
  health_service svc(dir_, json::array({http_check("api", api.url(), {{"interval", "1s"}})}));
  json body = first_result(svc, "api");
  EXPECT_EQ(body["checks"]["api"]["status"], "fail");
  EXPECT_EQ(output_of(body, "api"), "timed out after 200ms");
  EXPECT_GE(body["checks"]["api"]["durationMs"].get<double>(), 190.0);
  EXPECT_GE(api.requests(), 1u) << "the request never reached the slow server";
}

TEST_F(HealthCheckTypes, HttpCheckAgainstAServerThatAcceptsButNeverAnswersTimesOut) {
  tcp_dependency mute;
  mute.set_mode(tcp_dependency::mode::hold_open);
  health_service svc(
      dir_,
      json::array({http_check("api", "http://127.0.0.1:" + std::to_string(mute.port()) + "/")}));
  json body = first_result(svc, "api");
  EXPECT_EQ(body["checks"]["api"]["status"], "fail");
  EXPECT_NE(output_of(body, "api").find("timed out"), std::string::npos) << body.dump();
  EXPECT_GE(mute.connections(), 1u);
}

// --------------------------------------------------------------- file ----

TEST_F(HealthCheckTypes, FileCheckWhenPresentPassesIfTheFileExists) {
  const std::string path = dir_.write("flag", "x");
  health_service svc(dir_, json::array({file_check("flag", path, "present")}));
  json body = first_result(svc, "flag");
  EXPECT_EQ(body["checks"]["flag"]["status"], "pass") << body.dump();
}

TEST_F(HealthCheckTypes, FileCheckWhenPresentFailsIfTheFileIsMissing) {
  const std::string path = dir_.file("flag");
  health_service svc(dir_, json::array({file_check("flag", path, "present")}));
  json body = first_result(svc, "flag");
  EXPECT_EQ(body["checks"]["flag"]["status"], "fail");
  EXPECT_EQ(output_of(body, "flag"), path + " is absent");
}

TEST_F(HealthCheckTypes, FileCheckWhenAbsentPassesIfTheFileIsMissing) {
  const std::string path = dir_.file("maintenance");
  health_service svc(dir_, json::array({file_check("maintenance", path, "absent")}));
  json body = first_result(svc, "maintenance");
  EXPECT_EQ(body["checks"]["maintenance"]["status"], "pass") << body.dump();
}

TEST_F(HealthCheckTypes, FileCheckWhenAbsentFailsIfTheFileExists) {
  const std::string path = dir_.write("maintenance", "");
  health_service svc(dir_, json::array({file_check("maintenance", path, "absent")}));
  json body = first_result(svc, "maintenance");
  EXPECT_EQ(body["checks"]["maintenance"]["status"], "fail");
  EXPECT_EQ(output_of(body, "maintenance"), path + " is present");
}

// --------------------------------------------------------------- disk ----

TEST_F(HealthCheckTypes, DiskCheckWithMinFreePercentZeroPasses) {
  health_service svc(dir_, json::array({{{"name", "disk"},
                                         {"type", "disk"},
                                         {"path", dir_.path()},
                                         {"min_free_percent", 0},
                                         {"interval", "300ms"},
                                         {"timeout", "200ms"}}}));
  json body = first_result(svc, "disk");
  EXPECT_EQ(body["checks"]["disk"]["status"], "pass") << body.dump();
  EXPECT_EQ(body["checks"]["disk"]["type"], "disk");
}

TEST_F(HealthCheckTypes, DiskCheckWithAHugeMinFreeBytesFails) {
  health_service svc(dir_, json::array({{{"name", "disk"},
                                         {"type", "disk"},
                                         {"path", dir_.path()},
                                         {"min_free_bytes", 1'000'000'000'000'000'000ULL},
                                         {"interval", "300ms"},
                                         {"timeout", "200ms"}}}));
  json body = first_result(svc, "disk");
  EXPECT_EQ(body["checks"]["disk"]["status"], "fail");
  EXPECT_NE(output_of(body, "disk").find("below min_free_bytes 1000000000000000000"),
            std::string::npos)
      << body.dump();
}

// ---------------------------------------------------------- hysteresis ----

class HealthHysteresis : public ::testing::Test {
 protected:
  temp_dir dir_;
};

TEST_F(HealthHysteresis, FirstResultDecidesAtOnceWithoutWaitingForRiseOrFall) {
  tcp_dependency up;
  tcp_dependency gone;
  gone.close();
  health_service svc(dir_,
                     json::array({tcp_check("up", up.port(), {{"rise", 5}, {"fall", 5}}),
                                  tcp_check("gone", gone.port(), {{"rise", 5}, {"fall", 5}})}));
  auto body = svc.wait_for(
      [](const json& b) { return all_checks_have_results(b) && b["checks"].size() == 2; });
  ASSERT_TRUE(body);
  // The first results, not five of them: one failure is enough to fail.
  EXPECT_EQ((*body)["checks"]["up"]["status"], "pass");
  EXPECT_EQ((*body)["checks"]["gone"]["status"], "fail");
  EXPECT_LE((*body)["checks"]["gone"]["consecutiveFailures"].get<int>(), 2) << body->dump();
}

TEST_F(HealthHysteresis, FallThreeKeepsPassingThroughTwoFailuresAndFailsOnTheThird) {
  tcp_dependency db;
  health_service svc(
      dir_, json::array({tcp_check(
                "db", db.port(),
                {{"interval", "250ms"}, {"timeout", "150ms"}, {"rise", 2}, {"fall", 3}})}));
  auto first = svc.wait_for_result("db");
  ASSERT_TRUE(first);
  ASSERT_EQ((*first)["checks"]["db"]["status"], "pass");

  db.close();
  bool saw_one = false;
  bool saw_two = false;
  std::string early_failure;  // a response that failed before three failures
  std::optional<json> after_three;
  std::optional<unsigned> code_after_three;
  const auto deadline = std::chrono::steady_clock::now() + seconds(5);
  while (std::chrono::steady_clock::now() < deadline && !after_three) {
    const auto res = request(svc.port(), "GET", "/status?verbose=true");
    ASSERT_TRUE(res);
    json body = json::parse(res->body());
    json& db_state = body["checks"]["db"];
    const int failures = db_state["consecutiveFailures"].get<int>();
    if (failures >= 3) {
      after_three = body;
      code_after_three = res->result_int();
    } else if (failures > 0) {
      (failures == 1 ? saw_one : saw_two) = true;
      if (db_state["status"] != "pass" || body["status"] != "ok" || res->result_int() != 200) {
        early_failure = std::to_string(res->result_int()) + " " + body.dump();
      }
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_TRUE(after_three) << "three consecutive failures were never reported";
  EXPECT_TRUE(saw_one) << "never observed the state after exactly one failure";
  EXPECT_TRUE(saw_two) << "never observed the state after exactly two failures";
  EXPECT_EQ(early_failure, "") << "status changed before `fall` (3) failures";
  EXPECT_EQ((*after_three)["checks"]["db"]["status"], "fail");
  EXPECT_EQ((*after_three)["status"], "down");
  EXPECT_EQ(code_after_three, 503u);
  EXPECT_TRUE(
      svc.process().wait_for_log("check db: pass -> fail (3 consecutive failures)", seconds(2)))
      << svc.process().log();
}

TEST_F(HealthHysteresis, RiseTwoStaysFailingAfterOnePassAndPassesOnTheSecond) {
  tcp_dependency db;
  db.close();
  health_service svc(
      dir_, json::array({tcp_check(
                "db", db.port(),
                {{"interval", "250ms"}, {"timeout", "150ms"}, {"rise", 2}, {"fall", 3}})}));
  auto first = svc.wait_for_result("db");
  ASSERT_TRUE(first);
  ASSERT_EQ((*first)["checks"]["db"]["status"], "fail");

  db.reopen();
  // Passes are counted by distinct observation times with no failures.
  std::string last_pass_seen;
  int passes = 0;
  std::string early_pass;  // a response that passed after a single pass
  bool saw_failing_after_one_pass = false;
  std::optional<json> passing;
  std::optional<unsigned> passing_code;
  const auto deadline = std::chrono::steady_clock::now() + seconds(5);
  while (std::chrono::steady_clock::now() < deadline && !passing) {
    const auto res = request(svc.port(), "GET", "/status?verbose=true");
    ASSERT_TRUE(res);
    json body = json::parse(res->body());
    json& db_state = body["checks"]["db"];
    if (db_state["consecutiveFailures"] == 0) {
      const std::string observed = db_state["observedAt"].get<std::string>();
      if (observed != last_pass_seen) {
        last_pass_seen = observed;
        ++passes;
      }
      if (db_state["status"] == "pass") {
        passing = body;
        passing_code = res->result_int();
        if (passes < 2) early_pass = body.dump();
      } else if (passes == 1) {
        saw_failing_after_one_pass = body["status"] == "down" && res->result_int() == 503;
      }
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_TRUE(passing) << "the check never passed again";
  EXPECT_TRUE(saw_failing_after_one_pass) << "never observed down after exactly one pass";
  EXPECT_EQ(early_pass, "") << "passed after a single pass with rise 2";
  EXPECT_EQ(passes, 2);
  EXPECT_EQ((*passing)["status"], "ok");
  EXPECT_EQ(passing_code, 200u);
}

// --------------------------------------------------------- aggregation ----

class HealthAggregation : public ::testing::Test {
 protected:
  temp_dir dir_;
};

TEST_F(HealthAggregation, FailingCriticalCheckMakesStatusDownWith503) {
  const std::string present = dir_.write("present", "");
  health_service svc(dir_,
                     json::array({file_check("passing", present, "present"),
                                  file_check("critical_gone", dir_.file("missing"), "present"),
                                  file_check("optional_gone", dir_.file("missing"), "present",
                                             {{"critical", false}})}));
  ASSERT_TRUE(svc.wait_for(all_checks_have_results));
  const auto res = request(svc.port(), "GET", "/status");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 503);
  EXPECT_EQ(json::parse(res->body())["status"], "down");
  EXPECT_EQ(res->base().count("x-envoy-degraded"), 0u);
  const auto ready = request(svc.port(), "GET", "/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->result_int(), 503);
  EXPECT_EQ(svc.verbose()["ready"], false) << "verbose ready must say what /readyz answers";
}

TEST_F(HealthAggregation, OnlyNonCriticalFailingMakesStatusDegradedWithEnvoyHeader) {
  const std::string present = dir_.write("present", "");
  health_service svc(dir_, json::array({file_check("passing", present, "present"),
                                        file_check("optional_gone", dir_.file("missing"), "present",
                                                   {{"critical", false}})}));
  ASSERT_TRUE(svc.wait_for(all_checks_have_results));
  const auto res = request(svc.port(), "GET", "/status");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
  EXPECT_EQ(json::parse(res->body())["status"], "degraded");
  EXPECT_EQ(res->base()["x-envoy-degraded"], "true");
  const auto ready = request(svc.port(), "GET", "/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->result_int(), 200);
  EXPECT_EQ(json::parse(ready->body())["ready"], true);
  EXPECT_EQ(svc.verbose()["ready"], true);
}

TEST_F(HealthAggregation, AllChecksPassingIsOkWithoutTheDegradedHeader) {
  const std::string present = dir_.write("present", "");
  health_service svc(
      dir_, json::array({file_check("critical_ok", present, "present"),
                         file_check("optional_ok", present, "present", {{"critical", false}})}));
  ASSERT_TRUE(svc.wait_for(all_checks_have_results));
  const auto res = request(svc.port(), "GET", "/status");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
  EXPECT_EQ(json::parse(res->body())["status"], "ok");
  EXPECT_EQ(res->base().count("x-envoy-degraded"), 0u);
}

// ----------------------------------------------------------- readiness ----

class HealthReadiness : public ::testing::Test {
 protected:
  temp_dir dir_;
};

TEST_F(HealthReadiness, ReadyzAnswers503UntilEveryCheckHasAFirstResult) {
  http_dependency hung;
  hung.never_answer();
  // Non-critical, so that once it has failed the service is degraded and
  // ready: the 503 before is about the missing result, not the failure.
  health_service svc(
      dir_,
      json::array({http_check("hung", hung.url(),
                              {{"interval", "5s"}, {"timeout", "1s"}, {"critical", false}})}));
  const auto started = std::chrono::steady_clock::now();

  const auto before = request(svc.port(), "GET", "/readyz");
  ASSERT_TRUE(before);
  EXPECT_EQ(before->result_int(), 503);
  EXPECT_EQ(json::parse(before->body())["ready"], false);
  json pending = svc.verbose();
  EXPECT_EQ(pending["checks"]["hung"]["status"], "pending") << pending.dump();
  EXPECT_TRUE(pending["checks"]["hung"]["observedAt"].is_null()) << pending.dump();
  EXPECT_EQ(pending["ready"], false);

  std::optional<unsigned> code;
  ASSERT_TRUE(eventually(
      [&] {
        const auto res = request(svc.port(), "GET", "/readyz");
        code = res ? std::optional<unsigned>(res->result_int()) : std::nullopt;
        return code == 200u;
      },
      seconds(4)))
      << "/readyz never became 200; last code " << (code ? std::to_string(*code) : "none");
  EXPECT_GE(std::chrono::steady_clock::now() - started, milliseconds(900))
      << "ready before the hanging check could have a result";
  json after = svc.verbose();
  EXPECT_EQ(after["checks"]["hung"]["status"], "fail");
  EXPECT_EQ(after["checks"]["hung"]["output"], "timed out after 1s");
  EXPECT_EQ(after["status"], "degraded");
}

}  // namespace
}  // namespace badges_health::test

namespace badges_health::test {
namespace {

// Verbose output says how slow a dependency is and how it has flapped.
class HealthTransitions : public ::testing::Test {
 protected:
  temp_dir dir_;
};

TEST_F(HealthTransitions, VerboseListsEachChangeWithItsReasonAndTheLatency) {
  const std::string flag = dir_.file("maintenance");
  // rise 1 and fall 1: every attempt that differs is a transition.
  health_service svc(
      dir_, json::array({file_check("switch", flag, "present", {{"rise", 1}, {"fall", 1}})}));
  ASSERT_TRUE(svc.wait_for_result("switch"));
  dir_.write("maintenance", "");
  ASSERT_TRUE(
      svc.wait_for([](const json& b) { return json_at(b, "/checks/switch/status") == "pass"; }));
  dir_.remove("maintenance");
  const auto body = svc.wait_for(
      [](const json& b) { return json_at(b, "/checks/switch/transitions").size() == 3; });
  ASSERT_TRUE(body) << svc.verbose().dump();
  const json t = json_at(*body, "/checks/switch/transitions");
  EXPECT_EQ(t[0]["from"], "pending");
  EXPECT_EQ(t[0]["to"], "fail");
  EXPECT_EQ(t[1]["from"], "fail");
  EXPECT_EQ(t[1]["to"], "pass");
  EXPECT_EQ(t[2]["to"], "fail");
  EXPECT_NE(t[2]["reason"].get<std::string>().find("is absent"), std::string::npos) << t.dump();
  EXPECT_LE(t[0]["at"].get<std::string>(), t[2]["at"].get<std::string>());
  const json c = json_at(*body, "/checks/switch");
  EXPECT_EQ(c["observedUnit"], "ms");
  EXPECT_TRUE(c["observedValue"].is_number());
}

}  // namespace
}  // namespace badges_health::test
