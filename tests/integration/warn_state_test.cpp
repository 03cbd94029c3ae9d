// The third state end to end: one disk check warning (free space below
// warn_free_percent 100) shows as warn wherever a check's state does:
// verbose output and its transitions, application/health+json, /status
// (degraded, 200, x-envoy-degraded), metrics, gRPC (SERVING) and the
// HAProxy agent (the degraded weight).
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "support/child_process.hpp"
#include "support/haproxy_process.hpp"
#include "support/health_service.hpp"
#include "support/raw_client.hpp"
#include "support/temp_dir.hpp"

namespace badges_health::test {
// Named, so that unity batches never merge these helpers with another
// file's.
namespace warn_state {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string grpc_client_script() {
  const std::string here = __FILE__;  // tests/integration/warn_state_test.cpp
  const std::string tests = here.substr(0, here.rfind('/', here.rfind('/') - 1));
  return tests + "/support/grpc_health_client.py";
}

class WarnState : public ::testing::Test {
 protected:
  void SetUp() override {
    const json space = {
        {"name", "space"},     {"type", "disk"},     {"path", "/"}, {"warn_free_percent", 100},
        {"interval", "200ms"}, {"timeout", "100ms"}, {"rise", 1},   {"fall", 1}};
    svc_ = std::make_unique<health_service>(dir_, json::array({space}),
                                            std::vector<std::string>{"--agent-port", "0"});
    ASSERT_TRUE(svc_->wait_for_result("space")) << svc_->verbose().dump();
  }

  temp_dir dir_;
  std::unique_ptr<health_service> svc_;
};

TEST_F(WarnState, VerboseSaysWarnWithTheReasonTheFreeSpaceAndTheTransition) {
  const json body = svc_->verbose();
  const json space = json_at(body, "/checks/space");
  EXPECT_EQ(body["status"], "degraded") << body.dump();
  EXPECT_EQ(space["status"], "warn");
  EXPECT_NE(space.value("output", "").find("below warn_free_percent 100%"), std::string::npos)
      << space.dump();
  EXPECT_EQ(space["observedUnit"], "bytes") << "a disk check observes its free space";
  EXPECT_GT(space["observedValue"].get<double>(), 0.0);
  EXPECT_EQ(json_at(space, "/transitions/0/from"), "pending");
  EXPECT_EQ(json_at(space, "/transitions/0/to"), "warn");
}

TEST_F(WarnState, StatusIsDegradedWithTheEnvoyHeader) {
  const auto res = request(svc_->port(), "GET", "/status");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
  EXPECT_EQ((*res)["x-envoy-degraded"], "true");
  EXPECT_EQ(json::parse(res->body())["status"], "degraded");
}

TEST_F(WarnState, HealthJsonSaysWarnForTheCheckAndTheService) {
  const auto res = request(svc_->port(), "GET", "/status", "Accept: application/health+json\r\n");
  ASSERT_TRUE(res);
  const json body = json::parse(res->body());
  EXPECT_EQ(body["status"], "warn") << body.dump();
  EXPECT_EQ(json_at(body, "/checks/space:responseTime/0/status"), "warn") << body.dump();
}

TEST_F(WarnState, MetricsSayWarnAndUp) {
  const auto res = request(svc_->port(), "GET", "/metrics");
  ASSERT_TRUE(res);
  const std::string& text = res->body();
  EXPECT_NE(text.find("badges_health_check_status{check=\"space\",status=\"warn\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("badges_health_check_status{check=\"space\",status=\"pass\"} 0\n"),
            std::string::npos);
  EXPECT_NE(text.find("badges_health_check_up{check=\"space\",critical=\"true\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("badges_health_status{status=\"degraded\"} 1\n"), std::string::npos);
}

TEST_F(WarnState, GrpcAnswersServingForAWarningCheck) {
  const auto r = run_program(
      {"/usr/bin/python3", grpc_client_script(), std::to_string(svc_->port()), "check", "space"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out), (json{{"code", "OK"}, {"status", 1}})) << r.out;
}

TEST_F(WarnState, TheAgentGivesTheDegradedWeight) {
  const unsigned short agent = announced_agent_port(svc_->process());
  ASSERT_NE(agent, 0);
  const auto client = try_connect(agent);
  ASSERT_TRUE(client);
  EXPECT_EQ(client->read_until_close(2s).bytes, "up ready 50%\n");
}

}  // namespace
}  // namespace warn_state
}  // namespace badges_health::test
