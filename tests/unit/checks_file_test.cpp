// Validation of the checks file: every error names its place.
#include "badges_health/app/checks_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

namespace badges_health::app {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string error_of(const std::string& json) {
  try {
    parse_checks(json);
  } catch (const config_error& e) {
    return e.what();
  }
  return "(no error)";
}

std::string one(const std::string& body) { return R"({"checks":[)" + body + "]}"; }

// A check's own fields as --print-config shows them.
nlohmann::ordered_json fields_of(const health::check_spec& spec) {
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  spec.settings->describe(out);
  return out;
}

health::read_options trusting() {
  health::read_options o;
  o.allow_exec = true;
  o.accept_reports = true;
  return o;
}

TEST(checks_file, an_empty_list_means_no_checks_but_no_list_is_an_error) {
  EXPECT_TRUE(parse_checks(R"({"checks":[]})").empty());
  EXPECT_EQ(error_of("{}"), "(top level): missing field 'checks' (an array, may be empty)");
}

TEST(checks_file, a_schema_reference_is_allowed_at_the_top) {
  EXPECT_TRUE(parse_checks(R"({"$schema":"../schema/checks.schema.json","checks":[]})").empty());
  EXPECT_THAT(error_of(R"({"$schema":1,"checks":[]})"), StartsWith("$schema: expected a string"));
}

TEST(checks_file, tcp_check_with_defaults) {
  const auto specs =
      parse_checks(one(R"({"name":"db","type":"tcp","host":"127.0.0.1","port":5432})"));
  ASSERT_EQ(specs.size(), 1u);
  const auto& s = specs[0];
  EXPECT_EQ(s.name, "db");
  EXPECT_EQ(s.type().name, "tcp");
  EXPECT_TRUE(s.critical);
  EXPECT_EQ(s.interval, 10s);
  EXPECT_EQ(s.timeout, 2s);
  EXPECT_EQ(s.rise, 2u);
  EXPECT_EQ(s.fall, 3u);
  EXPECT_EQ(fields_of(s), (nlohmann::ordered_json{{"host", "127.0.0.1"}, {"port", 5432}}));
}

TEST(checks_file, interval_is_at_least_100ms) {
  EXPECT_EQ(error_of(one(R"({"name":"a","type":"tcp","host":"h","port":1,"interval":"99ms"})")),
            "checks[0].interval: must be at least 100ms");
  EXPECT_EQ(
      parse_checks(one(R"({"name":"a","type":"tcp","host":"h","port":1,"interval":"100ms"})"))[0]
          .interval,
      100ms);
}

// The default timeout (2 s) does not fit an interval of 3 s or less: it
// becomes the smaller of 2 s and half the interval, rather than an error
// in a field nobody wrote.
TEST(checks_file, a_default_timeout_is_fitted_to_a_short_interval) {
  const auto timeout_for = [](const std::string& interval) {
    return parse_checks(one(R"({"name":"a","type":"tcp","host":"h","port":1,"interval":")" +
                            interval + R"("})"))[0]
        .timeout;
  };
  EXPECT_EQ(timeout_for("1s"), 500ms);
  EXPECT_EQ(timeout_for("300ms"), 150ms);
  EXPECT_EQ(timeout_for("4s"), 2s);
  EXPECT_EQ(timeout_for("10s"), 2s);
  // One the user wrote is still checked.
  EXPECT_EQ(error_of(one(
                R"({"name":"a","type":"tcp","host":"h","port":1,"interval":"1s","timeout":"1s"})")),
            "checks[0].timeout: must be less than interval (1s)");
}

TEST(checks_file, every_registered_type_is_named_in_the_unknown_type_message) {
  EXPECT_EQ(error_of(one(R"({"name":"a","type":"ftp"})")),
            "checks[0].type: unknown type \"ftp\" (expected tcp, http, grpc, postgres, redis, "
            "file, disk, exec or ttl)");
}

TEST(checks_file, durations_as_strings_or_seconds) {
  const auto specs = parse_checks(
      one(R"({"name":"db","type":"tcp","host":"h","port":1,"interval":"5s","timeout":0.25})"));
  EXPECT_EQ(specs[0].interval, 5s);
  EXPECT_EQ(specs[0].timeout, 250ms);
}

TEST(checks_file, http_check_fields) {
  const auto s = parse_checks(one(
      R"({"name":"api","type":"http","url":"http://[::1]:8081/health?deep=1","expect_status":[200,"300-302"],"warn_status":429,"expect_body":"ok"})"))
      [0];
  EXPECT_EQ(s.type().name, "http");
  EXPECT_EQ(fields_of(s)["url"], "http://[::1]:8081/health?deep=1");
}

TEST(checks_file, https_check_defaults_to_warn_14_days_before_its_certificate_expires) {
  const auto s = parse_checks(one(R"({"name":"api","type":"http","url":"https://x/"})"))[0];
  EXPECT_EQ(fields_of(s)["certWarnDays"], 14);
  EXPECT_EQ(fields_of(s)["insecure"], false);
  const auto off =
      parse_checks(one(R"({"name":"api","type":"http","url":"https://x/","cert_warn_days":0})"))[0];
  EXPECT_EQ(fields_of(off)["certWarnDays"], 0);
  EXPECT_EQ(error_of(one(R"({"name":"a","type":"http","url":"http://x/","cert_warn_days":3})")),
            "checks[0].cert_warn_days: only for https:// URLs");
  EXPECT_THAT(error_of(one(R"({"name":"a","type":"http","url":"http://x/","warn_status":"4xx"})")),
              StartsWith("checks[0].warn_status: expected a status code or a range"));
}

TEST(checks_file, file_and_disk_checks) {
  const auto specs = parse_checks(R"({"checks":[
    {"name":"maintenance","type":"file","path":"/x","when":"absent"},
    {"name":"disk","type":"disk","path":"/","min_free_percent":5,"warn_free_percent":10,"critical":false}]})");
  EXPECT_EQ(fields_of(specs[0])["when"], "absent");
  EXPECT_EQ(fields_of(specs[1])["minFreePercent"], 5.0);
  EXPECT_EQ(fields_of(specs[1])["warnFreePercent"], 10.0);
  EXPECT_FALSE(specs[1].critical);
  EXPECT_EQ(specs[1].type().component_type, "system");
}

TEST(checks_file, disk_warnings_come_before_failures) {
  EXPECT_EQ(
      error_of(one(
          R"({"name":"d","type":"disk","path":"/","min_free_percent":10,"warn_free_percent":5})")),
      "checks[0].warn_free_percent: must be above min_free_percent (10%)");
  EXPECT_EQ(
      error_of(one(
          R"({"name":"d","type":"disk","path":"/","min_free_bytes":100,"warn_free_bytes":100})")),
      "checks[0].warn_free_bytes: must be above min_free_bytes (100)");
  // A warning threshold alone is a disk check too.
  EXPECT_NO_THROW(
      parse_checks(one(R"({"name":"d","type":"disk","path":"/","warn_free_bytes":1})")));
}

TEST(checks_file, exec_checks_need_the_operators_permission) {
  const std::string dns = one(
      R"({"name":"dns","type":"exec","command":["/usr/lib/nagios/plugins/check_dummy","1","slow"]})");
  EXPECT_EQ(error_of(dns),
            "checks[0]: check \"dns\" runs a command, which needs --allow-exec-checks "
            "(BADGES_HEALTH_ALLOW_EXEC_CHECKS=true)");
  const auto s = parse_checks(dns, process_environment(), trusting())[0];
  EXPECT_EQ(s.type().name, "exec");
  EXPECT_EQ(fields_of(s)["command"],
            (nlohmann::ordered_json{"/usr/lib/nagios/plugins/check_dummy", "1", "slow"}));
}

std::string exec_error(const std::string& check) {
  try {
    parse_checks(one(check), process_environment(), trusting());
  } catch (const config_error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(checks_file, exec_commands_are_an_argv_of_an_absolute_executable) {
  EXPECT_THAT(exec_error(R"({"name":"x","type":"exec","command":"check_dummy 0"})"),
              StartsWith("checks[0].command: expected the program and its arguments as an array"));
  EXPECT_THAT(exec_error(R"({"name":"x","type":"exec","command":[]})"),
              StartsWith("checks[0].command: expected the program"));
  EXPECT_EQ(exec_error(R"({"name":"x","type":"exec","command":["check_dummy","0"]})"),
            "checks[0].command[0]: must be an absolute path (there is no shell and no PATH "
            "lookup), got \"check_dummy\"");
  EXPECT_EQ(exec_error(R"({"name":"x","type":"exec","command":["/nonexistent/plugin"]})"),
            "checks[0].command[0]: cannot execute \"/nonexistent/plugin\": No such file or "
            "directory");
  EXPECT_EQ(exec_error(R"({"name":"x","type":"exec","command":["/bin/true",1]})"),
            "checks[0].command[1]: expected a string, got number");
  EXPECT_EQ(exec_error(R"({"name":"x","type":"exec","command":["/bin/true"],"env":{"1X":"y"}})"),
            "checks[0].env.1X: not a variable name ([A-Za-z_][A-Za-z0-9_]*)");
  // Values may be secrets: only the names are shown.
  const auto s = parse_checks(
      one(R"({"name":"x","type":"exec","command":["/bin/true"],"env":{"TOKEN":"s3cret"}})"),
      process_environment(), trusting())[0];
  EXPECT_EQ(fields_of(s)["env"], (nlohmann::ordered_json{"TOKEN"}));
}

TEST(checks_file, ttl_checks_need_an_admin_token_and_have_no_interval) {
  const std::string processor = one(R"({"name":"processor","type":"ttl","ttl":"30s"})");
  EXPECT_EQ(error_of(processor),
            "checks[0]: a ttl check needs --admin-token (BADGES_HEALTH_ADMIN_TOKEN): reports to "
            "PUT /checks/processor must carry it");
  const auto s = parse_checks(processor, process_environment(), trusting())[0];
  EXPECT_EQ(s.type().name, "ttl");
  EXPECT_TRUE(s.type().reported);
  EXPECT_EQ(s.interval, 30s) << "the ttl is the check's schedule";
  EXPECT_EQ(s.rise, 1u);
  EXPECT_EQ(s.fall, 1u);
  EXPECT_EQ(exec_error(R"({"name":"p","type":"ttl","ttl":"30s","interval":"5s"})"),
            "checks[0].interval: a ttl check has no interval: its reports come when the watched "
            "process sends them");
  EXPECT_EQ(exec_error(R"({"name":"p","type":"ttl","ttl":"500ms"})"),
            "checks[0].ttl: must be at least 1s");
  EXPECT_EQ(exec_error(R"({"name":"p","type":"ttl"})"),
            "checks[0]: missing field 'ttl' for a ttl check");
}

TEST(checks_file, grpc_check_fields) {
  const auto s = parse_checks(one(
      R"({"name":"catalyst-grpc","type":"grpc","host":"10.0.0.7","port":50051,"service":""})"))[0];
  EXPECT_EQ(s.type().name, "grpc");
  EXPECT_EQ(fields_of(s),
            (nlohmann::ordered_json{
                {"host", "10.0.0.7"}, {"port", 50051}, {"service", ""}, {"tls", false}}));
  EXPECT_EQ(error_of(one(R"({"name":"g","type":"grpc","host":"h","port":1,"insecure":true})")),
            "checks[0].insecure: only with \"tls\": true");
  EXPECT_EQ(error_of(one(R"({"name":"g","type":"grpc","host":"h","port":1,"url":"x"})")),
            "checks[0]: unknown field 'url' for a grpc check");
}

TEST(checks_file, timeout_not_below_interval_names_the_field) {
  EXPECT_EQ(error_of(R"({"checks":[
      {"name":"a","type":"tcp","host":"h","port":1},
      {"name":"b","type":"tcp","host":"h","port":1},
      {"name":"c","type":"tcp","host":"h","port":1,"timeout":"10s"}]})"),
            "checks[2].timeout: must be less than interval (10s)");
}

TEST(checks_file, each_bad_input_names_its_place) {
  EXPECT_THAT(error_of("{"), StartsWith("invalid JSON"));
  EXPECT_THAT(error_of("[]"), HasSubstr("expected an object"));
  EXPECT_THAT(error_of(R"({"checkz":[]})"), HasSubstr("unknown field 'checkz'"));
  EXPECT_THAT(error_of(R"({"checks":{}})"), StartsWith("checks: expected an array"));
  EXPECT_THAT(error_of(one(R"({"name":"a","type":"ftp"})")),
              StartsWith("checks[0].type: unknown type"));
  EXPECT_THAT(error_of(one(R"({"name":"a","type":"tcp","host":"h","port":1,"hots":"x"})")),
              StartsWith("checks[0]: unknown field 'hots'"));
  EXPECT_THAT(error_of(one(R"({"name":"a","type":"tcp","host":"h","port":"x"})")),
              StartsWith("checks[0].port: expected an integer"));
  EXPECT_THAT(error_of(one(R"({"name":"a","type":"tcp","host":"h","port":70000})")),
              StartsWith("checks[0].port:"));
  EXPECT_THAT(error_of(one(R"({"name":"a","type":"tcp","port":1})")),
              StartsWith("checks[0]: missing field 'host'"));
  EXPECT_THAT(error_of(one(R"({"name":"Bad Name","type":"tcp","host":"h","port":1})")),
              StartsWith("checks[0].name: must match"));
  EXPECT_THAT(error_of(one(R"({"name":"a","type":"tcp","host":"h","port":1,"critical":"yes"})")),
              StartsWith("checks[0].critical: expected true or false"));
  EXPECT_THAT(error_of(one(R"({"name":"a","type":"tcp","host":"h","port":1,"interval":"soon"})")),
              StartsWith("checks[0].interval: expected a duration"));
  EXPECT_THAT(error_of(one(R"({"name":"a","type":"tcp","host":"h","port":1,"rise":0})")),
              StartsWith("checks[0].rise:"));
  EXPECT_THAT(error_of(one(R"({"name":"a","type":"http","url":"ftp://x/"})")),
              StartsWith("checks[0].url: expected an http:// or https:// URL"));
  EXPECT_THAT(error_of(one(R"({"name":"a","type":"http","url":"http://x/","insecure":true})")),
              StartsWith("checks[0].insecure: only for https:// URLs"));
  EXPECT_THAT(
      error_of(
          one(R"({"name":"a","type":"http","url":"https://x/","expect_json":{"pointer":"/a"}})")),
      StartsWith("checks[0].expect_json: expected {"));
  EXPECT_THAT(
      error_of(one(R"({"name":"a","type":"http","url":"http://x/","expect_status":"abc"})")),
      StartsWith("checks[0].expect_status:"));
  EXPECT_THAT(error_of(one(R"({"name":"a","type":"file","path":"/x","when":"sometimes"})")),
              StartsWith("checks[0].when:"));
  EXPECT_THAT(error_of(one(R"({"name":"a","type":"disk","path":"/"})")),
              HasSubstr("min_free_bytes, min_free_percent, warn_free_bytes or warn_free_percent"));
  EXPECT_THAT(error_of(one(R"({"name":"a","type":"disk","path":"/","min_free_percent":150})")),
              StartsWith("checks[0].min_free_percent:"));
}

TEST(checks_file, duplicate_name_is_refused) {
  EXPECT_EQ(error_of(R"({"checks":[{"name":"a","type":"file","path":"/x","when":"absent"},
                                   {"name":"a","type":"file","path":"/y","when":"absent"}]})"),
            "checks[1].name: duplicate name \"a\"");
}

TEST(checks_file, load_names_the_file) {
  try {
    load_checks_file("/nonexistent/checks.json");
    FAIL() << "expected config_error";
  } catch (const config_error& e) {
    EXPECT_THAT(e.what(), StartsWith("config file /nonexistent/checks.json: cannot be read"));
  }
  char path[] = "/tmp/checks_file_testXXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  std::ofstream(path) << one(R"({"name":"a","type":"tcp","host":"h","port":1,"timeout":"20s"})");
  try {
    load_checks_file(path);
    FAIL() << "expected config_error";
  } catch (const config_error& e) {
    EXPECT_EQ(std::string(e.what()), std::string("config file ") + path +
                                         ": checks[0].timeout: must be less than interval (10s)");
  }
  std::remove(path);
}

TEST(checks_file, postgres_check_with_defaults) {
  const auto s = parse_checks(one(
      R"({"name":"db","type":"postgres","conninfo":"postgresql://u:pw@db:5432/badges?sslmode=prefer"})"))
      [0];
  EXPECT_EQ(s.type().name, "postgres");
  EXPECT_EQ(fields_of(s)["conninfo"], "postgresql://u:****@db:5432/badges?sslmode=prefer");
  EXPECT_EQ(fields_of(s)["query"], "SELECT 1");
  const auto q = parse_checks(one(
      R"({"name":"db","type":"postgres","conninfo":"host=db dbname=badges","query":"SELECT 2"})"))
      [0];
  EXPECT_EQ(fields_of(q)["query"], "SELECT 2");
}

TEST(checks_file, redis_check_with_defaults) {
  const auto s = parse_checks(one(R"({"name":"cache","type":"redis","host":"redis"})"))[0];
  EXPECT_EQ(s.type().name, "redis");
  EXPECT_EQ(fields_of(s)["port"], 6379);
  EXPECT_EQ(fields_of(s)["passwordSet"], false);
  const auto a = parse_checks(one(
      R"({"name":"cache","type":"redis","host":"r","port":6380,"username":"u","password":"p"})"))
      [0];
  EXPECT_EQ(fields_of(a)["port"], 6380);
  EXPECT_EQ(fields_of(a)["username"], "u");
  EXPECT_EQ(fields_of(a)["passwordSet"], true);
}

TEST(checks_file, database_checks_bad_input_names_its_place_without_the_password) {
  EXPECT_THAT(error_of(one(R"({"name":"db","type":"postgres"})")),
              StartsWith("checks[0]: missing field 'conninfo'"));
  EXPECT_THAT(error_of(one(R"({"name":"db","type":"postgres","conninfo":""})")),
              StartsWith("checks[0].conninfo: must not be empty"));
  EXPECT_THAT(error_of(one(R"({"name":"db","type":"postgres","conninfo":"host=h","query":""})")),
              StartsWith("checks[0].query: must not be empty"));
  // libpq's own message quotes the token, which here holds the password.
  const std::string bad_uri = error_of(
      one(R"({"name":"db","type":"postgres","conninfo":"postgresql://u:pw%zzSecret@h/db"})"));
  EXPECT_THAT(bad_uri, StartsWith("checks[0].conninfo: invalid percent-encoded token"));
  EXPECT_THAT(bad_uri, Not(HasSubstr("Secret")));
  const std::string bad_keywords =
      error_of(one(R"({"name":"db","type":"postgres","conninfo":"host=h password='Secret"})"));
  EXPECT_THAT(bad_keywords, StartsWith("checks[0].conninfo: unterminated quoted string"));
  EXPECT_THAT(bad_keywords, Not(HasSubstr("Secret")));
  EXPECT_THAT(error_of(one(R"({"name":"c","type":"redis","host":"h","username":"u"})")),
              StartsWith("checks[0].username: needs a password"));
  EXPECT_THAT(error_of(one(R"({"name":"c","type":"redis","port":1})")),
              StartsWith("checks[0]: missing field 'host'"));
  EXPECT_THAT(error_of(one(R"({"name":"c","type":"redis","host":"h","conninfo":"x"})")),
              StartsWith("checks[0]: unknown field 'conninfo'"));
}

// ${NAME} in any string, looked up in an injected environment.
struct variables_case {
  const char* name;
  const char* check;
  const char* error;  // empty: parses
};

class checks_file_variables : public ::testing::TestWithParam<variables_case> {};

TEST_P(checks_file_variables, are_replaced_or_name_the_field_and_variable) {
  const auto env = [](const char* name) -> const char* {
    const std::string n = name;
    if (n == "PG_CONN") return "postgresql://u:pw@db/badges";
    if (n == "REDIS_HOST") return "redis.internal";
    if (n == "REDIS_PORT") return "6380";
    if (n == "LOOPY") return "${PG_CONN}";
    return nullptr;
  };
  const variables_case& c = GetParam();
  std::string error;
  std::vector<health::check_spec> specs;
  try {
    specs = parse_checks(one(c.check), env);
  } catch (const config_error& e) {
    error = e.what();
  }
  EXPECT_EQ(error, c.error);
}

INSTANTIATE_TEST_SUITE_P(
    cases, checks_file_variables,
    ::testing::Values(
        variables_case{"set", R"({"name":"db","type":"postgres","conninfo":"${PG_CONN}"})", ""},
        variables_case{
            "inside_text",
            R"({"name":"c","type":"redis","host":"${REDIS_HOST}","port":"${REDIS_PORT}"})", ""},
        variables_case{
            "unset",
            R"({"name":"db","type":"postgres","conninfo":"${PG_COMPONENT_PSQL_CONNECTION_STRING}"})",
            "checks[0].conninfo: environment variable PG_COMPONENT_PSQL_CONNECTION_STRING is not "
            "set"},
        variables_case{"unterminated", R"({"name":"c","type":"redis","host":"${REDIS_HOST"})",
                       "checks[0].host: expected ${NAME} with NAME made of letters, digits and '_' "
                       "(write $${ for a literal ${)"},
        variables_case{
            "in_a_list",
            R"({"name":"a","type":"http","url":"http://x/","expect_status":["${NOPE}"]})",
            "checks[0].expect_status[0]: environment variable NOPE is not set"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(checks_file, variables_values_are_used_as_they_are) {
  const auto env = [](const char* name) -> const char* {
    const std::string n = name;
    if (n == "LOOPY") return "${PG_CONN}";
    if (n == "REDIS_HOST") return "redis.internal";
    if (n == "REDIS_PORT") return "6380";
    return nullptr;
  };
  const auto r = parse_checks(
      one(R"({"name":"c","type":"redis","host":"${REDIS_HOST}","port":"${REDIS_PORT}"})"), env)[0];
  EXPECT_EQ(fields_of(r)["host"], "redis.internal");
  EXPECT_EQ(fields_of(r)["port"], 6380);
  // A value is not expanded again.
  const auto again =
      parse_checks(one(R"({"name":"f","type":"file","path":"${LOOPY}","when":"absent"})"), env)[0];
  EXPECT_EQ(fields_of(again)["path"], "${PG_CONN}");
  const auto literal =
      parse_checks(one(R"({"name":"f","type":"file","path":"/a$${B}$c","when":"absent"})"), env)[0];
  EXPECT_EQ(fields_of(literal)["path"], "/a${B}$c");
}

}  // namespace
}  // namespace badges_health::app
