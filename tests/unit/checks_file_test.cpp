// Validation of the checks file: every error names its place.
#include "badges_health/app/checks_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <unistd.h>
#include <cstdio>
#include <fstream>

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

TEST(checks_file, empty_object_means_no_checks) { EXPECT_TRUE(parse_checks("{}").empty()); }

TEST(checks_file, tcp_check_with_defaults) {
  const auto specs =
      parse_checks(one(R"({"name":"db","type":"tcp","host":"127.0.0.1","port":5432})"));
  ASSERT_EQ(specs.size(), 1u);
  const auto& s = specs[0];
  EXPECT_EQ(s.name, "db");
  EXPECT_EQ(s.type, health::check_type::tcp);
  EXPECT_TRUE(s.critical);
  EXPECT_EQ(s.interval, 10s);
  EXPECT_EQ(s.timeout, 2s);
  EXPECT_EQ(s.rise, 2u);
  EXPECT_EQ(s.fall, 3u);
  EXPECT_EQ(s.port, 5432);
}

TEST(checks_file, durations_as_strings_or_seconds) {
  const auto specs = parse_checks(
      one(R"({"name":"db","type":"tcp","host":"h","port":1,"interval":"5s","timeout":0.25})"));
  EXPECT_EQ(specs[0].interval, 5s);
  EXPECT_EQ(specs[0].timeout, 250ms);
}

TEST(checks_file, http_url_is_split_into_host_port_and_target) {
  const auto s = parse_checks(one(
      R"({"name":"api","type":"http","url":"http://[::1]:8081/health?deep=1","expect_status":[200,"300-302"],"expect_body":"ok"})"))
      [0];
  EXPECT_EQ(s.host, "::1");
  EXPECT_EQ(s.port, 8081);
  EXPECT_EQ(s.target, "/health?deep=1");
  ASSERT_EQ(s.expect_status.size(), 2u);
  EXPECT_EQ(s.expect_status[1].low, 300u);
  EXPECT_EQ(s.expect_status[1].high, 302u);
  EXPECT_EQ(s.expect_body, "ok");
  const auto d = parse_checks(one(R"({"name":"api","type":"http","url":"http://example"})"))[0];
  EXPECT_EQ(d.port, 80);
  EXPECT_EQ(d.target, "/");
}

TEST(checks_file, file_and_disk_checks) {
  const auto specs = parse_checks(R"({"checks":[
    {"name":"maintenance","type":"file","path":"/x","when":"absent"},
    {"name":"disk","type":"disk","path":"/","min_free_percent":5,"critical":false}]})");
  EXPECT_FALSE(specs[0].pass_when_present);
  EXPECT_EQ(specs[1].min_free_percent, 5.0);
  EXPECT_FALSE(specs[1].critical);
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
              HasSubstr("min_free_bytes or min_free_percent"));
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
  EXPECT_EQ(s.type, health::check_type::postgres);
  EXPECT_EQ(s.conninfo, "postgresql://u:pw@db:5432/badges?sslmode=prefer");
  EXPECT_EQ(s.query, "SELECT 1");
  const auto q = parse_checks(one(
      R"({"name":"db","type":"postgres","conninfo":"host=db dbname=badges","query":"SELECT 2"})"))
      [0];
  EXPECT_EQ(q.query, "SELECT 2");
}

TEST(checks_file, redis_check_with_defaults) {
  const auto s = parse_checks(one(R"({"name":"cache","type":"redis","host":"redis"})"))[0];
  EXPECT_EQ(s.type, health::check_type::redis);
  EXPECT_EQ(s.port, 6379);
  EXPECT_EQ(s.password, "");
  const auto a = parse_checks(one(
      R"({"name":"cache","type":"redis","host":"r","port":6380,"username":"u","password":"p"})"))
      [0];
  EXPECT_EQ(a.port, 6380);
  EXPECT_EQ(a.username, "u");
  EXPECT_EQ(a.password, "p");
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
      one(R"({"name":"c","type":"redis","host":"${REDIS_HOST}","port":"${REDIS_PORT}","password":"${LOOPY}"})"),
      env)[0];
  EXPECT_EQ(r.host, "redis.internal");
  EXPECT_EQ(r.port, 6380);
  // A value is not expanded again.
  EXPECT_EQ(r.password, "${PG_CONN}");
  const auto literal =
      parse_checks(one(R"({"name":"c","type":"redis","host":"h","password":"a$${B}$c"})"), env)[0];
  EXPECT_EQ(literal.password, "a${B}$c");
}

}  // namespace
}  // namespace badges_health::app
