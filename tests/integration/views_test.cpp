// The narrower views of health against the real binary, over HTTP/1.1 and
// HTTP/2: GET /readyz/{name} (200 `ok`, 503 naming the check, 404
// UNKNOWN_CHECK), `?exclude=` on /status and /readyz (repeated and
// comma-separated, unknown names refused, excluded checks marked in
// verbose and health+json output), and kube-apiserver's text report on
// /readyz?verbose and /livez?verbose with reasons for the details token
// only. The checks are ttl checks: a test sets each one's state with
// PUT /checks/{name}, so nothing depends on timing but the push itself.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "support/h2_client.hpp"
#include "support/health_service.hpp"
#include "support/raw_client.hpp"
#include "support/response_checks.hpp"
#include "support/temp_dir.hpp"

namespace badges_health::test::views_tests {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
namespace bhttp = boost::beast::http;

constexpr const char* admin_token = "v1ews-adm1n";
constexpr const char* details_token = "v1ews-deta1ls";
const std::string with_details = std::string("Authorization: Bearer ") + details_token + "\r\n";
constexpr const char* text_type = "text/plain; charset=utf-8";

json ttl_check(const std::string& name, bool critical = true) {
  return {{"name", name}, {"type", "ttl"}, {"ttl", "60s"}, {"critical", critical}};
}

// db, redis and catalyst are critical; cache is not. All start pending.
json view_checks() {
  return json::array(
      {ttl_check("db"), ttl_check("redis"), ttl_check("catalyst"), ttl_check("cache", false)});
}

std::string content_type(const http_response& res) {
  return std::string(res[bhttp::field::content_type]);
}

http_response get(unsigned short port, const std::string& target, const std::string& extra = "",
                  const std::string& method = "GET") {
  auto res = request(port, method, target, extra);
  if (!res) throw std::runtime_error("no answer to " + method + " " + target);
  return std::move(*res);
}

// PUT /checks/`name` with the report `body`; the answer's status.
unsigned put_report(unsigned short port, const std::string& name, const std::string& body) {
  raw_client c(port);
  c.send("PUT /checks/" + name + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + admin_token +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body);
  const auto res = c.read_response();
  return res ? res->result_int() : 0;
}

// One HTTP/2 request on a fresh connection, with `authorization` when not
// empty; the stream's state. The preface, SETTINGS and the request go in
// one write, as h2::fetch sends them: a draining server may close a
// connection that has sent it no request yet.
h2::stream_state h2_get(unsigned short port, const std::string& path,
                        const std::string& authorization = "", const std::string& method = "GET") {
  h2::client c(port, h2::client::options{.preface = false});
  auto headers = h2::request_headers(method, path);
  if (!authorization.empty()) headers.literal("authorization", authorization);
  const auto id = c.next_stream_id();
  if (!c.send(
          std::string(h2::preface) + h2::settings_frame() +
          h2::headers_frame(id, headers.bytes(), h2::flags::end_headers | h2::flags::end_stream))) {
    throw std::runtime_error("could not send the HTTP/2 request for " + path);
  }
  const auto* st = c.wait_for_stream(id, 5s);
  if (st == nullptr || !st->ended) throw std::runtime_error("no HTTP/2 answer to " + path);
  return *st;
}

class Views : public ::testing::Test {
 protected:
  // Sets check `name` to `status` and waits until the service shows it.
  void report(const std::string& name, const std::string& status, const std::string& output = "") {
    json body = {{"status", status}};
    if (!output.empty()) body["output"] = output;
    ASSERT_EQ(put_report(svc_.port(), name, body.dump()), 204u);
    ASSERT_TRUE(eventually(
        [&] {
          return json_at(svc_.verbose(with_details), "/checks/" + name + "/status") == status;
        },
        5s))
        << svc_.verbose(with_details).dump();
  }

  void all_pass() {
    for (const char* name : {"db", "redis", "catalyst", "cache"}) report(name, "pass");
  }

  temp_dir dir_;
  health_service svc_{
      dir_, view_checks(), {"--admin-token", admin_token, "--details-token", details_token}};
};

// ------------------------------------------------------- /readyz/{name} ----

TEST_F(Views, ReadyzCheckIsOkWhileTheCheckPassesOrWarns) {
  report("db", "pass");
  auto res = get(svc_.port(), "/readyz/db");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "ok");
  EXPECT_EQ(content_type(res), text_type);
  EXPECT_TRUE(has_common_headers(res));
  report("db", "warn", "replica lag 4s");
  res = get(svc_.port(), "/readyz/db");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "ok");
}

TEST_F(Views, ReadyzCheckIs503NamingAFailingCheckWithItsReasonForTheTokenOnly) {
  report("redis", "fail", "connect 10.0.0.7:6379: refused");
  auto res = get(svc_.port(), "/readyz/redis");
  EXPECT_EQ(res.result_int(), 503);
  EXPECT_EQ(content_type(res), text_type);
  EXPECT_EQ(res.body(), "[-]redis failed: reason withheld\nreadyz check failed\n");
  res = get(svc_.port(), "/readyz/redis", with_details);
  EXPECT_EQ(res.result_int(), 503);
  EXPECT_EQ(res.body(), "[-]redis failed: connect 10.0.0.7:6379: refused\nreadyz check failed\n");
  res = get(svc_.port(), "/readyz/redis", "Authorization: Bearer wrong\r\n");
  EXPECT_TRUE(is_error_response(res, 401, "UNAUTHORIZED"));
}

TEST_F(Views, ReadyzCheckIs503WhileTheCheckHasNoResult) {
  const auto res = get(svc_.port(), "/readyz/catalyst");
  EXPECT_EQ(res.result_int(), 503);
  EXPECT_EQ(res.body(), "[-]catalyst pending: no result yet\nreadyz check failed\n");
}

TEST_F(Views, ReadyzCheckIs503ForAFailingNonCriticalCheckThatLeavesTheServiceReady) {
  all_pass();
  report("cache", "fail", "timeout");
  EXPECT_EQ(get(svc_.port(), "/readyz").result_int(), 200);
  const auto res = get(svc_.port(), "/readyz/cache");
  EXPECT_EQ(res.result_int(), 503);
  EXPECT_EQ(res.body(), "[-]cache failed (not critical): reason withheld\nreadyz check failed\n");
}

TEST_F(Views, ReadyzCheckWithAnUnknownNameIs404UnknownCheck) {
  auto res = get(svc_.port(), "/readyz/nope");
  EXPECT_TRUE(is_error_response(res, 404, "UNKNOWN_CHECK")) << res.body();
  EXPECT_EQ(json_body(res).value("error", ""), "no check named \"nope\"");
  res = get(svc_.port(), "/readyz/nope", "", "HEAD");
  EXPECT_EQ(res.result_int(), 404);
  EXPECT_TRUE(res.body().empty());
  // An empty name is no route at all, and a deeper path neither.
  EXPECT_TRUE(is_error_response(get(svc_.port(), "/readyz/"), 404, "NOT_FOUND"));
  EXPECT_TRUE(is_error_response(get(svc_.port(), "/readyz/db/x"), 404, "NOT_FOUND"));
}

TEST_F(Views, ReadyzCheckHeadAnswersTheSameStatusAndHeadersWithoutABody) {
  report("db", "pass");
  for (const char* target : {"/readyz/db", "/readyz/redis"}) {
    const auto full = get(svc_.port(), target);
    raw_client c(svc_.port());
    c.send(request_bytes("HEAD", target));
    const auto head = c.read_response(true);
    ASSERT_TRUE(head) << target;
    EXPECT_EQ(head->result_int(), full.result_int()) << target;
    EXPECT_EQ(content_type(*head), content_type(full)) << target;
    EXPECT_EQ((*head)[bhttp::field::content_length], std::to_string(full.body().size()));
    EXPECT_TRUE(head->body().empty());
    EXPECT_TRUE(has_common_headers(*head, true));
  }
}

TEST_F(Views, ReadyzCheckOverHttp2AnswersAsOverHttp1) {
  report("db", "pass");
  report("redis", "fail", "refused");
  auto st = h2_get(svc_.port(), "/readyz/db");
  EXPECT_EQ(st.status(), 200u);
  EXPECT_EQ(st.body, "ok");
  EXPECT_EQ(h2::header_value(st.headers, "content-type"), text_type);
  st = h2_get(svc_.port(), "/readyz/redis");
  EXPECT_EQ(st.status(), 503u);
  EXPECT_EQ(st.body, "[-]redis failed: reason withheld\nreadyz check failed\n");
  st = h2_get(svc_.port(), "/readyz/redis", std::string("Bearer ") + details_token);
  EXPECT_EQ(st.body, "[-]redis failed: refused\nreadyz check failed\n");
  st = h2_get(svc_.port(), "/readyz/nope");
  EXPECT_EQ(st.status(), 404u);
  EXPECT_EQ(json::parse(st.body, nullptr, false).value("code", ""), "UNKNOWN_CHECK");
  st = h2_get(svc_.port(), "/readyz/redis", "", "HEAD");
  EXPECT_EQ(st.status(), 503u);
  EXPECT_TRUE(st.body.empty());
}

// ------------------------------------------------------------ ?exclude ----

TEST_F(Views, ExcludedChecksDoNotCountTowardStatus) {
  all_pass();
  report("db", "fail", "down");
  report("redis", "fail", "down");
  EXPECT_EQ(get(svc_.port(), "/status").result_int(), 503);
  EXPECT_EQ(get(svc_.port(), "/status?exclude=db").result_int(), 503) << "redis still fails";
  for (const char* target : {"/status?exclude=db&exclude=redis", "/status?exclude=db,redis",
                             "/status?exclude=db%2C%20redis"}) {
    const auto res = get(svc_.port(), target);
    EXPECT_EQ(res.result_int(), 200) << target;
    EXPECT_EQ(json_body(res).value("status", ""), "ok") << target;
  }
  // A failing non-critical check left in: degraded, with Envoy's header.
  report("cache", "fail", "slow");
  const auto res = get(svc_.port(), "/status?exclude=db,redis");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(json_body(res).value("status", ""), "degraded");
  EXPECT_EQ(res["x-envoy-degraded"], "true");
}

TEST_F(Views, ExcludedChecksDoNotCountTowardReadinessNorItsFirstResult) {
  report("db", "pass");
  report("redis", "pass");
  // catalyst and cache have no result yet: not ready.
  EXPECT_EQ(get(svc_.port(), "/readyz").result_int(), 503);
  EXPECT_EQ(get(svc_.port(), "/readyz?exclude=catalyst").result_int(), 503);
  auto res = get(svc_.port(), "/readyz?exclude=catalyst&exclude=cache");
  EXPECT_EQ(res.result_int(), 200) << res.body();
  EXPECT_EQ(json_body(res).value("ready", false), true);
  report("catalyst", "pass");
  report("cache", "pass");
  report("db", "fail", "gone");
  EXPECT_EQ(get(svc_.port(), "/readyz").result_int(), 503);
  EXPECT_EQ(get(svc_.port(), "/readyz?exclude=db").result_int(), 200);
  EXPECT_EQ(get(svc_.port(), "/readyz?exclude=db", "", "HEAD").result_int(), 200);
  // Over HTTP/2 alike.
  EXPECT_EQ(h2_get(svc_.port(), "/readyz?exclude=db").status(), 200u);
  EXPECT_EQ(h2_get(svc_.port(), "/status?exclude=redis").status(), 503u);
}

TEST_F(Views, AnUnknownExcludedNameIsA400NamingItAndTheConnectionGoesOn) {
  raw_client c(svc_.port());
  for (const char* target : {"/status?exclude=nope", "/readyz?exclude=db,nope",
                             "/readyz?verbose&exclude=nope", "/status?exclude="}) {
    c.send(request_bytes("GET", target));
    const auto res = c.read_response();
    ASSERT_TRUE(res) << target << ": the connection did not stay open";
    EXPECT_TRUE(is_error_response(*res, 400, "INVALID_PARAMETER")) << target << res->body();
  }
  c.send(request_bytes("GET", "/status?exclude=nope"));
  const auto res = c.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(json_body(*res).value("error", ""), "unknown check in exclude: nope");
  c.send(request_bytes("GET", "/livez"));
  const auto live = c.read_response();
  ASSERT_TRUE(live);
  EXPECT_EQ(live->result_int(), 200);
}

TEST_F(Views, VerboseStatusMarksExcludedChecksAndKeepsTheirStatus) {
  all_pass();
  report("db", "fail", "refused");
  const auto res = get(svc_.port(), "/status?verbose=true&exclude=db", with_details);
  EXPECT_EQ(res.result_int(), 200);
  const json body = json_body(res);
  EXPECT_EQ(body.value("status", ""), "ok");
  EXPECT_EQ(body.value("ready", false), true);
  EXPECT_EQ(json_at(body, "/checks/db/status"), "fail");
  EXPECT_EQ(json_at(body, "/checks/db/excluded"), true);
  EXPECT_EQ(json_at(body, "/checks/db/output"), "refused");
  EXPECT_FALSE(json_at(body, "/checks/redis").contains("excluded")) << body.dump();
  // Without exclude nothing is marked.
  EXPECT_FALSE(json_at(svc_.verbose(with_details), "/checks/db").contains("excluded"));
}

TEST_F(Views, HealthJsonMarksExcludedChecksAndKeepsTheirStatus) {
  all_pass();
  report("db", "fail", "refused");
  const std::string accept = "Accept: application/health+json\r\n";
  for (const char* target : {"/status?exclude=db", "/readyz?exclude=db"}) {
    const auto res = get(svc_.port(), target, accept + with_details);
    EXPECT_EQ(res.result_int(), 200) << target;
    EXPECT_EQ(content_type(res), "application/health+json");
    const json body = json_body(res);
    EXPECT_EQ(body.value("status", ""), "pass") << target;
    EXPECT_EQ(json_at(body, "/checks/db:responseTime/0/status"), "fail") << target;
    EXPECT_EQ(json_at(body, "/checks/db:responseTime/0/excluded"), true) << target;
    EXPECT_FALSE(json_at(body, "/checks/redis:responseTime/0").contains("excluded"));
  }
  // Without it, the excluded check's failure counts.
  EXPECT_EQ(get(svc_.port(), "/readyz", accept).result_int(), 503);
}

// ------------------------------------------------------- the text report ----

TEST_F(Views, ReadyzVerboseIsTheKubernetesTextReportWithTheSameStatusCode) {
  report("db", "pass");
  report("redis", "fail", "connect refused");
  report("catalyst", "warn", "slow answers");
  // cache has no result yet.
  for (const char* target : {"/readyz?verbose", "/readyz?verbose=true", "/readyz?verbose=1"}) {
    const auto res = get(svc_.port(), target);
    EXPECT_EQ(res.result_int(), 503) << target;
    EXPECT_EQ(content_type(res), text_type);
    EXPECT_TRUE(has_common_headers(res));
    EXPECT_EQ(res.body(),
              "[+]db ok\n"
              "[-]redis failed: reason withheld\n"
              "[+]catalyst warn: reason withheld\n"
              "[-]cache pending: no result yet\n"
              "readyz check failed\n")
        << target;
  }
  const auto res = get(svc_.port(), "/readyz?verbose", with_details);
  EXPECT_EQ(res.body(),
            "[+]db ok\n"
            "[-]redis failed: connect refused\n"
            "[+]catalyst warn: slow answers\n"
            "[-]cache pending: no result yet\n"
            "readyz check failed\n");
  // verbose=false and verbose=0: the JSON answer, same status.
  for (const char* target : {"/readyz?verbose=false", "/readyz?verbose=0"}) {
    const auto plain = get(svc_.port(), target);
    EXPECT_EQ(plain.result_int(), 503) << target;
    EXPECT_EQ(json_body(plain).value("ready", true), false) << target;
  }
}

TEST_F(Views, ReadyzVerbosePassesWithANonCriticalFailureAndExcludedChecks) {
  all_pass();
  report("cache", "fail", "evicting");
  report("catalyst", "fail", "502");
  auto res = get(svc_.port(), "/readyz?verbose&exclude=catalyst");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(),
            "[+]db ok\n"
            "[+]redis ok\n"
            "[+]catalyst excluded: failed: reason withheld\n"
            "[-]cache failed (not critical): reason withheld\n"
            "readyz check passed\n");
  report("catalyst", "pass");
  res = get(svc_.port(), "/readyz?verbose=1&exclude=catalyst", with_details);
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(),
            "[+]db ok\n"
            "[+]redis ok\n"
            "[+]catalyst excluded: ok\n"
            "[-]cache failed (not critical): evicting\n"
            "readyz check passed\n");
}

TEST_F(Views, ReadyzVerboseRefusesAWrongTokenAndABadValue) {
  auto res = get(svc_.port(), "/readyz?verbose", "Authorization: Bearer wrong\r\n");
  EXPECT_TRUE(is_error_response(res, 401, "UNAUTHORIZED"));
  for (const char* target :
       {"/readyz?verbose=maybe", "/livez?verbose=yes", "/livez?verbose=TRUE"}) {
    res = get(svc_.port(), target);
    EXPECT_TRUE(is_error_response(res, 400, "INVALID_PARAMETER")) << target;
  }
  // /status keeps its rule: a bare verbose is no value.
  EXPECT_TRUE(is_error_response(get(svc_.port(), "/status?verbose", with_details), 400,
                                "INVALID_PARAMETER"));
}

TEST_F(Views, LivezVerboseIsThePingLineWhateverTheChecksSay) {
  report("db", "fail", "refused");
  for (const char* target : {"/livez?verbose", "/livez?verbose=true", "/livez?verbose=1"}) {
    const auto res = get(svc_.port(), target);
    EXPECT_EQ(res.result_int(), 200) << target;
    EXPECT_EQ(content_type(res), text_type);
    EXPECT_EQ(res.body(), "[+]ping ok\nlivez check passed\n");
  }
  const auto plain = get(svc_.port(), "/livez?verbose=false");
  EXPECT_EQ(json_body(plain).value("status", ""), "ok");
}

TEST_F(Views, TextReportsOverHttp2AnswerAsOverHttp1) {
  report("db", "pass");
  report("redis", "fail", "refused");
  report("catalyst", "pass");
  report("cache", "pass");
  auto st = h2_get(svc_.port(), "/readyz?verbose");
  EXPECT_EQ(st.status(), 503u);
  EXPECT_EQ(h2::header_value(st.headers, "content-type"), text_type);
  EXPECT_EQ(st.body,
            "[+]db ok\n[-]redis failed: reason withheld\n[+]catalyst ok\n[+]cache ok\n"
            "readyz check failed\n");
  st = h2_get(svc_.port(), "/readyz?verbose&exclude=redis", std::string("Bearer ") + details_token);
  EXPECT_EQ(st.status(), 200u);
  EXPECT_EQ(st.body,
            "[+]db ok\n[+]redis excluded: failed: refused\n[+]catalyst ok\n[+]cache ok\n"
            "readyz check passed\n");
  st = h2_get(svc_.port(), "/livez?verbose");
  EXPECT_EQ(st.status(), 200u);
  EXPECT_EQ(st.body, "[+]ping ok\nlivez check passed\n");
  st = h2_get(svc_.port(), "/readyz?verbose", "", "HEAD");
  EXPECT_EQ(st.status(), 503u);
  EXPECT_TRUE(st.body.empty());
}

// ----------------------------------------------------- without a token ----

TEST(ViewsWithoutDetailsToken, TextReportsShowTheReasonsToAnyone) {
  temp_dir dir;
  health_service svc(dir, json::array({ttl_check("db")}), {"--admin-token", admin_token});
  ASSERT_EQ(put_report(svc.port(), "db", R"({"status":"fail","output":"disk full"})"), 204u);
  // 503 from the start (no result yet): wait for the failure itself.
  const std::string failed = "[-]db failed: disk full\nreadyz check failed\n";
  ASSERT_TRUE(eventually([&] { return get(svc.port(), "/readyz/db").body() == failed; }, 5s))
      << get(svc.port(), "/readyz/db").body();
  EXPECT_EQ(get(svc.port(), "/readyz/db").result_int(), 503);
  EXPECT_EQ(get(svc.port(), "/readyz?verbose").body(),
            "[-]db failed: disk full\nreadyz check failed\n");
}

// ----------------------------------------------------------- draining ----

TEST(ViewsWhileDraining, ReadyzCheckAndTheReportSayTheInstanceIsGoingAway) {
  temp_dir dir;
  health_service svc(dir, json::array({ttl_check("db")}),
                     {"--admin-token", admin_token, "--drain-delay", "5s"});
  ASSERT_EQ(put_report(svc.port(), "db", R"({"status":"pass"})"), 204u);
  ASSERT_TRUE(eventually([&] { return get(svc.port(), "/readyz/db").result_int() == 200; }, 5s));
  EXPECT_EQ(get(svc.port(), "/readyz?verbose").body(), "[+]db ok\nreadyz check passed\n");
  svc.process().signal(SIGTERM);
  ASSERT_TRUE(eventually([&] { return get(svc.port(), "/readyz/db").result_int() == 503; }, 5s));
  auto res = get(svc.port(), "/readyz/db");
  EXPECT_EQ(res.body(), "[+]db ok\n[-]shutdown draining\nreadyz check failed\n");
  res = get(svc.port(), "/readyz?verbose");
  EXPECT_EQ(res.result_int(), 503);
  EXPECT_EQ(res.body(), "[+]db ok\n[-]shutdown draining\nreadyz check failed\n");
  // Excluding every check does not make a draining instance ready.
  EXPECT_EQ(get(svc.port(), "/readyz?exclude=db").result_int(), 503);
  EXPECT_EQ(get(svc.port(), "/status?exclude=db").result_int(), 503);
  const auto h2 = h2_get(svc.port(), "/readyz/db");
  EXPECT_EQ(h2.status(), 503u);
  EXPECT_EQ(h2.body, "[+]db ok\n[-]shutdown draining\nreadyz check failed\n");
  res = get(svc.port(), "/livez?verbose");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "[+]ping ok\nlivez check passed\n");
}

}  // namespace
}  // namespace badges_health::test::views_tests
