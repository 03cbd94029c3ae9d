// Unit tests for parse_config (flags, environment fallbacks, validation and
// cross checks) and for parse_duration / format_duration.
#include "badges_health/app/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "badges_health/app/flag_reference.hpp"
#include "support/temp_dir.hpp"

namespace badges_health::app {
namespace {

using namespace std::chrono_literals;
using action = parse_result::action;

// A fake environment backed by a map; lookups of unset names return nullptr.
class fake_env {
 public:
  fake_env() = default;
  fake_env(std::initializer_list<std::pair<const std::string, std::string>> vars) : vars_(vars) {}

  env_lookup lookup() const {
    return [this](const char* name) -> const char* {
      const auto it = vars_.find(name);
      return it == vars_.end() ? nullptr : it->second.c_str();
    };
  }

 private:
  std::map<std::string, std::string> vars_;
};

parse_result parse(const std::vector<std::string>& args, const fake_env& env = {}) {
  return parse_config(args, env.lookup());
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// --- defaults and actions -------------------------------------------------

TEST(parse_config, defaults_without_flags_or_environment) {
  const parse_result r = parse({});
  ASSERT_EQ(r.what, action::run) << r.message;
  const config& c = r.cfg;
  EXPECT_EQ(c.server.port, 8080);
  EXPECT_EQ(c.server.host, "0.0.0.0");
  EXPECT_EQ(c.server.request_timeout, 10s);
  EXPECT_EQ(c.server.idle_timeout, 75s);
  EXPECT_EQ(c.server.write_timeout, 10s);
  EXPECT_EQ(c.drain_delay, 5s);
  EXPECT_EQ(c.shutdown_timeout, 20s);
  EXPECT_EQ(c.server.max_header_bytes, 8192u);
  EXPECT_EQ(c.server.max_target_bytes, 2048u);
  EXPECT_EQ(c.server.max_connections, 10000u);
  EXPECT_GE(c.server.threads, 1u);
  EXPECT_FALSE(c.server.access_log);
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.format, log_format::text);
  EXPECT_EQ(c.config_file, "");
  EXPECT_TRUE(c.details_token.empty());
  EXPECT_TRUE(c.metrics_token.empty());
  EXPECT_TRUE(r.message.empty());
}

TEST(parse_config, null_env_lookup_gives_defaults) {
  const parse_result r = parse_config({}, env_lookup{});
  ASSERT_EQ(r.what, action::run) << r.message;
  EXPECT_EQ(r.cfg.server.port, 8080);
}

TEST(parse_config, help_flag_asks_for_help) {
  EXPECT_EQ(parse({"--help"}).what, action::help);
  EXPECT_EQ(parse({"-h"}).what, action::help);
  EXPECT_EQ(parse({"--port", "1", "--help"}).what, action::help);
}

TEST(parse_config, version_flag_asks_for_version) {
  EXPECT_EQ(parse({"--version"}).what, action::version);
}

TEST(parse_config, print_config_applies_every_other_flag_and_variable) {
  const parse_result r =
      parse({"--print-config", "--port", "9"}, {{"BADGES_HEALTH_DRAIN_DELAY", "2s"}});
  EXPECT_EQ(r.what, action::print_config);
  EXPECT_EQ(r.cfg.server.port, 9);
  EXPECT_EQ(r.cfg.drain_delay, 2s);
  // A bad value is still an error: --print-config checks, it does not bypass.
  const parse_result bad = parse({"--print-config"}, {{"HTTP_SERVER_PORT", "abc"}});
  EXPECT_EQ(bad.what, action::error);
  EXPECT_TRUE(starts_with(bad.message, "HTTP_SERVER_PORT")) << bad.message;
}

TEST(effective_config_json, reports_values_and_never_the_tokens) {
  config c;
  c.server.port = 9090;
  c.drain_delay = 3s;
  c.details_token = "s3cret-details";
  const std::string out = effective_config_json(c, {"/status", "/livez"});
  EXPECT_NE(out.find(R"("port": 9090)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("drainDelayMs": 3000)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("detailsTokenSet": true)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("metricsTokenSet": false)"), std::string::npos) << out;
  EXPECT_NE(out.find(R"("/livez")"), std::string::npos) << out;
  EXPECT_EQ(out.find("s3cret"), std::string::npos) << out;
}

TEST(parse_config, print_flag_reference_asks_for_the_reference) {
  EXPECT_EQ(parse({"--print-flag-reference"}).what, action::print_flag_reference);
  // It prints the table, not this configuration: a bad value does not matter.
  EXPECT_EQ(parse({"--print-flag-reference"}, {{"HTTP_SERVER_PORT", "abc"}}).what,
            action::print_flag_reference);
}

TEST(parse_config, usage_names_every_flag_and_its_variable) {
  const std::string text = usage();
  for (std::string_view name : {"--host",
                                "--port",
                                "--threads",
                                "--log-level",
                                "--log-format",
                                "--access-log",
                                "--drain-delay",
                                "--shutdown-timeout",
                                "--request-timeout",
                                "--idle-timeout",
                                "--write-timeout",
                                "--max-header-bytes",
                                "--max-target-bytes",
                                "--max-connections",
                                "--config",
                                "--details-token",
                                "--metrics-token",
                                "--help",
                                "--version",
                                "HTTP_SERVER_PORT",
                                "HTTP_SERVER_HOST"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name;
  }
}

// --- argument forms ---------------------------------------------------------

TEST(parse_config, flag_equals_value_form) {
  const parse_result r = parse({"--port=9000"});
  ASSERT_EQ(r.what, action::run) << r.message;
  EXPECT_EQ(r.cfg.server.port, 9000);
}

TEST(parse_config, flag_space_value_form) {
  const parse_result r = parse({"--port", "9000"});
  ASSERT_EQ(r.what, action::run) << r.message;
  EXPECT_EQ(r.cfg.server.port, 9000);
}

TEST(parse_config, unknown_flag_is_an_error) {
  const parse_result r = parse({"--colour=blue"});
  EXPECT_EQ(r.what, action::error);
  EXPECT_NE(r.message.find("--colour"), std::string::npos) << r.message;
}

TEST(parse_config, positional_argument_is_an_error) {
  const parse_result r = parse({"serve"});
  EXPECT_EQ(r.what, action::error);
  EXPECT_NE(r.message.find("serve"), std::string::npos) << r.message;
}

TEST(parse_config, missing_value_is_an_error_naming_the_flag) {
  const parse_result r = parse({"--port"});
  EXPECT_EQ(r.what, action::error);
  EXPECT_TRUE(starts_with(r.message, "--port: ")) << r.message;
  EXPECT_NE(r.message.find("missing value"), std::string::npos) << r.message;
}

TEST(parse_config, access_log_is_a_switch) {
  const parse_result on = parse({"--access-log"});
  ASSERT_EQ(on.what, action::run) << on.message;
  EXPECT_TRUE(on.cfg.server.access_log);

  // A switch does not consume the next argument.
  const parse_result next = parse({"--access-log", "--port", "81"});
  ASSERT_EQ(next.what, action::run) << next.message;
  EXPECT_TRUE(next.cfg.server.access_log);
  EXPECT_EQ(next.cfg.server.port, 81);

  const parse_result off = parse({"--access-log=false"}, {{"BADGES_HEALTH_ACCESS_LOG", "true"}});
  ASSERT_EQ(off.what, action::run) << off.message;
  EXPECT_FALSE(off.cfg.server.access_log);
}

TEST(parse_config, help_wins_over_a_bad_value_anywhere) {
  EXPECT_EQ(parse({"--port", "abc", "--help"}).what, action::help);
  EXPECT_EQ(parse({"--colour", "--help"}).what, action::help);
  EXPECT_EQ(parse({"--version"}, {{"HTTP_SERVER_PORT", "abc"}}).what, action::version);
}

TEST(parse_config, last_of_a_repeated_flag_wins) {
  const parse_result r = parse({"--port=1", "--port", "2", "--access-log", "--access-log=off"});
  ASSERT_EQ(r.what, action::run) << r.message;
  EXPECT_EQ(r.cfg.server.port, 2);
  EXPECT_FALSE(r.cfg.server.access_log);
}

TEST(parse_config, empty_equals_value_does_not_take_the_next_argument) {
  // Read as "--details-token" followed by its value, the token would
  // silently become "--access-log".
  const parse_result r = parse({"--details-token=", "--access-log"});
  EXPECT_EQ(r.what, action::error);
  EXPECT_EQ(r.message, "--details-token: must not be empty");
}

TEST(parse_config, empty_equals_value_of_a_switch_is_an_error) {
  const parse_result r = parse({"--access-log="});
  EXPECT_EQ(r.what, action::error);
  EXPECT_TRUE(starts_with(r.message, "--access-log: ")) << r.message;
}

TEST(parse_config, integers_are_decimal) {
  const parse_result leading_zero = parse({"--port=010"});
  ASSERT_EQ(leading_zero.what, action::run) << leading_zero.message;
  EXPECT_EQ(leading_zero.cfg.server.port, 10);
  EXPECT_EQ(parse({"--port=0x10"}).what, action::error);
  EXPECT_EQ(parse({"--threads=+2"}).what, action::error);
}

TEST(parse_config, error_messages_use_our_words) {
  EXPECT_EQ(parse({"--port=http"}).message,
            "--port: expected an integer between 0 and 65535, got 'http'");
  EXPECT_EQ(parse({"--colour=blue"}).message, "unknown flag --colour (see --help)");
  EXPECT_EQ(parse({"serve"}).message, "unexpected argument 'serve'");
  EXPECT_EQ(parse({"--idle-timeout"}).message, "--idle-timeout: missing value");
  EXPECT_EQ(parse({"--shutdown-timeout=0"}).message,
            "--shutdown-timeout: must be at least 1ms, got '0'");
}

// --- happy path of every flag -----------------------------------------------

TEST(parse_config, every_flag_sets_its_field) {
  const parse_result r = parse({"--host",
                                "::1",
                                "--port",
                                "0",
                                "--threads",
                                "3",
                                "--log-level",
                                "debug",
                                "--log-format",
                                "json",
                                "--access-log",
                                "--drain-delay",
                                "1s",
                                "--shutdown-timeout",
                                "30s",
                                "--request-timeout",
                                "250ms",
                                "--idle-timeout",
                                "2m",
                                "--write-timeout",
                                "1.5",
                                "--max-header-bytes",
                                "16384",
                                "--max-target-bytes",
                                "4096",
                                "--max-connections",
                                "5",
                                "--config",
                                "/etc/checks.json",
                                "--details-token",
                                "d-secret",
                                "--metrics-token",
                                "m-secret"});
  ASSERT_EQ(r.what, action::run) << r.message;
  const config& c = r.cfg;
  EXPECT_EQ(c.server.host, "::1");
  EXPECT_EQ(c.server.port, 0);
  EXPECT_EQ(c.server.threads, 3u);
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.format, log_format::json);
  EXPECT_TRUE(c.server.access_log);
  EXPECT_EQ(c.drain_delay, 1s);
  EXPECT_EQ(c.shutdown_timeout, 30s);
  EXPECT_EQ(c.server.request_timeout, 250ms);
  EXPECT_EQ(c.server.idle_timeout, 2min);
  EXPECT_EQ(c.server.write_timeout, 1500ms);
  EXPECT_EQ(c.server.max_header_bytes, 16384u);
  EXPECT_EQ(c.server.max_target_bytes, 4096u);
  EXPECT_EQ(c.server.max_connections, 5u);
  EXPECT_EQ(c.config_file, "/etc/checks.json");
  EXPECT_EQ(*c.details_token.value(), "d-secret");
  EXPECT_EQ(*c.metrics_token.value(), "m-secret");
}

TEST(parse_config, every_log_level_is_accepted) {
  for (std::string level : {"trace", "debug", "info", "warn", "error", "critical", "off"}) {
    const parse_result r = parse({"--log-level=" + level});
    ASSERT_EQ(r.what, action::run) << level << ": " << r.message;
    EXPECT_EQ(r.cfg.log_level, level);
  }
}

TEST(parse_config, range_limits_are_inclusive) {
  const parse_result r = parse({"--port=65535", "--threads=256", "--max-header-bytes=256",
                                "--max-target-bytes=16", "--max-connections=1", "--drain-delay=0"});
  ASSERT_EQ(r.what, action::run) << r.message;
  EXPECT_EQ(r.cfg.server.port, 65535);
  EXPECT_EQ(r.cfg.server.threads, 256u);
  EXPECT_EQ(r.cfg.server.max_header_bytes, 256u);
  EXPECT_EQ(r.cfg.server.max_target_bytes, 16u);
  EXPECT_EQ(r.cfg.server.max_connections, 1u);
  EXPECT_EQ(r.cfg.drain_delay, 0ms);
}

// --- a bad value for every flag ---------------------------------------------

struct bad_flag_case {
  std::string flag;
  std::string value;
  /// Switches take a value only as --flag=value; "--flag value" would read
  /// the value as the next argument.
  bool is_switch = false;
};

void PrintTo(const bad_flag_case& c, std::ostream* os) { *os << c.flag << "='" << c.value << "'"; }

class bad_flag_value : public ::testing::TestWithParam<bad_flag_case> {};

TEST_P(bad_flag_value, is_an_error_whose_message_starts_with_the_flag) {
  const bad_flag_case& p = GetParam();
  const parse_result eq_form = parse({p.flag + "=" + p.value});
  EXPECT_EQ(eq_form.what, action::error);
  EXPECT_TRUE(starts_with(eq_form.message, p.flag + ": ")) << eq_form.message;

  if (p.is_switch) return;
  const parse_result space_form = parse({p.flag, p.value});
  EXPECT_EQ(space_form.what, action::error);
  EXPECT_TRUE(starts_with(space_form.message, p.flag + ": ")) << space_form.message;
}

INSTANTIATE_TEST_SUITE_P(
    parse_config, bad_flag_value,
    ::testing::Values(
        bad_flag_case{"--host", ""}, bad_flag_case{"--port", "http"},
        bad_flag_case{"--port", "65536"}, bad_flag_case{"--port", "-1"},
        bad_flag_case{"--port", "80x"}, bad_flag_case{"--threads", "0"},
        bad_flag_case{"--threads", "257"}, bad_flag_case{"--threads", "many"},
        bad_flag_case{"--log-level", "verbose"}, bad_flag_case{"--log-level", "INFO"},
        bad_flag_case{"--log-format", "xml"}, bad_flag_case{"--access-log", "maybe", true},
        bad_flag_case{"--drain-delay", "soon"}, bad_flag_case{"--drain-delay", "-1s"},
        bad_flag_case{"--shutdown-timeout", "0"}, bad_flag_case{"--shutdown-timeout", "5x"},
        bad_flag_case{"--request-timeout", "0"}, bad_flag_case{"--request-timeout", "ten"},
        bad_flag_case{"--idle-timeout", "0s"}, bad_flag_case{"--idle-timeout", "1e3"},
        bad_flag_case{"--write-timeout", "0ms"}, bad_flag_case{"--write-timeout", ""},
        bad_flag_case{"--max-header-bytes", "255"}, bad_flag_case{"--max-header-bytes", "2000000"},
        bad_flag_case{"--max-header-bytes", "8k"}, bad_flag_case{"--max-target-bytes", "15"},
        bad_flag_case{"--max-target-bytes", "abc"}, bad_flag_case{"--max-connections", "0"},
        bad_flag_case{"--max-connections", "-5"}, bad_flag_case{"--config", ""},
        bad_flag_case{"--details-token", ""}, bad_flag_case{"--metrics-token", ""}),
    [](const ::testing::TestParamInfo<bad_flag_case>& case_info) {
      std::string name = std::to_string(case_info.index) + "_";
      for (char ch : case_info.param.flag.substr(2)) name.push_back(ch == '-' ? '_' : ch);
      return name;
    });

TEST(parse_config, bad_value_message_quotes_the_value) {
  const parse_result r = parse({"--port=http"});
  ASSERT_EQ(r.what, action::error);
  EXPECT_NE(r.message.find("'http'"), std::string::npos) << r.message;
}

// --- environment ------------------------------------------------------------

TEST(parse_config, environment_supplies_values) {
  const fake_env env{{"HTTP_SERVER_PORT", "9100"},
                     {"HTTP_SERVER_HOST", "127.0.0.1"},
                     {"BADGES_HEALTH_THREADS", "2"},
                     {"BADGES_HEALTH_LOG_LEVEL", "warn"},
                     {"BADGES_HEALTH_LOG_FORMAT", "json"},
                     {"BADGES_HEALTH_ACCESS_LOG", "yes"},
                     {"BADGES_HEALTH_DRAIN_DELAY", "2s"},
                     {"BADGES_HEALTH_SHUTDOWN_TIMEOUT", "1m"},
                     {"BADGES_HEALTH_REQUEST_TIMEOUT", "3s"},
                     {"BADGES_HEALTH_IDLE_TIMEOUT", "4s"},
                     {"BADGES_HEALTH_WRITE_TIMEOUT", "6s"},
                     {"BADGES_HEALTH_MAX_HEADER_BYTES", "4096"},
                     {"BADGES_HEALTH_MAX_TARGET_BYTES", "1024"},
                     {"BADGES_HEALTH_MAX_CONNECTIONS", "7"},
                     {"BADGES_HEALTH_CONFIG", "/c.json"},
                     {"BADGES_HEALTH_DETAILS_TOKEN", "dt"},
                     {"BADGES_HEALTH_METRICS_TOKEN", "mt"},
                     {"CURRENT_VERSION", "4.5.6"},
                     {"COMMIT_HASH", "abc123"}};
  const parse_result r = parse({}, env);
  ASSERT_EQ(r.what, action::run) << r.message;
  const config& c = r.cfg;
  EXPECT_EQ(c.server.port, 9100);
  EXPECT_EQ(c.server.host, "127.0.0.1");
  EXPECT_EQ(c.server.threads, 2u);
  EXPECT_EQ(c.log_level, "warn");
  EXPECT_EQ(c.format, log_format::json);
  EXPECT_TRUE(c.server.access_log);
  EXPECT_EQ(c.drain_delay, 2s);
  EXPECT_EQ(c.shutdown_timeout, 1min);
  EXPECT_EQ(c.server.request_timeout, 3s);
  EXPECT_EQ(c.server.idle_timeout, 4s);
  EXPECT_EQ(c.server.write_timeout, 6s);
  EXPECT_EQ(c.server.max_header_bytes, 4096u);
  EXPECT_EQ(c.server.max_target_bytes, 1024u);
  EXPECT_EQ(c.server.max_connections, 7u);
  EXPECT_EQ(c.config_file, "/c.json");
  EXPECT_EQ(*c.details_token.value(), "dt");
  EXPECT_EQ(*c.metrics_token.value(), "mt");
  EXPECT_EQ(c.version, "4.5.6");
  EXPECT_EQ(c.commit_hash, "abc123");
}

TEST(parse_config, empty_build_identity_variables_keep_the_defaults) {
  const parse_result r = parse({}, {{"CURRENT_VERSION", ""}, {"COMMIT_HASH", ""}});
  ASSERT_EQ(r.what, action::run) << r.message;
  EXPECT_EQ(r.cfg.version, BADGES_HEALTH_VERSION);
  EXPECT_EQ(r.cfg.commit_hash, "unknown");
}

TEST(parse_config, flag_wins_over_environment) {
  const fake_env env{{"HTTP_SERVER_PORT", "9100"}, {"BADGES_HEALTH_LOG_LEVEL", "warn"}};
  const parse_result r = parse({"--port=9200"}, env);
  ASSERT_EQ(r.what, action::run) << r.message;
  EXPECT_EQ(r.cfg.server.port, 9200);
  EXPECT_EQ(r.cfg.log_level, "warn");  // not overridden, so the environment's
}

TEST(parse_config, bad_environment_value_names_the_variable) {
  const parse_result r = parse({}, {{"HTTP_SERVER_PORT", "eighty"}});
  EXPECT_EQ(r.what, action::error);
  EXPECT_TRUE(starts_with(r.message, "HTTP_SERVER_PORT (environment): ")) << r.message;
}

TEST(parse_config, bad_environment_duration_names_the_variable) {
  const parse_result r = parse({}, {{"BADGES_HEALTH_IDLE_TIMEOUT", "forever"}});
  EXPECT_EQ(r.what, action::error);
  EXPECT_TRUE(starts_with(r.message, "BADGES_HEALTH_IDLE_TIMEOUT (environment): ")) << r.message;
}

TEST(parse_config, flag_replaces_a_malformed_variable) {
  const parse_result r = parse({"--port=9200"}, {{"HTTP_SERVER_PORT", "eighty"}});
  ASSERT_EQ(r.what, action::run) << r.message;
  EXPECT_EQ(r.cfg.server.port, 9200);
}

TEST(parse_config, bad_environment_switch_names_the_variable) {
  const parse_result r = parse({}, {{"BADGES_HEALTH_ACCESS_LOG", "maybe"}});
  EXPECT_EQ(r.what, action::error);
  EXPECT_EQ(r.message,
            "BADGES_HEALTH_ACCESS_LOG (environment): expected true or false, got 'maybe'");
}

// The generic names of before the prefix, and Kubernetes' service links
// (<SERVICE>_PORT=tcp://ip:port for a Service named <service>), are not
// read: none of these can change or stop start-up.
TEST(parse_config, variables_without_the_prefix_are_not_read) {
  const fake_env env{{"THREADS", "abc"},
                     {"LOG_LEVEL", "loud"},
                     {"ACCESS_LOG", "maybe"},
                     {"DRAIN_DELAY", "forever"},
                     {"MAX_CONNECTIONS", "0"},
                     {"CONFIG_FILE", "/nonexistent/checks.json"},
                     {"DETAILS_TOKEN", "old-name"},
                     {"METRICS_TOKEN", "old-name"},
                     {"AGENT_PORT", "tcp://10.0.0.1:5555"},
                     {"THREADS_PORT", "tcp://10.0.0.2:80"},
                     {"BADGES_HEALTH_PORT", "tcp://10.0.0.3:8080"},
                     {"BADGES_HEALTH_SERVICE_PORT", "8080"}};
  const parse_result r = parse({}, env);
  ASSERT_EQ(r.what, action::run) << r.message;
  const parse_result defaults = parse({});
  EXPECT_EQ(effective_config_json(r.cfg, {}), effective_config_json(defaults.cfg, {}));
}

TEST(parse_config, a_service_link_value_in_a_variable_it_reads_says_so) {
  const parse_result r = parse({}, {{"BADGES_HEALTH_AGENT_PORT", "tcp://10.0.0.1:5555"}});
  ASSERT_EQ(r.what, action::error);
  EXPECT_TRUE(starts_with(r.message, "BADGES_HEALTH_AGENT_PORT (environment): ")) << r.message;
  EXPECT_THAT(r.message, ::testing::HasSubstr("a Service named badges-health-agent"));
  EXPECT_THAT(r.message, ::testing::HasSubstr("enableServiceLinks: false"));
}

// --- secrets: *_FILE and the command-line warning ---------------------------

TEST(parse_config, a_token_file_supplies_the_token) {
  test::temp_dir dir;
  const std::string details = dir.write("details", "from-file\n");
  const std::string metrics = dir.write("metrics", "metrics-from-file");
  const parse_result r = parse({}, {{"BADGES_HEALTH_DETAILS_TOKEN_FILE", details},
                                    {"BADGES_HEALTH_METRICS_TOKEN_FILE", metrics}});
  ASSERT_EQ(r.what, action::run) << r.message;
  EXPECT_EQ(*r.cfg.details_token.value(), "from-file");
  EXPECT_EQ(r.cfg.details_token.file(), details);
  EXPECT_EQ(r.cfg.details_token.variable(), "BADGES_HEALTH_DETAILS_TOKEN_FILE");
  EXPECT_EQ(*r.cfg.metrics_token.value(), "metrics-from-file");
  EXPECT_TRUE(r.warnings.empty());
  const std::string printed = effective_config_json(r.cfg, {});
  EXPECT_THAT(printed, ::testing::HasSubstr(R"("detailsTokenFile": ")" + details + "\""));
  EXPECT_THAT(printed, ::testing::Not(::testing::HasSubstr("from-file\"")));
}

TEST(parse_config, secrets_of_returns_handles_that_share_the_configs_values) {
  test::temp_dir dir;
  const std::string details = dir.write("details", "one");
  parse_result r = parse({}, {{"BADGES_HEALTH_DETAILS_TOKEN_FILE", details}});
  ASSERT_EQ(r.what, action::run) << r.message;
  const auto secrets = secrets_of(r.cfg);
  ASSERT_EQ(secrets.size(), 3u);  // details, metrics and admin tokens
  dir.write("details", "two");
  for (const secret& s : secrets) ASSERT_TRUE(s.reload());
  EXPECT_EQ(*r.cfg.details_token.value(), "two");
}

TEST(parse_config, a_missing_token_file_is_an_error_naming_the_variable) {
  test::temp_dir dir;
  const parse_result r =
      parse({}, {{"BADGES_HEALTH_DETAILS_TOKEN_FILE", dir.file("run/secrets/details")}});
  ASSERT_EQ(r.what, action::error);
  EXPECT_TRUE(starts_with(r.message, "BADGES_HEALTH_DETAILS_TOKEN_FILE=")) << r.message;
  EXPECT_THAT(r.message, ::testing::HasSubstr("No such file or directory"));
}

TEST(parse_config, an_empty_token_file_is_an_error) {
  test::temp_dir dir;
  const parse_result r =
      parse({}, {{"BADGES_HEALTH_METRICS_TOKEN_FILE", dir.write("metrics", "\n")}});
  ASSERT_EQ(r.what, action::error);
  EXPECT_TRUE(starts_with(r.message, "BADGES_HEALTH_METRICS_TOKEN_FILE=")) << r.message;
}

TEST(parse_config, a_token_and_its_file_together_are_an_error) {
  test::temp_dir dir;
  const parse_result r = parse({}, {{"BADGES_HEALTH_DETAILS_TOKEN", "value"},
                                    {"BADGES_HEALTH_DETAILS_TOKEN_FILE", dir.write("d", "file")}});
  ASSERT_EQ(r.what, action::error);
  EXPECT_EQ(r.message,
            "BADGES_HEALTH_DETAILS_TOKEN and BADGES_HEALTH_DETAILS_TOKEN_FILE are both set "
            "(environment); set one");
}

TEST(parse_config, a_token_flag_wins_over_its_file_and_warns) {
  test::temp_dir dir;
  const parse_result r = parse({"--details-token", "on-the-command-line"},
                               {{"BADGES_HEALTH_DETAILS_TOKEN_FILE", dir.file("absent")}});
  ASSERT_EQ(r.what, action::run) << r.message;
  EXPECT_EQ(*r.cfg.details_token.value(), "on-the-command-line");
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_THAT(r.warnings[0], ::testing::StartsWith("--details-token given on the command line"));
  EXPECT_THAT(r.warnings[0], ::testing::HasSubstr("visible to other users"));
  EXPECT_THAT(r.warnings[0], ::testing::HasSubstr("BADGES_HEALTH_DETAILS_TOKEN_FILE"));
  EXPECT_THAT(r.warnings[0], ::testing::Not(::testing::HasSubstr("on-the-command-line")));
}

TEST(parse_config, tokens_from_the_environment_do_not_warn) {
  const parse_result r = parse({}, {{"BADGES_HEALTH_METRICS_TOKEN", "m"}});
  ASSERT_EQ(r.what, action::run) << r.message;
  EXPECT_TRUE(r.warnings.empty());
  const parse_result flags = parse({"--metrics-token=m", "--port=1"});
  EXPECT_EQ(flags.warnings.size(), 1u);
}

TEST(parse_config, only_secrets_read_a_file_variable) {
  test::temp_dir dir;
  const parse_result r = parse({}, {{"BADGES_HEALTH_CONFIG_FILE", dir.write("c", "x")},
                                    {"HTTP_SERVER_PORT_FILE", dir.write("p", "1")}});
  ASSERT_EQ(r.what, action::run) << r.message;
  EXPECT_EQ(r.cfg.config_file, "");
  EXPECT_EQ(r.cfg.server.port, 8080);
}

// --- cross checks -----------------------------------------------------------

TEST(parse_config, target_limit_above_header_limit_names_max_target_bytes) {
  const parse_result r = parse({"--max-header-bytes=1024", "--max-target-bytes=2048"});
  EXPECT_EQ(r.what, action::error);
  EXPECT_TRUE(starts_with(r.message, "--max-target-bytes: ")) << r.message;
}

TEST(parse_config, header_limit_below_default_target_limit_lowers_the_target_limit) {
  const parse_result r = parse({"--max-header-bytes=1024"});
  EXPECT_EQ(r.what, action::run) << r.message;
  EXPECT_EQ(r.cfg.server.max_target_bytes, 1024u);
}

TEST(parse_config, target_limit_from_the_environment_counts_as_set) {
  const parse_result r =
      parse({"--max-header-bytes=1024"}, {{"BADGES_HEALTH_MAX_TARGET_BYTES", "2048"}});
  EXPECT_EQ(r.what, action::error);
  EXPECT_TRUE(starts_with(r.message, "--max-target-bytes: ")) << r.message;
}

TEST(parse_config, target_limit_equal_to_header_limit_is_accepted) {
  const parse_result r = parse({"--max-header-bytes=1024", "--max-target-bytes=1024"});
  EXPECT_EQ(r.what, action::run) << r.message;
}

TEST(parse_config, drain_delay_not_below_shutdown_timeout_names_drain_delay) {
  const parse_result equal = parse({"--drain-delay=20s"});
  EXPECT_EQ(equal.what, action::error);
  EXPECT_TRUE(starts_with(equal.message, "--drain-delay: ")) << equal.message;

  const parse_result above = parse({"--drain-delay=10s", "--shutdown-timeout=5s"});
  EXPECT_EQ(above.what, action::error);
  EXPECT_TRUE(starts_with(above.message, "--drain-delay: ")) << above.message;
}

TEST(parse_config, drain_delay_below_shutdown_timeout_is_accepted) {
  const parse_result r = parse({"--drain-delay=19999ms"});
  ASSERT_EQ(r.what, action::run) << r.message;
  EXPECT_EQ(r.cfg.drain_delay, 19999ms);
}

// --- parse_duration / format_duration ---------------------------------------

TEST(parse_duration, reads_every_unit) {
  EXPECT_EQ(parse_duration("250ms"), 250ms);
  EXPECT_EQ(parse_duration("5s"), 5s);
  EXPECT_EQ(parse_duration("2m"), 2min);
  EXPECT_EQ(parse_duration("1h"), 1h);
}

TEST(parse_duration, bare_number_is_seconds) {
  EXPECT_EQ(parse_duration("1.5"), 1500ms);
  EXPECT_EQ(parse_duration("0"), 0ms);
  EXPECT_EQ(parse_duration("30"), 30s);
}

TEST(parse_duration, fractions_with_units) {
  EXPECT_EQ(parse_duration("0.5s"), 500ms);
  EXPECT_EQ(parse_duration("1.5m"), 90s);
}

TEST(parse_duration, rejects_malformed_text) {
  for (std::string_view bad :
       {"", "s", "ms", "m", "5x", "-1", "1e3", "abc", ".", "5 s", " 5s", "5S", "1h30m", "+5"}) {
    EXPECT_EQ(parse_duration(bad), std::nullopt) << "'" << bad << "'";
  }
}

TEST(parse_duration, rejects_absurdly_large_values) {
  EXPECT_EQ(parse_duration("1000000000h"), std::nullopt);
}

TEST(format_duration, picks_the_largest_exact_unit) {
  EXPECT_EQ(format_duration(250ms), "250ms");
  EXPECT_EQ(format_duration(1500ms), "1500ms");
  EXPECT_EQ(format_duration(5s), "5s");
  EXPECT_EQ(format_duration(90s), "90s");
  EXPECT_EQ(format_duration(2min), "2m");
  EXPECT_EQ(format_duration(90min), "90m");
  EXPECT_EQ(format_duration(24h), "24h");
  EXPECT_EQ(format_duration(0ms), "0s");
}

TEST(format_duration, round_trips_through_parse_duration) {
  for (std::chrono::milliseconds d :
       {0ms, 1ms, 250ms, 1500ms, 5000ms, 90'000ms, 120'000ms, 3'600'000ms, 86'400'000ms}) {
    EXPECT_EQ(parse_duration(format_duration(d)), d) << format_duration(d);
  }
}

}  // namespace
}  // namespace badges_health::app
