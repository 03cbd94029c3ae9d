// The checks file: a bad one stops start-up with exit 2 and one line that
// names the field; the example file starts; SIGHUP re-reads it, replacing
// the checks on success and keeping the running ones on failure, without
// touching open connections.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "support/health_service.hpp"
#include "support/raw_client.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace badges_health::test {
namespace {

using nlohmann::json;
using std::chrono::seconds;

const std::string valid_tcp = R"({"name":"db","type":"tcp","host":"127.0.0.1","port":5432})";
const std::string valid_file =
    R"({"name":"flag","type":"file","path":"/nonexistent/flag","when":"absent"})";

// ------------------------------------------------------- bad at start ----

struct bad_file {
  const char* name;     // test name suffix
  std::string text;     // the whole checks file
  std::string message;  // what follows "config file <path>: "
};

std::ostream& operator<<(std::ostream& os, const bad_file& b) { return os << b.name; }

class HealthConfigRejects : public ::testing::TestWithParam<bad_file> {
 protected:
  temp_dir dir_;
};

TEST_P(HealthConfigRejects, Exits2WithOneLineNamingTheField) {
  const std::string path = dir_.write("checks.json", GetParam().text);
  const auto r =
      run_binary({"--host", "127.0.0.1", "--port", "0", "--config", path}, {}, seconds(3));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "badges-health: config file " + path + ": " + GetParam().message + "\n");
  EXPECT_EQ(r.out, "");
}

INSTANTIATE_TEST_SUITE_P(
    HealthBadFiles, HealthConfigRejects,
    ::testing::Values(
        bad_file{
            "TimeoutEqualToTheDefaultInterval",
            R"({"checks":[)" + valid_tcp + "," + valid_file +
                R"(,{"name":"api","type":"http","url":"http://127.0.0.1:9/","timeout":"10s"}]})",
            "checks[2].timeout: must be less than interval (10s)"},
        bad_file{
            "TimeoutLongerThanTheInterval",
            R"({"checks":[{"name":"db","type":"tcp","host":"127.0.0.1","port":5432,"interval":"1s","timeout":"1500ms"}]})",
            "checks[0].timeout: must be less than interval (1s)"},
        bad_file{
            "TimeoutEqualToAMillisecondInterval",
            R"({"checks":[{"name":"db","type":"tcp","host":"127.0.0.1","port":5432,"interval":"250ms","timeout":"250ms"}]})",
            "checks[0].timeout: must be less than interval (250ms)"},
        bad_file{
            "UnknownType",
            R"({"checks":[{"name":"mail","type":"smtp","host":"127.0.0.1","port":25}]})",
            R"(checks[0].type: unknown type "smtp" (expected tcp, http, grpc, postgres, redis, file, disk, exec or ttl))"},
        bad_file{
            "UnknownField",
            R"({"checks":[{"name":"db","type":"tcp","host":"127.0.0.1","port":5432,"hots":"x"}]})",
            "checks[0]: unknown field 'hots' for a tcp check"},
        bad_file{
            "FieldOfAnotherType",
            R"({"checks":[{"name":"db","type":"tcp","host":"127.0.0.1","port":5432,"url":"http://x/"}]})",
            "checks[0]: unknown field 'url' for a tcp check"},
        bad_file{"PortAsString",
                 R"({"checks":[{"name":"db","type":"tcp","host":"127.0.0.1","port":"x"}]})",
                 R"(checks[0].port: expected an integer between 1 and 65535, got "x")"},
        bad_file{"PortOutOfRange",
                 R"({"checks":[{"name":"db","type":"tcp","host":"127.0.0.1","port":70000}]})",
                 "checks[0].port: expected an integer between 1 and 65535, got 70000"},
        bad_file{
            "CriticalAsString",
            "{\"checks\":[" + valid_tcp.substr(0, valid_tcp.size() - 1) + R"(,"critical":"yes"}]})",
            "checks[0].critical: expected true or false, got string"},
        bad_file{
            "IntervalNotADuration",
            "{\"checks\":[" + valid_tcp.substr(0, valid_tcp.size() - 1) +
                R"(,"interval":"soon"}]})",
            R"(checks[0].interval: expected a duration such as "250ms", "5s" or a number of seconds, got "soon")"},
        bad_file{"RiseZero",
                 "{\"checks\":[" + valid_tcp.substr(0, valid_tcp.size() - 1) + R"(,"rise":0}]})",
                 "checks[0].rise: expected an integer between 1 and 100, got 0"},
        bad_file{"DuplicateName", "{\"checks\":[" + valid_tcp + "," + valid_tcp + "]}",
                 R"(checks[1].name: duplicate name "db")"},
        bad_file{"UppercaseName",
                 R"({"checks":[{"name":"DB","type":"tcp","host":"127.0.0.1","port":5432}]})",
                 R"(checks[0].name: must match [a-z0-9_-]+ (at most 64 characters), got "DB")"},
        bad_file{
            "NameWithADot",
            R"({"checks":[{"name":"db.main","type":"tcp","host":"127.0.0.1","port":5432}]})",
            R"(checks[0].name: must match [a-z0-9_-]+ (at most 64 characters), got "db.main")"},
        bad_file{
            "ExpectJsonWithoutALeadingSlash",
            R"({"checks":[{"name":"api","type":"http","url":"https://127.0.0.1/","expect_json":{"pointer":"healthy","equals":true}}]})",
            R"(checks[0].expect_json.pointer: not a JSON Pointer (RFC 6901) such as "/healthy": "healthy")"},
        bad_file{
            "CaFileOnAPlainHttpUrl",
            R"({"checks":[{"name":"api","type":"http","url":"http://127.0.0.1/","ca_file":"/etc/hostname"}]})",
            R"(checks[0].ca_file: only for https:// URLs)"},
        bad_file{
            "CaFileThatCannotBeRead",
            R"({"checks":[{"name":"api","type":"http","url":"https://127.0.0.1/","ca_file":"/nonexistent/ca.pem"}]})",
            R"(checks[0].ca_file: cannot read "/nonexistent/ca.pem": No such file or directory)"},
        bad_file{
            "FtpUrl", R"({"checks":[{"name":"api","type":"http","url":"ftp://127.0.0.1/health"}]})",
            R"(checks[0].url: expected an http:// or https:// URL, got "ftp://127.0.0.1/health")"},
        bad_file{
            "ExpectStatusNotACode",
            R"({"checks":[{"name":"api","type":"http","url":"http://127.0.0.1/","expect_status":"2xx"}]})",
            R"(checks[0].expect_status: expected a status code or a range such as "200-299", got "2xx")"},
        bad_file{
            "ExpectStatusWithTrailingText",
            R"({"checks":[{"name":"api","type":"http","url":"http://127.0.0.1/","expect_status":"200x"}]})",
            R"(checks[0].expect_status: expected a status code or a range such as "200-299", got "200x")"},
        bad_file{"MissingHost", R"({"checks":[{"name":"db","type":"tcp","port":5432}]})",
                 "checks[0]: missing field 'host' for a tcp check"},
        bad_file{"FileWhenNeitherPresentNorAbsent",
                 R"({"checks":[{"name":"flag","type":"file","path":"/tmp/x","when":"exists"}]})",
                 R"(checks[0].when: expected "present" or "absent", got "exists")"},
        bad_file{"DiskWithoutThreshold", R"({"checks":[{"name":"disk","type":"disk","path":"/"}]})",
                 "checks[0]: a disk check needs min_free_bytes, min_free_percent, warn_free_bytes "
                 "or warn_free_percent"},
        bad_file{"UnknownTopLevelField", R"({"check":[]})", "(top level): unknown field 'check'"},
        bad_file{"NoChecksList", "{}",
                 "(top level): missing field 'checks' (an array, may be empty)"},
        bad_file{"IntervalBelow100ms",
                 "{\"checks\":[" + valid_tcp.substr(0, valid_tcp.size() - 1) +
                     R"(,"interval":"50ms"}]})",
                 "checks[0].interval: must be at least 100ms"},
        bad_file{"ExecWithoutTheTrustFlag",
                 R"({"checks":[{"name":"dns","type":"exec","command":["/bin/true"]}]})",
                 "checks[0]: check \"dns\" runs a command, which needs --allow-exec-checks "
                 "(BADGES_HEALTH_ALLOW_EXEC_CHECKS=true)"},
        bad_file{"TtlWithoutAnAdminToken",
                 R"({"checks":[{"name":"processor","type":"ttl","ttl":"30s"}]})",
                 "checks[0]: a ttl check needs --admin-token (BADGES_HEALTH_ADMIN_TOKEN): "
                 "reports to PUT /checks/processor must carry it"},
        bad_file{"ChecksNotAnArray", R"({"checks":{}})", "checks: expected an array, got object"}),
    [](const ::testing::TestParamInfo<bad_file>& param_info) {
      return std::string(param_info.param.name);
    });

class HealthConfigFile : public ::testing::Test {
 protected:
  temp_dir dir_;
};

TEST_F(HealthConfigFile, UnreadablePathExits2NamingThePath) {
  const std::string path = dir_.file("no-such-checks.json");
  const auto r =
      run_binary({"--host", "127.0.0.1", "--port", "0", "--config", path}, {}, seconds(3));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "badges-health: config file " + path + ": cannot be read: No such file or directory\n");
}

TEST_F(HealthConfigFile, InvalidJsonExits2WithTheParseError) {
  const std::string path = dir_.write("checks.json", R"({"checks": [ {"name": "db", )");
  const auto r =
      run_binary({"--host", "127.0.0.1", "--port", "0", "--config", path}, {}, seconds(3));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err.rfind("badges-health: config file " + path + ": invalid JSON: parse error", 0),
            0u)
      << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST_F(HealthConfigFile, ExampleChecksFileStartsWithEveryCheck) {
  // The example sits at examples/checks.json in the source tree.
  const auto example = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() /
                       "examples" / "checks.json";
  ASSERT_TRUE(std::filesystem::exists(example)) << example;
  server_process server({"--config", example.string(), "--threads", "2"});
  const auto res = request(server.port(), "GET", "/status?verbose=true");
  ASSERT_TRUE(res);
  json body = json::parse(res->body());
  ASSERT_TRUE(body.contains("checks")) << body.dump();
  EXPECT_EQ(body["checks"].size(), 3u) << body.dump();
  EXPECT_EQ(body["checks"]["maintenance"]["type"], "file");
  EXPECT_EQ(body["checks"]["disk"]["type"], "disk");
  EXPECT_EQ(body["checks"]["disk"]["critical"], false);
  EXPECT_EQ(body["checks"]["self"]["type"], "http");
}

// -------------------------------------------------------------- reload ----

class HealthReload : public ::testing::Test {
 protected:
  json absent_file_check(const std::string& name) {
    return {{"name", name},     {"type", "file"},      {"path", dir_.file("never-there")},
            {"when", "absent"}, {"interval", "200ms"}, {"timeout", "100ms"}};
  }

  temp_dir dir_;
};

TEST_F(HealthReload, ValidFileReplacesTheChecksWithoutDroppingAKeepAliveConnection) {
  health_service svc(dir_, json::array({absent_file_check("old_check")}));
  ASSERT_TRUE(svc.wait_for_result("old_check"));

  raw_client keep(svc.port());
  const std::string verbose_request =
      "GET /status?verbose=true HTTP/1.1\r\nHost: localhost\r\n\r\n";
  keep.send(verbose_request);
  const auto before = keep.read_response();
  ASSERT_TRUE(before);
  ASSERT_TRUE(json::parse(before->body())["checks"].contains("old_check"));

  svc.write_checks(json::array({absent_file_check("new_check")}));
  svc.process().signal(SIGHUP);
  ASSERT_TRUE(svc.process().wait_for_log("reloaded " + svc.config_path() + ": 1 checks"))
      << svc.process().log();

  // Poll over the same connection: it must survive the reload.
  std::optional<json> replaced;
  ASSERT_TRUE(eventually(
      [&] {
        keep.send(verbose_request);
        const auto res = keep.read_response();
        if (!res) return true;  // connection lost: stop, asserted below
        json body = json::parse(res->body());
        json& checks = body["checks"];
        if (checks.size() == 1 && checks.contains("new_check") &&
            checks["new_check"]["status"] != "pending") {
          replaced = body;
        }
        return replaced.has_value();
      },
      seconds(5)))
      << "the new check never got a result";
  ASSERT_TRUE(replaced) << "the keep-alive connection was dropped by the reload";
  EXPECT_EQ((*replaced)["checks"]["new_check"]["status"], "pass");
  EXPECT_FALSE((*replaced)["checks"].contains("old_check"));
  keep.send("GET /status HTTP/1.1\r\nHost: localhost\r\n\r\n");
  const auto after = keep.read_response();
  ASSERT_TRUE(after) << "the keep-alive connection stopped answering after the reload";
  EXPECT_EQ(after->result_int(), 200);
}

TEST_F(HealthReload, InvalidFileLogsReloadFailedAndKeepsTheOldChecksRunning) {
  health_service svc(dir_, json::array({absent_file_check("old_check")}));
  ASSERT_TRUE(svc.wait_for_result("old_check"));

  svc.write_config_text(
      R"({"checks":[{"name":"new_check","type":"tcp","host":"127.0.0.1","port":5432,)"
      R"("interval":"1s","timeout":"1s"}]})");
  svc.process().signal(SIGHUP);
  ASSERT_TRUE(svc.process().wait_for_log("reload failed")) << svc.process().log();
  EXPECT_NE(svc.process().log().find("checks[0].timeout: must be less than interval (1s)"),
            std::string::npos)
      << svc.process().log();
  EXPECT_TRUE(svc.process().running());

  // The old check is still there and still running: its observation time
  // moves on after the failed reload.
  json at_failure = svc.verbose();
  ASSERT_TRUE(at_failure["checks"].contains("old_check")) << at_failure.dump();
  EXPECT_FALSE(at_failure["checks"].contains("new_check"));
  const std::string observed = at_failure["checks"]["old_check"]["observedAt"].get<std::string>();
  auto later = svc.wait_for([&](const json& b) {
    const json now_observed = json_at(b, "/checks/old_check/observedAt");
    return now_observed.is_string() && now_observed != observed;
  });
  ASSERT_TRUE(later) << "the old check stopped running after the failed reload";
  EXPECT_EQ((*later)["checks"].size(), 1u);
  EXPECT_EQ((*later)["checks"]["old_check"]["status"], "pass");
}

TEST_F(HealthReload, UnchangedCheckKeepsItsStateAcrossAReload) {
  json failing = absent_file_check("failing");
  const std::string flag = dir_.write("flag", "");
  failing["path"] = flag;  // present, so this "absent" check fails each time
  health_service svc(dir_, json::array({failing}));
  ASSERT_TRUE(svc.wait_for([](const json& b) {
    const json failures = json_at(b, "/checks/failing/consecutiveFailures");
    return failures.is_number_integer() && failures.get<int>() >= 3;
  }));

  svc.write_checks(json::array({failing, absent_file_check("added")}));
  svc.process().signal(SIGHUP);
  ASSERT_TRUE(svc.process().wait_for_log("reloaded " + svc.config_path() + ": 2 checks"))
      << svc.process().log();
  json body = svc.verbose();
  EXPECT_TRUE(body["checks"].contains("added")) << body.dump();
  // A restarted check would be pending or back at one failure.
  EXPECT_EQ(body["checks"]["failing"]["status"], "fail") << body.dump();
  EXPECT_GE(body["checks"]["failing"]["consecutiveFailures"].get<int>(), 3) << body.dump();
}

}  // namespace
}  // namespace badges_health::test
