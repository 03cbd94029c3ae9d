// Unit tests for --help, `probe --help` and docs/configuration.md: every
// line of the help has one of a few shapes (so no two columns can run
// together), every flag shows its variable, default and range, every exit
// code is listed, and the committed reference is what the tables write.
#include "badges_health/app/flag_reference.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "badges_health/app/config.hpp"
#include "badges_health/app/probe_command.hpp"

#ifndef BADGES_HEALTH_SOURCE_DIR
#error "BADGES_HEALTH_SOURCE_DIR must name the source tree"
#endif

namespace badges_health::app {
namespace {

using ::testing::HasSubstr;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// The shapes a help line may have. A flag's name stands alone on its line
// (with its value hint); its description and facts are indented by six.
const std::regex flag_line(R"(  --[a-z][a-z0-9-]*( [A-Z][A-Z]*)?)");
const std::regex variable_line(R"(  [A-Z][A-Z_]*)");
const std::regex description_line(R"(      \S.*)");
const std::regex exit_code_line(R"(  [0-9]  \S.*)");
const std::regex exit_code_continuation(R"(     \S.*)");
const std::regex prose_line(R"(\S.*)");
const std::regex usage_continuation(R"(       badges-health .*)");

// Every line has one of the shapes, fits help_width, and ends in no space.
void expect_every_line_well_formed(const std::string& text) {
  const auto lines = lines_of(text);
  ASSERT_GT(lines.size(), 10u);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    SCOPED_TRACE("line " + std::to_string(i + 1) + ": '" + line + "'");
    EXPECT_LE(line.size(), help_width);
    if (line.empty()) continue;
    EXPECT_NE(line.back(), ' ');
    const bool known =
        std::regex_match(line, flag_line) || std::regex_match(line, variable_line) ||
        std::regex_match(line, description_line) || std::regex_match(line, exit_code_line) ||
        std::regex_match(line, exit_code_continuation) || std::regex_match(line, prose_line) ||
        std::regex_match(line, usage_continuation);
    EXPECT_TRUE(known) << "a line of no known shape";
    // A two-space indent is only ever a flag, a variable or an exit code.
    if (line.starts_with("  ") && !line.starts_with("   ")) {
      EXPECT_TRUE(std::regex_match(line, flag_line) || std::regex_match(line, variable_line) ||
                  std::regex_match(line, exit_code_line));
    }
  }
}

// The description lines after `heading` (a flag line) until the next line
// that is not a description, joined by spaces.
std::string entry_after(const std::string& text, const std::string& heading) {
  const auto lines = lines_of(text);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i] != heading) continue;
    std::string joined;
    for (std::size_t j = i + 1; j < lines.size() && std::regex_match(lines[j], description_line);
         ++j) {
      joined += (joined.empty() ? "" : " ") + lines[j].substr(6);
    }
    return joined;
  }
  return {};
}

std::string heading_of(const flag_description& f) {
  return "  " + f.name + (f.value_hint.empty() ? "" : " " + f.value_hint);
}

TEST(usage, every_line_has_a_known_shape) { expect_every_line_well_formed(usage()); }

TEST(usage, each_flag_has_its_own_line_with_variable_default_and_range) {
  const std::string text = usage();
  for (const auto& f : server_flags()) {
    SCOPED_TRACE(f.name);
    const std::string entry = entry_after(text, heading_of(f));
    ASSERT_FALSE(entry.empty()) << "no line '" << heading_of(f) << "' in:\n" << text;
    EXPECT_THAT(entry, HasSubstr(f.help));
    EXPECT_THAT(entry, HasSubstr("env " + f.env));
    EXPECT_THAT(entry, HasSubstr("default " + f.default_value));
    if (!f.range.empty()) {
      EXPECT_THAT(entry, HasSubstr("values " + f.range));
    }
    if (f.secret) {
      EXPECT_THAT(entry, HasSubstr(f.env + "_FILE"));
    }
  }
}

TEST(usage, shows_the_defaults_and_ranges_operators_ask_about) {
  const std::string text = usage();
  EXPECT_THAT(entry_after(text, "  --port PORT"),
              HasSubstr("env HTTP_SERVER_PORT; default 8080; values 0 to 65535"));
  EXPECT_THAT(entry_after(text, "  --idle-timeout DURATION"), HasSubstr("default 75s"));
  EXPECT_THAT(entry_after(text, "  --threads N"), HasSubstr("default number of CPUs"));
  EXPECT_THAT(entry_after(text, "  --log-level LEVEL"),
              HasSubstr("values trace, debug, info, warn, error, critical or off"));
}

TEST(usage, lists_every_exit_code) {
  const std::string text = usage();
  EXPECT_THAT(text, HasSubstr("\nExit codes:\n"));
  for (int code : {exit_code::ok, exit_code::cannot_serve, exit_code::bad_configuration}) {
    EXPECT_THAT(text, HasSubstr("\n  " + std::to_string(code) + "  ")) << code;
  }
}

TEST(usage, lists_the_actions_and_the_identity_variables) {
  const std::string text = usage();
  for (const auto& a : action_flags()) EXPECT_THAT(text, HasSubstr("\n  " + a.name + "\n"));
  for (const auto& v : identity_variables()) EXPECT_THAT(text, HasSubstr("\n  " + v.name + "\n"));
}

TEST(probe_usage, every_line_has_a_known_shape) { expect_every_line_well_formed(probe_usage()); }

TEST(probe_usage, each_flag_has_its_own_line_and_the_exit_codes_are_listed) {
  const std::string text = probe_usage();
  for (const auto& f : probe_flags()) {
    SCOPED_TRACE(f.name);
    const std::string entry = entry_after(text, heading_of(f));
    ASSERT_FALSE(entry.empty()) << text;
    EXPECT_THAT(entry, HasSubstr("default " + f.default_value));
  }
  for (int code : {0, 1, 2}) EXPECT_THAT(text, HasSubstr("\n  " + std::to_string(code) + "  "));
}

TEST(probe_flags, follow_the_servers_variables) {
  std::map<std::string, std::string> server;
  for (const auto& f : server_flags()) server[f.name] = f.env;
  for (const auto& f : probe_flags()) {
    if (f.env.empty()) continue;
    EXPECT_EQ(f.env, server[f.name]) << f.name;
  }
}

// The rule for names: BADGES_HEALTH_ and the flag, except Decentraland's
// own two, so a Kubernetes service link (<SERVICE>_PORT=tcp://...) or a
// generic THREADS in the environment is never read by mistake.
TEST(server_flags, every_variable_has_the_prefix_except_decentralands) {
  for (const auto& f : server_flags()) {
    SCOPED_TRACE(f.name);
    if (f.name == "--host") {
      EXPECT_EQ(f.env, "HTTP_SERVER_HOST");
      continue;
    }
    if (f.name == "--port") {
      EXPECT_EQ(f.env, "HTTP_SERVER_PORT");
      continue;
    }
    std::string expected = "BADGES_HEALTH_";
    for (char ch : f.name.substr(2)) {
      expected.push_back(ch == '-' ? '_' : static_cast<char>(std::toupper(ch)));
    }
    EXPECT_EQ(f.env, expected);
  }
}

TEST(server_flags, the_tokens_are_secrets) {
  std::vector<std::string> secrets;
  for (const auto& f : server_flags()) {
    if (f.secret) secrets.push_back(f.name);
  }
  EXPECT_THAT(secrets, ::testing::IsSupersetOf({"--details-token", "--metrics-token"}));
  for (const auto& f : server_flags()) {
    if (f.name.ends_with("-token") || f.name.ends_with("-password")) {
      EXPECT_TRUE(f.secret) << f.name;
    }
  }
}

TEST(flag_reference_markdown, names_every_flag_variable_and_default) {
  const std::string md = flag_reference_markdown();
  for (const auto& f : server_flags()) {
    EXPECT_THAT(md, HasSubstr("| `" + f.name)) << f.name;
    EXPECT_THAT(md, HasSubstr("`" + f.env + "`")) << f.name;
    if (f.secret) {
      EXPECT_THAT(md, HasSubstr("`" + f.env + "_FILE`")) << f.name;
    }
  }
  for (const auto& f : probe_flags()) EXPECT_THAT(md, HasSubstr("| `" + f.name)) << f.name;
}

// docs/configuration.md is generated; an edit of the table without
// regenerating it (or of the file by hand) fails here.
TEST(flag_reference_markdown, is_the_committed_docs_configuration_md) {
  const std::string path = std::string(BADGES_HEALTH_SOURCE_DIR) + "/docs/configuration.md";
  std::ifstream in(path);
  ASSERT_TRUE(in) << "cannot read " << path;
  std::ostringstream committed;
  committed << in.rdbuf();
  EXPECT_TRUE(committed.str() == flag_reference_markdown())
      << path << " differs from what the flag table writes; regenerate it with\n"
      << "  build/test/badges-health --print-flag-reference > docs/configuration.md";
}

}  // namespace
}  // namespace badges_health::app
