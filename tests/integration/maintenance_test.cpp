// PUT, GET and DELETE /maintenance over the wire (curl over HTTP/1.1 and
// HTTP/2, raw bytes for the body rules): every consumer of the health
// follows a maintenance window (/status, /readyz, OPTIONS /, verbose and
// health+json, gRPC Check and Watch, the HAProxy agent, metrics) while
// /livez stays 200; the window ends on DELETE or by itself at its expiry
// (logged), a second PUT replaces the first, a SIGHUP leaves it alone;
// the admin token guards it and without one the routes do not exist.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/haproxy_process.hpp"
#include "support/health_service.hpp"
#include "support/raw_client.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace badges_health::test::maintenance_routes {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr const char* admin = "adm1n-t0ken";
const std::string bearer = std::string("Authorization: Bearer ") + admin;

// A check that passes while its file is absent (none is ever written).
json passing_check(const temp_dir& dir) {
  return {{"name", "db"},     {"type", "file"},      {"path", dir.file("never")},
          {"when", "absent"}, {"interval", "100ms"}, {"timeout", "50ms"}};
}

struct curl_answer {
  int status = 0;
  std::string body;
  std::string err;
};

// One request by curl; `protocol` is --http1.1 or --http2-prior-knowledge.
curl_answer curl(unsigned short port, const std::string& protocol, const std::string& method,
                 const std::string& path, const std::string& body = "",
                 std::vector<std::string> headers = {bearer}) {
  std::vector<std::string> argv{"curl", "-s", "-w", "\n%{http_code}", protocol, "-X", method};
  for (auto& h : headers) {
    argv.push_back("-H");
    argv.push_back(h);
  }
  if (!body.empty()) {
    argv.insert(argv.end(), {"-H", "Content-Type: application/json", "--data", body});
  }
  argv.push_back("http://127.0.0.1:" + std::to_string(port) + path);
  const auto r = run_program(argv);
  curl_answer out;
  out.err = r.err;
  const auto nl = r.out.rfind('\n');
  if (nl == std::string::npos) return out;
  out.body = r.out.substr(0, nl);
  out.status = std::atoi(r.out.c_str() + nl + 1);
  return out;
}

std::string maintenance_request(const std::string& body, const std::string& extra = "",
                                const std::string& method = "PUT") {
  return method + " /maintenance HTTP/1.1\r\nHost: x\r\n" + bearer +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n" + extra + "\r\n" + body;
}

// What one connection to the agent port says before the agent closes it.
std::string agent_says(unsigned short port) {
  const auto client = try_connect(port);
  if (!client) return "(connection refused)";
  const auto got = client->read_until_close(2s);
  return got.closed ? got.bytes : "(not closed: '" + got.bytes + "')";
}

std::string metric_line(unsigned short port, const std::string& name) {
  const auto res = request(port, "GET", "/metrics");
  if (!res) return "(no answer)";
  const std::string& body = res->body();
  const auto at = body.find("\n" + name + " ");
  if (at == std::string::npos) return "(no " + name + ")";
  return body.substr(at + 1, body.find('\n', at + 1) - at - 1);
}

int status_of(unsigned short port, const std::string& path, const std::string& extra = "") {
  const auto res = request(port, "GET", path, extra);
  return res ? res->result_int() : 0;
}

class Maintenance : public ::testing::Test {
 protected:
  void start(std::vector<std::string> args = {}) {
    args.insert(args.begin(), {"--admin-token", admin, "--agent-port", "0"});
    svc_ =
        std::make_unique<health_service>(dir_, json::array({passing_check(dir_)}), std::move(args));
    agent_port_ = announced_agent_port(svc_->process());
    ASSERT_TRUE(svc_->wait_for_result("db"));
    ASSERT_EQ(status_of(port(), "/status"), 200);
  }
  unsigned short port() const { return svc_->port(); }

  temp_dir dir_;
  std::unique_ptr<health_service> svc_;
  unsigned short agent_port_ = 0;
};

TEST_F(Maintenance, PutTakesTheServiceOutEverywhereAndDeleteBringsItBack) {
  start();
  EXPECT_EQ(agent_says(agent_port_), "up ready 100%\n");
  const auto put =
      curl(port(), "--http1.1", "PUT", "/maintenance", R"({"reason":"db migration","for":"30m"})");
  ASSERT_EQ(put.status, 200) << put.body << put.err;
  const json window = json::parse(put.body);
  EXPECT_EQ(window["active"], true);
  EXPECT_EQ(window["reason"], "db migration");
  ASSERT_TRUE(window["since"].is_string() && window["until"].is_string()) << window;
  // 30 minutes apart, to the millisecond: "...T21:41:05.366Z" and "...T22:11:05.366Z".
  EXPECT_EQ(window["since"].get<std::string>().substr(16),
            window["until"].get<std::string>().substr(16));

  // In force as soon as the PUT is answered.
  const auto status = request(port(), "GET", "/status");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->result_int(), 503);
  EXPECT_EQ(json::parse(status->body())["status"], "down");
  EXPECT_EQ(status_of(port(), "/readyz"), 503);
  EXPECT_EQ(status_of(port(), "/livez"), 200);
  const json verbose = svc_->verbose();
  EXPECT_EQ(verbose["ready"], false);
  EXPECT_EQ(json_at(verbose, "/maintenance/reason"), "db migration");
  EXPECT_EQ(json_at(verbose, "/maintenance/until"), window["until"]);
  EXPECT_EQ(json_at(verbose, "/checks/db/status"), "pass") << "the checks run on";
  for (const std::string path : {"/status", "/readyz"}) {
    const auto hj = request(port(), "GET", path, "Accept: application/health+json\r\n");
    ASSERT_TRUE(hj);
    EXPECT_EQ(hj->result_int(), 503) << path;
    const json body = json::parse(hj->body());
    EXPECT_EQ(body["status"], "fail") << path;
    EXPECT_EQ(body["output"],
              "in maintenance until " + window["until"].get<std::string>() + ": db migration")
        << path;
  }
  {
    raw_client c(port());
    c.send("OPTIONS / HTTP/1.0\r\n\r\n");
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 503);
  }
  EXPECT_EQ(agent_says(agent_port_), "maint\n");
  EXPECT_EQ(metric_line(port(), "badges_health_maintenance"), "badges_health_maintenance 1");
  EXPECT_THAT(metric_line(port(), "badges_health_maintenance_end_timestamp_seconds"),
              ::testing::MatchesRegex(
                  R"(badges_health_maintenance_end_timestamp_seconds 1[0-9]{9}\.[0-9]{3})"));
  const auto shown = curl(port(), "--http1.1", "GET", "/maintenance");
  EXPECT_EQ(shown.status, 200);
  EXPECT_EQ(json::parse(shown.body), window);

  const auto del = curl(port(), "--http1.1", "DELETE", "/maintenance");
  EXPECT_EQ(del.status, 204) << del.body;
  EXPECT_EQ(del.body, "");
  EXPECT_EQ(status_of(port(), "/status"), 200);
  EXPECT_EQ(status_of(port(), "/readyz"), 200);
  EXPECT_EQ(json_at(svc_->verbose(), "/maintenance"), nullptr);
  EXPECT_EQ(agent_says(agent_port_), "up ready 100%\n");
  EXPECT_EQ(metric_line(port(), "badges_health_maintenance"), "badges_health_maintenance 0");
  EXPECT_EQ(metric_line(port(), "badges_health_maintenance_end_timestamp_seconds"),
            "badges_health_maintenance_end_timestamp_seconds 0");
  // Idempotent: a second DELETE is a 204 too.
  EXPECT_EQ(curl(port(), "--http1.1", "DELETE", "/maintenance").status, 204);
  const auto none = curl(port(), "--http1.1", "GET", "/maintenance");
  EXPECT_EQ(none.status, 200);
  EXPECT_EQ(json::parse(none.body), (json{{"active", false}}));
  EXPECT_TRUE(svc_->process().wait_for_log("maintenance started: /status reports down until"));
  EXPECT_TRUE(svc_->process().wait_for_log("maintenance ended: cleared"));
}

TEST_F(Maintenance, TheNarrowViewsSayItTooAndNoExclusionHidesIt) {
  start();
  EXPECT_EQ(status_of(port(), "/readyz/db"), 200);
  const auto put =
      curl(port(), "--http1.1", "PUT", "/maintenance", R"({"reason":"db migration","for":"30m"})");
  ASSERT_EQ(put.status, 200) << put.body << put.err;
  const auto until = json::parse(put.body)["until"].get<std::string>();

  // The one check passes, but the instance is out of rotation.
  const auto one = request(port(), "GET", "/readyz/db");
  ASSERT_TRUE(one);
  EXPECT_EQ(one->result_int(), 503);
  EXPECT_EQ(one->body(),
            "[+]db ok\n[-]maintenance until " + until + ": db migration\nreadyz check failed\n");
  // Leaving the check out changes nothing: maintenance is no check.
  EXPECT_EQ(status_of(port(), "/status?exclude=db"), 503);
  EXPECT_EQ(status_of(port(), "/readyz?exclude=db"), 503);
  const auto text = request(port(), "GET", "/readyz?verbose&exclude=db");
  ASSERT_TRUE(text);
  EXPECT_EQ(text->result_int(), 503);
  EXPECT_EQ(text->body(), "[+]db excluded: ok\n[-]maintenance until " + until +
                              ": db migration\nreadyz check failed\n");
  EXPECT_EQ(status_of(port(), "/livez?verbose"), 200);

  ASSERT_EQ(curl(port(), "--http1.1", "DELETE", "/maintenance").status, 204);
  EXPECT_EQ(status_of(port(), "/readyz/db"), 200);
  EXPECT_EQ(status_of(port(), "/status?exclude=db"), 200);
}

TEST_F(Maintenance, EveryRouteAnswersTheSameOverHttp2) {
  start();
  const std::string h2 = "--http2-prior-knowledge";
  const auto put = curl(port(), h2, "PUT", "/maintenance", R"({"reason":"h2","for":"10m"})");
  ASSERT_EQ(put.status, 200) << put.body << put.err;
  EXPECT_EQ(json::parse(put.body)["reason"], "h2");
  EXPECT_EQ(curl(port(), h2, "GET", "/status", "", {}).status, 503);
  EXPECT_EQ(curl(port(), h2, "GET", "/readyz", "", {}).status, 503);
  EXPECT_EQ(curl(port(), h2, "GET", "/livez", "", {}).status, 200);
  const auto shown = curl(port(), h2, "GET", "/maintenance");
  EXPECT_EQ(shown.status, 200);
  EXPECT_EQ(json::parse(shown.body)["reason"], "h2");
  EXPECT_EQ(curl(port(), h2, "DELETE", "/maintenance", "", {}).status, 401);
  EXPECT_EQ(curl(port(), h2, "DELETE", "/maintenance").status, 204);
  EXPECT_EQ(curl(port(), h2, "GET", "/status", "", {}).status, 200);
  const auto bad = curl(port(), h2, "PUT", "/maintenance", R"({"reason":"h2"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(bad.body, HasSubstr("INVALID_MAINTENANCE"));
}

TEST_F(Maintenance, EndsByItselfAtItsExpiryAndSaysSo) {
  start();
  const auto put =
      curl(port(), "--http1.1", "PUT", "/maintenance", R"({"reason":"short","for":"1s"})");
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(status_of(port(), "/status"), 503);
  EXPECT_TRUE(svc_->process().wait_for_log("maintenance ended: expired at", 5s))
      << svc_->process().log();
  EXPECT_EQ(status_of(port(), "/status"), 200);
  EXPECT_EQ(agent_says(agent_port_), "up ready 100%\n");
  EXPECT_EQ(json::parse(curl(port(), "--http1.1", "GET", "/maintenance").body)["active"], false);
}

TEST_F(Maintenance, ASecondPutReplacesTheFirst) {
  start();
  ASSERT_EQ(
      curl(port(), "--http1.1", "PUT", "/maintenance", R"({"reason":"long","for":"1h"})").status,
      200);
  ASSERT_EQ(
      curl(port(), "--http1.1", "PUT", "/maintenance", R"({"reason":"short","for":"1s"})").status,
      200);
  EXPECT_EQ(json::parse(curl(port(), "--http1.1", "GET", "/maintenance").body)["reason"], "short");
  EXPECT_TRUE(svc_->process().wait_for_log("maintenance replaced:"));
  // The second window's end is the end: the first does not come back.
  EXPECT_TRUE(svc_->process().wait_for_log("maintenance ended: expired at", 5s));
  EXPECT_EQ(status_of(port(), "/status"), 200);
  EXPECT_EQ(json::parse(curl(port(), "--http1.1", "GET", "/maintenance").body)["active"], false);
}

TEST_F(Maintenance, SurvivesASighupThatReloadsTheChecks) {
  start();
  ASSERT_EQ(
      curl(port(), "--http1.1", "PUT", "/maintenance", R"({"reason":"reload","for":"10m"})").status,
      200);
  json second = passing_check(dir_);
  second["name"] = "db2";
  svc_->write_checks(json::array({passing_check(dir_), second}));
  svc_->process().signal(SIGHUP);
  ASSERT_TRUE(svc_->process().wait_for_log(": 2 checks")) << svc_->process().log();
  ASSERT_TRUE(svc_->wait_for_result("db2"));
  EXPECT_EQ(status_of(port(), "/status"), 503);
  EXPECT_EQ(json_at(svc_->verbose(), "/maintenance/reason"), "reload");
  EXPECT_EQ(agent_says(agent_port_), "maint\n");
}

// grpc.health.v1 over the Python client of grpc_health_test.cpp.
std::vector<std::string> grpc_client(unsigned short port, std::vector<std::string> rest) {
  const std::string here = __FILE__;
  const std::string tests = here.substr(0, here.rfind('/', here.rfind('/') - 1));
  std::vector<std::string> argv{"/usr/bin/python3", tests + "/support/grpc_health_client.py",
                                std::to_string(port)};
  argv.insert(argv.end(), rest.begin(), rest.end());
  return argv;
}

json grpc_check(unsigned short port, const std::string& service) {
  const auto r = run_program(grpc_client(port, {"check", service}));
  return json::parse(r.out, nullptr, false);
}

TEST_F(Maintenance, GrpcWatchHearsItAndCheckAnswersNotServingButLiveness) {
  start();
  constexpr int serving = 1;
  constexpr int not_serving = 2;
  child_process watch(grpc_client(port(), {"watch", "", "3"}));
  const auto first = watch.read_line(5s);
  ASSERT_TRUE(first);
  EXPECT_EQ(json::parse(*first), (json{{"status", serving}}));
  ASSERT_EQ(
      curl(port(), "--http1.1", "PUT", "/maintenance", R"({"reason":"grpc","for":"10m"})").status,
      200);
  const auto second = watch.read_line(5s);
  ASSERT_TRUE(second);
  EXPECT_EQ(json::parse(*second), (json{{"status", not_serving}}));
  EXPECT_EQ(grpc_check(port(), "")["status"], not_serving);
  EXPECT_EQ(grpc_check(port(), "readiness")["status"], not_serving);
  EXPECT_EQ(grpc_check(port(), "liveness")["status"], serving);
  EXPECT_EQ(grpc_check(port(), "db")["status"], serving) << "a check's own name is the check's";
  ASSERT_EQ(curl(port(), "--http1.1", "DELETE", "/maintenance").status, 204);
  const auto third = watch.read_line(5s);
  ASSERT_TRUE(third);
  EXPECT_EQ(json::parse(*third), (json{{"status", serving}}));
}

TEST_F(Maintenance, TheAdminTokenGuardsEveryMethod) {
  start();
  for (const std::string method : {"GET", "PUT", "DELETE"}) {
    for (const auto& headers :
         std::vector<std::vector<std::string>>{{}, {"Authorization: Bearer wrong"}}) {
      raw_client c(port());
      std::string req = method + " /maintenance HTTP/1.1\r\nHost: x\r\n";
      for (const auto& h : headers) req += h + "\r\n";
      c.send(req + "\r\n");
      const auto res = c.read_response();
      ASSERT_TRUE(res) << method;
      EXPECT_EQ(res->result_int(), 401) << method;
      EXPECT_THAT(std::string((*res)[boost::beast::http::field::www_authenticate]),
                  HasSubstr("Bearer"));
      EXPECT_THAT(res->body(), HasSubstr("UNAUTHORIZED"));
    }
  }
  EXPECT_EQ(status_of(port(), "/status"), 200) << "a refused PUT changed nothing";
}

TEST_F(Maintenance, BadRequestsAreRefusedByName) {
  start({"--max-maintenance", "10m", "--request-timeout", "1s"});
  struct bad {
    std::string body;
    std::string says;
  };
  for (const auto& b : std::vector<bad>{
           {"not json", "not JSON"},
           {R"(["db migration","30m"])", "expected"},
           {R"({"for":"30m"})", "reason: missing"},
           {R"({"reason":"","for":"30m"})", "reason: must not be empty"},
           {R"({"reason":7,"for":"30m"})", "reason: expected a string"},
           {R"({"reason":"two\nlines","for":"30m"})", "control characters"},
           {R"({"reason":"x"})", "for: missing"},
           {R"({"reason":"x","for":"soon"})", "for: expected a duration"},
           {R"({"reason":"x","for":1800})", "for: expected a duration string"},
           {R"({"reason":"x","for":"0s"})", "greater than zero"},
           {R"({"reason":"x","for":"11m"})", "at most 10m (--max-maintenance)"},
           {R"({"reason":"x","for":"5m","by":"me"})", "unknown field 'by'"},
       }) {
    raw_client c(port());
    c.send(maintenance_request(b.body));
    const auto res = c.read_response();
    ASSERT_TRUE(res) << b.body;
    EXPECT_EQ(res->result_int(), 400) << b.body;
    const json err = json::parse(res->body(), nullptr, false);
    EXPECT_EQ(err["code"], "INVALID_MAINTENANCE") << b.body;
    EXPECT_THAT(err["error"].get<std::string>(), HasSubstr(b.says)) << b.body;
  }
  {
    raw_client c(port());
    const std::string body = R"({"reason":"x","for":"5m"})";
    c.send("PUT /maintenance HTTP/1.1\r\nHost: x\r\n" + bearer +
           "\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body);
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 415);
    EXPECT_THAT(res->body(), HasSubstr("UNSUPPORTED_MEDIA_TYPE"));
  }
  {
    raw_client c(port());
    c.send(maintenance_request(std::string(5000, 'x')));
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 413);
    EXPECT_THAT(res->body(), HasSubstr("BODY_TOO_LARGE"));
  }
  {
    // DELETE takes no body, as GET takes none.
    raw_client c(port());
    c.send(maintenance_request(R"({"reason":"x","for":"5m"})", "", "DELETE"));
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 400);
    EXPECT_THAT(res->body(), HasSubstr("BODY_NOT_ALLOWED"));
  }
  {
    raw_client c(port());
    c.send("POST /maintenance HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 405);
    EXPECT_EQ(std::string((*res)[boost::beast::http::field::allow]),
              "GET, HEAD, PUT, DELETE, OPTIONS");
  }
  {
    raw_client c(port());
    c.send("DELETE /maintenance?now=1 HTTP/1.1\r\nHost: x\r\n" + bearer + "\r\n\r\n");
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 400);
    EXPECT_THAT(res->body(), HasSubstr("UNKNOWN_PARAMETER"));
  }
  EXPECT_EQ(status_of(port(), "/status"), 200) << "a refused request changed nothing";
  // Within the limit, the same server takes it.
  EXPECT_EQ(
      curl(port(), "--http1.1", "PUT", "/maintenance", R"({"reason":"x","for":"10m"})").status,
      200);
}

TEST(MaintenanceFlags, TheLimitComesFromTheVariableAndABadOneStopsStartUp) {
  {
    server_process server({"--admin-token", admin}, {"BADGES_HEALTH_MAX_MAINTENANCE=2m"});
    raw_client c(server.port());
    c.send(maintenance_request(R"({"reason":"x","for":"3m"})"));
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 400);
    EXPECT_THAT(res->body(), HasSubstr("at most 2m"));
  }
  const auto r = run_binary({"--max-maintenance", "0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--max-maintenance: must be greater than zero"));
}

TEST(MaintenanceWithoutAdminToken, TheRoutesDoNotExist) {
  server_process server({"--drain-delay", "0"});
  for (const std::string method : {"GET", "PUT", "DELETE", "OPTIONS"}) {
    raw_client c(server.port());
    c.send(method + " /maintenance HTTP/1.1\r\nHost: x\r\n\r\n");
    const auto res = c.read_response();
    ASSERT_TRUE(res) << method;
    EXPECT_EQ(res->result_int(), 404) << method;
  }
  const auto index = request(server.port(), "GET", "/");
  ASSERT_TRUE(index);
  EXPECT_THAT(index->body(), Not(HasSubstr("/maintenance")));
  const auto metrics = request(server.port(), "GET", "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_THAT(metrics->body(), HasSubstr("\nbadges_health_maintenance 0\n"));
}

}  // namespace
}  // namespace badges_health::test::maintenance_routes
