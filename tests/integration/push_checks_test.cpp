// PUT /checks/{name} over the wire: a ttl check's reports, with the admin
// token, over HTTP/1.1 (curl, and raw bytes for the framing rules) and
// HTTP/2; the route's absence without a token; and the body rules decided
// before a byte of the body is read (Content-Length only, 4 KiB, 100
// Continue, 408 for a late body, what follows a body is the next request).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.hpp"
#include "support/health_service.hpp"
#include "support/raw_client.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace badges_health::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;

constexpr const char* admin = "adm1n-t0ken";

json ttl_check(const std::string& name) {
  return {{"name", name}, {"type", "ttl"}, {"ttl", "30s"}};
}

std::string report_request(const std::string& name, const std::string& body,
                           const std::string& extra = "") {
  return "PUT /checks/" + name + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
         std::string(admin) +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n" + extra + "\r\n" + body;
}

class PushChecks : public ::testing::Test {
 protected:
  temp_dir dir_;
  health_service svc_{dir_,
                      json::array({ttl_check("processor")}),
                      {"--admin-token", admin, "--request-timeout", "1s"}};
};

std::string check_status(const health_service& svc, const std::string& name) {
  const json s = json_at(svc.verbose(), "/checks/" + name + "/status");
  return s.is_string() ? s.get<std::string>() : "";
}

TEST_F(PushChecks, CurlReportsOverHttp1AndHttp2SetTheChecksState) {
  EXPECT_EQ(check_status(svc_, "processor"), "pending");
  for (const auto& [protocol, status] : std::vector<std::pair<std::string, std::string>>{
           {"--http1.1", "warn"}, {"--http2-prior-knowledge", "pass"}}) {
    const auto r = run_program(
        {"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", protocol, "-X", "PUT", "-H",
         std::string("Authorization: Bearer ") + admin, "-H", "Content-Type: application/json",
         "--data", R"({"status":")" + status + R"(","output":"queue lag 3s"})",
         "http://127.0.0.1:" + std::to_string(svc_.port()) + "/checks/processor"});
    EXPECT_EQ(r.out, "204") << protocol << r.err;
    EXPECT_TRUE(svc_.wait_for([want = status](const json& b) {
      return json_at(b, "/checks/processor/status") == want;
    })) << protocol
        << ": " << svc_.verbose().dump();
  }
}

TEST_F(PushChecks, WrongTokenIs401AndUnknownCheckIs404) {
  raw_client c(svc_.port());
  c.send(
      "PUT /checks/processor HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\n"
      "Content-Length: 17\r\n\r\n{\"status\":\"pass\"}");
  auto res = c.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 401);
  EXPECT_THAT(std::string((*res)[boost::beast::http::field::www_authenticate]),
              HasSubstr("Bearer"));
  c.send(report_request("nobody", R"({"status":"pass"})"));
  res = c.read_response();
  ASSERT_TRUE(res) << "the connection did not stay open after a routed error";
  EXPECT_EQ(res->result_int(), 404);
}

TEST_F(PushChecks, MetricsCountEachChangeOfStatusForTheFlappingAlert) {
  raw_client c(svc_.port());
  // pass (the first result), fail, fail (no change), warn, pass: three changes.
  for (const char* status : {"pass", "fail", "fail", "warn", "pass"}) {
    c.send(report_request("processor", std::string(R"({"status":")") + status + R"("})"));
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    ASSERT_EQ(res->result_int(), 204) << status;
  }
  // A 204 says the report was taken; the engine applies it on its own
  // thread just after, so the count is read until the last one is in.
  const std::string counted =
      "\nbadges_health_check_transitions_total{check=\"processor\",critical=\"true\"} ";
  std::string body;
  eventually(
      [&] {
        c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
        const auto res = c.read_response();
        body = res ? res->body() : "";
        return body.find(counted + "3\n") != std::string::npos;
      },
      5s);
  EXPECT_THAT(body, HasSubstr("# TYPE badges_health_check_transitions_total counter\n"));
  EXPECT_THAT(body, HasSubstr(counted + "3\n"));
  // And no more than the three changes, once everything is applied.
  std::this_thread::sleep_for(200ms);
  c.send("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto after = c.read_response();
  ASSERT_TRUE(after);
  EXPECT_THAT(after->body(), HasSubstr(counted + "3\n"));
}

TEST_F(PushChecks, WhatFollowsABodyIsTheNextRequestAndABodyIsNeverRun) {
  // The report's output holds a whole request: it is data.
  const std::string body = R"({"status":"fail","output":"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n"})";
  raw_client c(svc_.port());
  c.send(report_request("processor", body) + "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto first = c.read_response();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->result_int(), 204);
  const auto second = c.read_response();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->result_int(), 503) << "the request after the body was not /readyz";
  EXPECT_FALSE(c.read_response(false, 300ms)) << "a third answer: the body was run as a request";
}

TEST_F(PushChecks, BodyRulesAreDecidedBeforeTheBodyIsRead) {
  {
    raw_client c(svc_.port());
    c.send(report_request("processor", std::string(5000, 'x')));
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 413);
    EXPECT_THAT(res->body(), HasSubstr("BODY_TOO_LARGE"));
    EXPECT_TRUE(c.closed_by_peer());
  }
  {
    raw_client c(svc_.port());
    c.send("PUT /checks/processor HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
           std::string(admin) +
           "\r\nTransfer-Encoding: chunked\r\n\r\n11\r\n{\"status\":\"pass\"}\r\n0\r\n\r\n");
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 400);
    EXPECT_TRUE(c.closed_by_peer());
  }
  {
    // Expect: 100-continue: the interim answer, then the final one.
    raw_client c(svc_.port());
    const std::string body = R"({"status":"pass"})";
    const std::string whole = report_request("processor", body, "Expect: 100-continue\r\n");
    c.send(whole.substr(0, whole.size() - body.size()));
    const auto interim = c.read_response();
    ASSERT_TRUE(interim);
    EXPECT_EQ(interim->result_int(), 100);
    c.send(body);
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 204);
  }
  {
    // A body slower than the request timeout (1 s): 408, then the close.
    raw_client c(svc_.port());
    const std::string whole = report_request("processor", R"({"status":"pass"})");
    c.send(whole.substr(0, whole.size() - 5));
    const auto res = c.read_response(false, 3s);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 408);
    EXPECT_THAT(res->body(), HasSubstr("REQUEST_TIMEOUT"));
    EXPECT_TRUE(c.closed_by_peer());
  }
}

TEST(PushChecksWithoutAdminToken, TheRouteDoesNotExist) {
  server_process server({"--drain-delay", "0"});
  raw_client c(server.port());
  c.send("PUT /checks/processor HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  const auto res = c.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 404);
}

}  // namespace
}  // namespace badges_health::test
