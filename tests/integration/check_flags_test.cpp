// The check engine's flags as the binary takes them: --admin-token (its
// variable and its *_FILE), --allow-exec-checks, --max-exec-checks, what
// --print-config shows of them (never the token), and the checks they
// allow or refuse.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace badges_health::test {
// Named, so that unity batches never merge these helpers with another
// file's.
namespace check_flags {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

struct printed_case {
  const char* name;
  std::vector<std::string> args;
  std::vector<std::string> env;
  const char* key;
  json value;
};

void PrintTo(const printed_case& c, std::ostream* os) { *os << c.name; }

class CheckFlagsPrinted : public ::testing::TestWithParam<printed_case> {};

TEST_P(CheckFlagsPrinted, PrintConfigReportsIt) {
  std::vector<std::string> argv{"--host", "127.0.0.1"};
  argv.insert(argv.end(), GetParam().args.begin(), GetParam().args.end());
  argv.push_back("--print-config");
  const auto r = run_binary(argv, GetParam().env, 5s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json printed = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(printed.contains(GetParam().key)) << r.out;
  EXPECT_EQ(printed[GetParam().key], GetParam().value) << r.out;
  EXPECT_EQ(r.out.find("adm1n"), std::string::npos) << "the token itself was printed";
}

INSTANTIATE_TEST_SUITE_P(
    Flags, CheckFlagsPrinted,
    ::testing::Values(
        printed_case{"AdminTokenUnset", {}, {}, "adminTokenSet", false},
        printed_case{"AdminTokenFlag", {"--admin-token", "adm1n"}, {}, "adminTokenSet", true},
        printed_case{
            "AdminTokenVariable", {}, {"BADGES_HEALTH_ADMIN_TOKEN=adm1n"}, "adminTokenSet", true},
        printed_case{"AllowExecOff", {}, {}, "allowExecChecks", false},
        printed_case{"AllowExecSwitch", {"--allow-exec-checks"}, {}, "allowExecChecks", true},
        printed_case{"AllowExecVariable",
                     {},
                     {"BADGES_HEALTH_ALLOW_EXEC_CHECKS=true"},
                     "allowExecChecks",
                     true},
        printed_case{"MaxExecDefault", {}, {}, "maxExecChecks", 8},
        printed_case{"MaxExecFlag", {"--max-exec-checks", "3"}, {}, "maxExecChecks", 3},
        printed_case{
            "MaxExecVariable", {}, {"BADGES_HEALTH_MAX_EXEC_CHECKS=20"}, "maxExecChecks", 20}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(CheckFlags, TheAdminTokenComesFromTheFileNamedByItsVariable) {
  temp_dir dir;
  const std::string file = dir.write("token", "adm1n\n");
  const std::string checks =
      dir.write("checks.json", R"({"checks":[{"name":"processor","type":"ttl","ttl":"30s"}]})");
  const auto r = run_binary({"--config", checks, "--print-config"},
                            {"BADGES_HEALTH_ADMIN_TOKEN_FILE=" + file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json printed = json::parse(r.out);
  EXPECT_EQ(printed["adminTokenSet"], true);
  EXPECT_EQ(printed["checks"][0]["ttlMs"], 30'000);
  EXPECT_EQ(r.out.find("adm1n"), std::string::npos);

  const auto missing =
      run_binary({"--print-config"}, {"BADGES_HEALTH_ADMIN_TOKEN_FILE=" + dir.file("absent")});
  EXPECT_EQ(missing.exit_code, 2);
  // The message every secret file gives: the variable and the path.
  EXPECT_EQ(missing.err, "badges-health: BADGES_HEALTH_ADMIN_TOKEN_FILE=" + dir.file("absent") +
                             ": cannot read: No such file or directory\n");
  const auto empty = run_binary({"--print-config"},
                                {"BADGES_HEALTH_ADMIN_TOKEN_FILE=" + dir.write("empty", "\n")});
  EXPECT_EQ(empty.exit_code, 2);
  EXPECT_NE(empty.err.find("the file is empty"), std::string::npos) << empty.err;
}

TEST(CheckFlags, ATtlCheckWithoutAnAdminTokenStopsStartUp) {
  temp_dir dir;
  const std::string checks =
      dir.write("checks.json", R"({"checks":[{"name":"processor","type":"ttl","ttl":"30s"}]})");
  const auto r = run_binary({"--host", "127.0.0.1", "--port", "0", "--config", checks});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "badges-health: config file " + checks +
                       ": checks[0]: a ttl check needs --admin-token (BADGES_HEALTH_ADMIN_TOKEN): "
                       "reports to PUT /checks/processor must carry it\n");
}

TEST(CheckFlags, MaxExecChecksOutOfRangeNamesTheFlag) {
  const auto r = run_binary({"--max-exec-checks", "0"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err,
            "badges-health: --max-exec-checks: expected an integer between 1 and 1024, got '0'\n");
  const auto v = run_binary({}, {"BADGES_HEALTH_MAX_EXEC_CHECKS=many"});
  EXPECT_EQ(v.exit_code, 2);
  EXPECT_EQ(v.err.rfind("badges-health: BADGES_HEALTH_MAX_EXEC_CHECKS (environment): ", 0), 0u)
      << v.err;
}

}  // namespace
}  // namespace check_flags
}  // namespace badges_health::test
