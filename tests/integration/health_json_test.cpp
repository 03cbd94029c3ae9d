// application/health+json (draft-inadarei-api-health-check-06) against the
// real binary: the document for ok, degraded and down, its checks as the
// draft shapes them and who may see them, the Accept negotiation (q-values,
// `*/*`), /readyz, and that without that Accept nothing changes but `Vary`.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "support/dependency_servers.hpp"
#include "support/health_service.hpp"
#include "support/raw_client.hpp"
#include "support/response_checks.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace badges_health::test {
namespace {

using nlohmann::json;
using std::chrono::seconds;

const std::vector<std::string> health_json_env = {"CURRENT_VERSION=7.7.7-hj",
                                                  "COMMIT_HASH=feedbeef"};
const std::string health_json_accept = "Accept: application/health+json\r\n";

// An ISO 8601 UTC time with milliseconds, as the draft's `time` and our
// `timestamp` are written.
bool is_utc_time(const json& v) {
  return v.is_string() && parse_iso8601_utc(v.get<std::string>()).has_value();
}

std::string content_type(const http_response& res) {
  return std::string(res[boost::beast::http::field::content_type]);
}

// True when the Vary header lists Accept.
bool varies_on_accept(const http_response& res) {
  return std::regex_search(std::string(res[boost::beast::http::field::vary]),
                           std::regex(R"((^|,)\s*[Aa]ccept\s*(,|$))"));
}

// GET `target` with Accept: application/health+json and `extra` headers.
http_response get_health_json(unsigned short port, const std::string& target,
                              const std::string& extra = "") {
  auto res = request(port, "GET", target, health_json_accept + extra);
  if (!res) throw std::runtime_error("no answer to GET " + target);
  return std::move(*res);
}

json json_tcp_check(const std::string& name, unsigned short port, bool critical = true) {
  return {{"name", name},        {"type", "tcp"},      {"host", "127.0.0.1"}, {"port", port},
          {"interval", "300ms"}, {"timeout", "200ms"}, {"critical", critical}};
}

// ------------------------------------------------- ok, degraded, down ----

struct state_case {
  const char* name;
  const char* word;  // the draft's status
  unsigned code;
};

// One instance per case: a passing critical tcp check ("db") and a disk
// check that always passes ("disk"), plus for degraded a non-critical redis
// check against a closed port ("cache"), and for down a critical file check
// on a file that is absent ("maintenance").
class HealthJsonStates : public ::testing::TestWithParam<state_case> {
 protected:
  json checks() const {
    json list = json::array({json_tcp_check("db", db_.port()),
                             {{"name", "disk"},
                              {"type", "disk"},
                              {"path", dir_.path()},
                              {"min_free_bytes", 1},
                              {"interval", "300ms"},
                              {"timeout", "200ms"}}});
    const std::string word = GetParam().word;
    if (word == "warn") {
      list.push_back({{"name", "cache"},
                      {"type", "redis"},
                      {"host", "127.0.0.1"},
                      {"port", closed_.port()},
                      {"critical", false},
                      {"interval", "300ms"},
                      {"timeout", "200ms"}});
    } else if (word == "fail") {
      list.push_back({{"name", "maintenance"},
                      {"type", "file"},
                      {"path", dir_.file("maintenance")},
                      {"when", "present"},
                      {"interval", "300ms"},
                      {"timeout", "200ms"}});
    }
    return list;
  }

  temp_dir dir_;
  tcp_dependency db_;
  closed_tcp_port closed_;
};

TEST_P(HealthJsonStates, StatusAnswersTheDraftDocumentWithItsStatusCode) {
  health_service svc(dir_, checks(), {}, health_json_env);
  ASSERT_TRUE(svc.wait_for(all_checks_have_results)) << svc.process().log();

  const auto res = get_health_json(svc.port(), "/status");
  EXPECT_EQ(res.result_int(), GetParam().code) << res.body();
  EXPECT_EQ(content_type(res), "application/health+json");
  EXPECT_TRUE(varies_on_accept(res)) << res[boost::beast::http::field::vary];
  EXPECT_TRUE(has_common_headers(res));
  json body = json::parse(res.body(), nullptr, false);
  ASSERT_TRUE(body.is_object()) << res.body();
  EXPECT_EQ(body["status"], std::string(GetParam().word));
  EXPECT_EQ(body["version"], "7.7.7-hj");
  EXPECT_EQ(body["releaseId"], "feedbeef");
  EXPECT_EQ(body["serviceId"], "badges-health");
  EXPECT_TRUE(body["description"].is_string()) << res.body();
  EXPECT_FALSE(body.contains("timestamp")) << "not the seed's body: " << res.body();

  // No details token configured: the checks are there, as the draft shapes them.
  json& measured = body["checks"];
  ASSERT_TRUE(measured.is_object()) << res.body();
  EXPECT_EQ(measured.size(), checks().size()) << res.body();
  for (const auto& [key, value] : measured.items()) {
    SCOPED_TRACE(key);
    ASSERT_TRUE(value.is_array());
    ASSERT_EQ(value.size(), 1u);
    json m = value[0];
    EXPECT_TRUE(m["observedValue"].is_number()) << m.dump();
    EXPECT_EQ(m["observedUnit"], "ms");
    EXPECT_TRUE(is_utc_time(m["time"])) << m.dump();
  }
  json db = json_at(body, "/checks/db:responseTime/0");
  EXPECT_EQ(db["componentType"], "component");
  EXPECT_EQ(db["status"], "pass");
  EXPECT_FALSE(db.contains("output")) << db.dump();
  json disk = json_at(body, "/checks/disk:responseTime/0");
  EXPECT_EQ(disk["componentType"], "system");
  EXPECT_EQ(disk["status"], "pass");

  const std::string word = GetParam().word;
  if (word == "warn") {
    json cache = json_at(body, "/checks/cache:responseTime/0");
    EXPECT_EQ(cache["componentType"], "datastore");
    EXPECT_EQ(cache["status"], "fail");
    EXPECT_TRUE(cache["output"].is_string() && !cache["output"].get<std::string>().empty())
        << cache.dump();
    EXPECT_EQ(res["x-envoy-degraded"], "true");
  } else if (word == "fail") {
    json maintenance = json_at(body, "/checks/maintenance:responseTime/0");
    EXPECT_EQ(maintenance["componentType"], "system");
    EXPECT_EQ(maintenance["status"], "fail");
    EXPECT_EQ(maintenance["output"], dir_.file("maintenance") + " is absent");
  }
}

TEST_P(HealthJsonStates, PlainStatusKeepsTheSeedBodyAndAddsOnlyVary) {
  health_service svc(dir_, checks(), {}, health_json_env);
  ASSERT_TRUE(svc.wait_for(all_checks_have_results)) << svc.process().log();
  const auto res = request(svc.port(), "GET", "/status");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), GetParam().code);
  EXPECT_EQ(content_type(*res), "application/json");
  EXPECT_TRUE(varies_on_accept(*res));
  json body = json_body(*res);
  ASSERT_TRUE(body.is_object()) << res->body();
  EXPECT_EQ(body.size(), 2u) << res->body();
  EXPECT_TRUE(is_utc_time(body["timestamp"])) << res->body();
  const std::string expected = std::string(GetParam().word) == "pass"   ? "ok"
                               : std::string(GetParam().word) == "warn" ? "degraded"
                                                                        : "down";
  EXPECT_EQ(body["status"], expected);
}

INSTANTIATE_TEST_SUITE_P(HealthJson, HealthJsonStates,
                         ::testing::Values(state_case{"Ok", "pass", 200},
                                           state_case{"Degraded", "warn", 200},
                                           state_case{"Down", "fail", 503}),
                         [](const ::testing::TestParamInfo<state_case>& c) {
                           return c.param.name;
                         });

// --------------------------------------------------------- negotiation ----

struct accept_case {
  const char* name;
  const char* accept;  // the header value; empty: no Accept header
  bool health_json;
};

// One healthy instance without checks serves every case.
class HealthJsonNegotiation : public ::testing::TestWithParam<accept_case> {
 protected:
  static void SetUpTestSuite() { server_ = new server_process({"--drain-delay", "0"}); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }

  static server_process* server_;
};

server_process* HealthJsonNegotiation::server_ = nullptr;

TEST_P(HealthJsonNegotiation, StatusAndReadyzFollowTheAcceptHeader) {
  const std::string accept = GetParam().accept;
  for (const std::string target : {"/status", "/readyz"}) {
    SCOPED_TRACE(target + " with Accept: " + accept);
    const auto res =
        request(server_->port(), "GET", target, accept.empty() ? "" : "Accept: " + accept + "\r\n");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 200);
    EXPECT_TRUE(varies_on_accept(*res));
    json body = json_body(*res);
    ASSERT_TRUE(body.is_object()) << res->body();
    if (GetParam().health_json) {
      EXPECT_EQ(content_type(*res), "application/health+json");
      EXPECT_EQ(body["status"], "pass") << res->body();
      EXPECT_EQ(body["serviceId"], "badges-health") << res->body();
    } else {
      EXPECT_EQ(content_type(*res), "application/json");
      EXPECT_EQ(body["status"], "ok") << res->body();
      EXPECT_TRUE(body.contains("timestamp")) << res->body();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    HealthJson, HealthJsonNegotiation,
    ::testing::Values(
        accept_case{"NoAccept", "", false},
        accept_case{"HealthJson", "application/health+json", true},
        accept_case{"JsonAtLowerQ", "application/json;q=0.9, application/health+json", true},
        accept_case{"HealthJsonAtQZero", "application/health+json;q=0", false},
        accept_case{"AnyType", "*/*", false}, accept_case{"Json", "application/json", false},
        accept_case{"HealthJsonBelowJson", "application/json, application/health+json;q=0.5",
                    false},
        accept_case{"HealthJsonAboveAny", "application/health+json;q=0.5, */*;q=0.1", true},
        accept_case{"HealthJsonBelowAny", "*/*, application/health+json;q=0.5", false},
        accept_case{"BrowserStyle", "text/html,application/xhtml+xml,*/*;q=0.8", false}),
    [](const ::testing::TestParamInfo<accept_case>& c) { return c.param.name; });

TEST(HealthJsonHead, HeadAnswersTheSameContentTypeAndNoBody) {
  server_process server({"--drain-delay", "0"});
  raw_client c(server.port());
  c.send(request_bytes("HEAD", "/status", health_json_accept));
  const auto res = c.read_response(/*head=*/true);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
  EXPECT_EQ(content_type(*res), "application/health+json");
  EXPECT_TRUE(varies_on_accept(*res));
  EXPECT_TRUE(res->body().empty());
}

// -------------------------------------------------------- details token ----

// An instance with a details token and one passing check.
class HealthJsonDetailsToken : public ::testing::Test {
 protected:
  HealthJsonDetailsToken()
      : svc_(dir_, json::array({json_tcp_check("db", db_.port())}),
             {"--details-token", "hj-s3cret"}) {}

  void SetUp() override {
    // Verbose output (with the token) says when the check has its result.
    ASSERT_TRUE(eventually(
        [&] {
          return all_checks_have_results(svc_.verbose("Authorization: Bearer hj-s3cret\r\n"));
        },
        seconds(5)))
        << svc_.process().log();
  }

  temp_dir dir_;
  tcp_dependency db_;
  health_service svc_;
};

TEST_F(HealthJsonDetailsToken, WithoutATokenTheStatusComesWithoutChecks) {
  for (const std::string target : {"/status", "/readyz"}) {
    const auto res = get_health_json(svc_.port(), target);
    EXPECT_EQ(res.result_int(), 200) << target << ": " << res.body();
    EXPECT_EQ(content_type(res), "application/health+json") << target;
    json body = json_body(res);
    EXPECT_EQ(body["status"], "pass") << target;
    EXPECT_FALSE(body.contains("checks")) << target << ": " << res.body();
  }
}

TEST_F(HealthJsonDetailsToken, WithTheTokenTheChecksAreIncluded) {
  for (const std::string target : {"/status", "/readyz"}) {
    const auto res = get_health_json(svc_.port(), target, "Authorization: Bearer hj-s3cret\r\n");
    EXPECT_EQ(res.result_int(), 200) << target;
    json db = json_at(json_body(res), "/checks/db:responseTime/0");
    EXPECT_EQ(db["status"], "pass") << target << ": " << res.body();
    EXPECT_EQ(db["componentType"], "component") << target;
  }
}

TEST_F(HealthJsonDetailsToken, AWrongTokenIs401AsVerboseAnswers) {
  for (const std::string target : {"/status", "/readyz"}) {
    const auto res = get_health_json(svc_.port(), target, "Authorization: Bearer wrong\r\n");
    EXPECT_TRUE(is_error_response(res, 401, "UNAUTHORIZED")) << target;
    EXPECT_EQ(std::string(res[boost::beast::http::field::www_authenticate]).substr(0, 7), "Bearer ")
        << target;
  }
}

// -------------------------------------------------------------- /readyz ----

TEST(HealthJsonReadiness, ReadyzFailsWhileACheckWaitsForItsFirstResult) {
  temp_dir dir;
  http_dependency api;
  api.never_answer();
  // The first attempt takes the whole 5 s timeout: until then not ready.
  health_service svc(dir, json::array({{{"name", "api"},
                                        {"type", "http"},
                                        {"url", api.url()},
                                        {"interval", "10s"},
                                        {"timeout", "5s"}}}));
  const auto ready = get_health_json(svc.port(), "/readyz");
  EXPECT_EQ(ready.result_int(), 503) << ready.body();
  EXPECT_EQ(content_type(ready), "application/health+json");
  EXPECT_TRUE(varies_on_accept(ready));
  json body = json_body(ready);
  EXPECT_EQ(body["status"], "fail") << ready.body();
  json api_check = json_at(body, "/checks/api:responseTime/0");
  EXPECT_EQ(api_check["status"], "warn") << ready.body();
  EXPECT_EQ(api_check["componentType"], "component");
  EXPECT_FALSE(api_check.contains("time")) << "no result yet: " << api_check.dump();

  // /status does not wait for first results.
  const auto status = get_health_json(svc.port(), "/status");
  EXPECT_EQ(status.result_int(), 200) << status.body();
  EXPECT_EQ(json_body(status)["status"], "pass");
}

TEST(HealthJsonReadiness, ReadyzPassesWarnsAndFailsWithTheService) {
  temp_dir dir;
  tcp_dependency db;
  health_service svc(dir, json::array({json_tcp_check("db", db.port()),
                                       {{"name", "flag"},
                                        {"type", "file"},
                                        {"path", dir.file("flag")},
                                        {"when", "absent"},
                                        {"critical", false},
                                        {"interval", "200ms"},
                                        {"timeout", "100ms"},
                                        {"rise", 1},
                                        {"fall", 1}}}));
  ASSERT_TRUE(svc.wait_for(all_checks_have_results)) << svc.process().log();
  const auto ok = get_health_json(svc.port(), "/readyz");
  EXPECT_EQ(ok.result_int(), 200);
  EXPECT_EQ(json_body(ok)["status"], "pass") << ok.body();

  dir.write("flag", "");  // the non-critical check fails: degraded, still ready
  ASSERT_TRUE(eventually(
      [&] { return json_body(get_health_json(svc.port(), "/readyz"))["status"] == "warn"; },
      seconds(5)));
  const auto warn = get_health_json(svc.port(), "/readyz");
  EXPECT_EQ(warn.result_int(), 200) << warn.body();

  svc.process().signal(SIGTERM);  // draining: not ready
  ASSERT_TRUE(svc.process().wait_for_log("draining", seconds(2))) << svc.process().log();
  const auto draining = get_health_json(svc.port(), "/readyz");
  EXPECT_EQ(draining.result_int(), 503) << draining.body();
  EXPECT_EQ(json_body(draining)["status"], "fail") << draining.body();
  const auto status = get_health_json(svc.port(), "/status");
  EXPECT_EQ(status.result_int(), 503) << status.body();
  EXPECT_EQ(json_body(status)["status"], "fail") << status.body();
}

}  // namespace
}  // namespace badges_health::test
