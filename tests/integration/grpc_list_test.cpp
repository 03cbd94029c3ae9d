// gRPC health List (grpc.health.v1.Health/List, gRFC A90) on the service's
// port: called by name from Python's grpc (Debian python3-grpcio) with the
// messages built and decoded by protobuf's own runtime, by curl, and by
// hand over HTTP/2 for the refusals it shares with Check. Every name Check
// accepts, with what Check answers for it; changes; the cap of 100 names;
// the drain.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "support/child_process.hpp"
#include "support/grpc_curl.hpp"
#include "support/h2_client.hpp"
#include "support/health_service.hpp"
#include "support/raw_client.hpp"
#include "support/temp_dir.hpp"

namespace badges_health::test::grpc_list_tests {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// ServingStatus values.
constexpr int grpc_unknown = 0;
constexpr int grpc_serving = 1;
constexpr int grpc_not_serving = 2;

constexpr const char* admin = "adm1n-t0ken";

std::vector<std::string> grpc_client_args(unsigned short port, std::vector<std::string> rest) {
  const std::string here = __FILE__;  // tests/integration/grpc_list_test.cpp
  const std::string tests = here.substr(0, here.rfind('/', here.rfind('/') - 1));
  // Debian's interpreter, which sees python3-grpcio (a python3 earlier in
  // PATH may not).
  std::vector<std::string> argv{"/usr/bin/python3", tests + "/support/grpc_health_client.py",
                                std::to_string(port)};
  argv.insert(argv.end(), rest.begin(), rest.end());
  return argv;
}

json run_client(unsigned short port, std::vector<std::string> rest) {
  const auto r = run_program(grpc_client_args(port, std::move(rest)));
  if (r.exit_code != 0) return json{{"error", r.err}};
  return json::parse(r.out, nullptr, false);
}

std::string grpc_path(const std::string& method) { return "/grpc.health.v1.Health/" + method; }

json grpc_list(unsigned short port) { return run_client(port, {"list"}); }

json file_gate(const temp_dir& dir, const std::string& name, bool critical) {
  return {{"name", name},      {"type", "file"},       {"path", dir.file(name)},
          {"when", "present"}, {"critical", critical}, {"interval", "100ms"},
          {"timeout", "50ms"}};
}
json ttl_check(const std::string& name) {
  return {{"name", name}, {"type", "ttl"}, {"ttl", "30s"}};
}

// A ttl check's report, and the wait until the service shows it.
void report(const health_service& svc, const std::string& check, const std::string& status) {
  const std::string body = R"({"status":")" + status + R"("})";
  raw_client c(svc.port());
  c.send("PUT /checks/" + check + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + admin +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body);
  const auto res = c.read_response();
  ASSERT_TRUE(res);
  ASSERT_EQ(res->result_int(), 204) << res->body();
  ASSERT_TRUE(svc.wait_for(
      [&](const json& b) { return json_at(b, "/checks/" + check + "/status") == status; }));
}

class GrpcList : public ::testing::Test {
 protected:
  void SetUp() override {
    std::ofstream(dir_.file("db")) << "x";
    std::ofstream(dir_.file("cache")) << "x";
  }
  // db (critical) and cache pass while their files exist; processor is a
  // ttl check with no result until a report comes.
  health_service start(std::vector<std::string> args = {}) {
    args.insert(args.end(), {"--admin-token", admin});
    return health_service(dir_,
                          json::array({file_gate(dir_, "db", true), file_gate(dir_, "cache", false),
                                       ttl_check("processor")}),
                          std::move(args));
  }
  temp_dir dir_;
};

// What List says of each name is what Check says of it.
void expect_check_agrees(unsigned short port, const json& statuses) {
  for (const auto& [name, status] : statuses.items()) {
    EXPECT_EQ(run_client(port, {"check", name}), (json{{"code", "OK"}, {"status", status}}))
        << "Check of \"" << name << "\"";
  }
}

TEST_F(GrpcList, AnswersEveryNameCheckAcceptsWithItsStatus) {
  auto svc = start();
  ASSERT_TRUE(svc.wait_for_result("db"));
  ASSERT_TRUE(svc.wait_for_result("cache"));
  const json list = grpc_list(svc.port());
  // processor has no result yet: UNKNOWN, and the service is not ready.
  EXPECT_EQ(list, (json{{"code", "OK"},
                        {"statuses",
                         {{"", grpc_serving},
                          {"liveness", grpc_serving},
                          {"readiness", grpc_not_serving},
                          {"db", grpc_serving},
                          {"cache", grpc_serving},
                          {"processor", grpc_unknown}}},
                        {"deterministic", true}}));
  expect_check_agrees(svc.port(), list["statuses"]);
}

TEST_F(GrpcList, EachChangeShowsInTheNextList) {
  auto svc = start();
  ASSERT_TRUE(svc.wait_for_result("db"));
  ASSERT_TRUE(svc.wait_for_result("cache"));
  report(svc, "processor", "pass");
  json s = grpc_list(svc.port())["statuses"];
  EXPECT_EQ(s["processor"], grpc_serving) << s;
  EXPECT_EQ(s["readiness"], grpc_serving) << s;
  // A non-critical failure: that check alone is NOT_SERVING.
  std::remove(dir_.file("cache").c_str());
  ASSERT_TRUE(svc.wait_for([](const json& b) { return b["status"] == "degraded"; }));
  s = grpc_list(svc.port())["statuses"];
  EXPECT_EQ(s["cache"], grpc_not_serving) << s;
  EXPECT_EQ(s[""], grpc_serving) << s;
  // A critical failure: the service is down, but alive.
  std::remove(dir_.file("db").c_str());
  ASSERT_TRUE(svc.wait_for([](const json& b) { return b["status"] == "down"; }));
  report(svc, "processor", "fail");
  const json list = grpc_list(svc.port());
  EXPECT_EQ(list["statuses"], (json{{"", grpc_not_serving},
                                    {"liveness", grpc_serving},
                                    {"readiness", grpc_not_serving},
                                    {"db", grpc_not_serving},
                                    {"cache", grpc_not_serving},
                                    {"processor", grpc_not_serving}}))
      << list;
  expect_check_agrees(svc.port(), list["statuses"]);
}

// A newer client's request may carry fields this HealthListRequest does
// not know: protobuf skips them, and so does the service.
TEST_F(GrpcList, AcceptsARequestWithUnknownFields) {
  auto svc = start();
  const json list = run_client(svc.port(), {"list", "unknown-fields"});
  EXPECT_EQ(list["code"], "OK") << list;
  EXPECT_EQ(list["statuses"].size(), 6u) << list;
}

// Over 100 names (the three probes and 98 checks) List refuses, as
// grpc-go's health server does; 100 are answered.
TEST_F(GrpcList, MoreThanAHundredNamesIsResourceExhausted) {
  for (const int checks : {97, 98}) {
    SCOPED_TRACE(checks);
    temp_dir dir;
    json list = json::array();
    for (int i = 0; i < checks; ++i) list.push_back(ttl_check("job-" + std::to_string(i)));
    health_service svc(dir, list, {"--admin-token", admin});
    const json answer = grpc_list(svc.port());
    if (checks == 97) {
      EXPECT_EQ(answer["code"], "OK") << answer;
      EXPECT_EQ(answer["statuses"].size(), 100u);
      EXPECT_EQ(answer["statuses"]["job-96"], grpc_unknown);
      EXPECT_EQ(answer["deterministic"], true);
    } else {
      EXPECT_EQ(answer, (json{{"code", "RESOURCE_EXHAUSTED"},
                              {"details", "server health list exceeds maximum capacity: 100"}}));
      // Check still answers each name.
      EXPECT_EQ(run_client(svc.port(), {"check", "job-97"}),
                (json{{"code", "OK"}, {"status", grpc_unknown}}));
    }
  }
}

// The bytes on the wire: one HealthListResponse, its map entries sorted by
// name (key, then value), and grpc-status 0 in trailers; over curl.
TEST_F(GrpcList, AnswerIsSortedByNameWithItsStatusInTrailers) {
  auto svc = start();
  ASSERT_TRUE(svc.wait_for_result("db"));
  ASSERT_TRUE(svc.wait_for_result("cache"));
  report(svc, "processor", "warn");  // a warning serves
  const auto r = curl_grpc_call(svc.port(), "List", dir_);
  ASSERT_EQ(r.exit_code, 0) << r.trace;
  EXPECT_TRUE(r.status_in_trailers) << "grpc-status must come in trailers: " << r.trace;
  const std::string& bytes = r.bytes;
  std::string message;
  for (const std::string name : {"", "cache", "db", "liveness", "processor", "readiness"}) {
    const std::string entry = "\x0a" + std::string(1, static_cast<char>(name.size())) + name +
                              std::string("\x12\x02\x08\x01", 4);
    message += "\x0a" + std::string(1, static_cast<char>(entry.size())) + entry;
  }
  EXPECT_EQ(bytes, std::string("\0\0\0\0", 4) + static_cast<char>(message.size()) + message);
}

// What one gRPC call got back over HTTP/2.
struct call_outcome {
  unsigned http_status = 0;
  std::string grpc_status;  // from the trailers
  std::string grpc_message;
  friend std::ostream& operator<<(std::ostream& os, const call_outcome& o) {
    return os << "HTTP " << o.http_status << " grpc-status " << o.grpc_status << " \""
              << o.grpc_message << "\"";
  }
};

struct refused_call {
  const char* name;
  std::vector<std::pair<std::string, std::string>> headers;  // replacing or added
  std::string body;
  const char* grpc_status;  // what Check and List both end with
};

void PrintTo(const refused_call& c, std::ostream* os) { *os << c.name; }

call_outcome call(unsigned short port, std::string_view path, const refused_call& c) {
  h2::client client(port);
  client.wait([&] { return client.settings_received() > 0; }, 2s);
  h2::header_block block = h2::request_headers("POST", path);
  std::string content_type = "application/grpc";
  for (const auto& [name, value] : c.headers) {
    if (name == "content-type") content_type = value;
  }
  block.literal("content-type", content_type).literal("te", "trailers");
  for (const auto& [name, value] : c.headers) {
    if (name != "content-type") block.literal(name, value);
  }
  const std::uint32_t id = client.open_stream(block, false);
  client.send(h2::data_frame(id, c.body, true));
  const auto* st = client.wait_for_stream(id, 5s);
  if (st == nullptr) return {};
  return {st->status(), h2::header_value(st->trailers, "grpc-status"),
          h2::header_value(st->trailers, "grpc-message")};
}

class GrpcListRefusals : public ::testing::TestWithParam<refused_call> {
 protected:
  static void SetUpTestSuite() {
    dir_ = new temp_dir;
    svc_ =
        new health_service(*dir_, json::array({ttl_check("processor")}), {"--admin-token", admin});
  }
  static void TearDownTestSuite() {
    delete svc_;
    delete dir_;
  }
  static temp_dir* dir_;
  static health_service* svc_;
};
temp_dir* GrpcListRefusals::dir_ = nullptr;
health_service* GrpcListRefusals::svc_ = nullptr;

// List refuses what Check refuses, with the same status: the request's
// framing, its grpc-timeout, its size. (A body of another content-type is
// not a gRPC call at all: an HTTP error for both.)
TEST_P(GrpcListRefusals, AsCheckDoes) {
  const auto& c = GetParam();
  const auto list = call(svc_->port(), "/grpc.health.v1.Health/List", c);
  const auto check = call(svc_->port(), "/grpc.health.v1.Health/Check", c);
  EXPECT_EQ(list.http_status, check.http_status) << list << " / Check: " << check;
  EXPECT_EQ(list.grpc_status, check.grpc_status) << list << " / Check: " << check;
  EXPECT_EQ(list.grpc_status, c.grpc_status) << list;
  if (std::string_view(c.grpc_status).empty()) {
    EXPECT_GE(list.http_status, 400u) << list;
  } else {
    EXPECT_EQ(list.http_status, 200u) << list;
    EXPECT_FALSE(list.grpc_message.empty()) << list;
  }
}

const std::string empty_message(5, '\0');

INSTANTIATE_TEST_SUITE_P(
    Calls, GrpcListRefusals,
    ::testing::Values(
        refused_call{"Compressed", {}, std::string("\x01\0\0\0\0", 5), "12"},
        refused_call{"TwoMessages", {}, empty_message + empty_message, "13"},
        refused_call{"IncompletePrefix", {}, std::string(3, '\0'), "13"},
        refused_call{"NoMessage", {}, "", "13"},
        refused_call{"AGroupField", {}, std::string("\0\0\0\0\x01\x0b", 6), "13"},
        refused_call{"TooLarge", {}, std::string(2000, '\0'), "8"},
        refused_call{"MalformedTimeout", {{"grpc-timeout", "soon"}}, empty_message, "13"},
        refused_call{"ZeroTimeout", {{"grpc-timeout", "0n"}}, empty_message, "4"},
        refused_call{"NotGrpc", {{"content-type", "application/json"}}, empty_message, ""}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

// A deadline that leaves time is no refusal.
TEST_F(GrpcList, AnswersWithinAGrpcTimeout) {
  auto svc = start();
  const auto outcome = call(svc.port(), "/grpc.health.v1.Health/List",
                            refused_call{"", {{"grpc-timeout", "2S"}}, std::string(5, '\0'), ""});
  EXPECT_EQ(outcome.http_status, 200u);
  EXPECT_EQ(outcome.grpc_status, "0");
}

// From SIGTERM on, the service as a whole and readiness are NOT_SERVING
// in the List, as in Check; liveness still serves.
TEST_F(GrpcList, TheDrainShowsInTheList) {
  auto svc = start({"--drain-delay", "2s"});
  ASSERT_TRUE(svc.wait_for_result("db"));
  ASSERT_TRUE(svc.wait_for_result("cache"));
  report(svc, "processor", "pass");
  ASSERT_EQ(grpc_list(svc.port())["statuses"][""], grpc_serving);
  // The call starts before the drain and its request ends after it has
  // begun, on a connection a Watch keeps busy (an idle one is closed when
  // the drain begins).
  h2::client c(svc.port());
  ASSERT_TRUE(c.wait([&] { return c.settings_received() > 0; }, 2s));
  const std::uint32_t watch = c.open_stream(h2::grpc_request_headers(grpc_path("Watch")), false);
  ASSERT_TRUE(c.send(h2::data_frame(watch, std::string(5, '\0'), true)));
  ASSERT_TRUE(c.wait([&] { return c.stream(watch) && !c.stream(watch)->body.empty(); }, 5s));
  const std::uint32_t id = c.open_stream(h2::grpc_request_headers(grpc_path("List")), false);
  svc.process().signal(SIGTERM);
  ASSERT_TRUE(svc.process().wait_for_log("draining", 2s)) << svc.process().log();
  ASSERT_TRUE(c.send(h2::data_frame(id, std::string(5, '\0'), true)));
  const auto* st = c.wait_for_stream(id, 5s);
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(h2::header_value(st->trailers, "grpc-status"), "0");
  const auto entry = [](const std::string& name, char status) {
    const std::string e = "\x0a" + std::string(1, static_cast<char>(name.size())) + name +
                          "\x12\x02\x08" + std::string(1, status);
    return "\x0a" + std::string(1, static_cast<char>(e.size())) + e;
  };
  EXPECT_NE(st->body.find(entry("", grpc_not_serving)), std::string::npos);
  EXPECT_NE(st->body.find(entry("readiness", grpc_not_serving)), std::string::npos);
  EXPECT_NE(st->body.find(entry("liveness", grpc_serving)), std::string::npos);
  EXPECT_EQ(svc.process().wait(10s), 0);
}

}  // namespace
}  // namespace badges_health::test::grpc_list_tests
