// Tokens from files (*_FILE) in the real binary: read at start-up, read
// again on SIGHUP with requests seeing the new token at once, an unreadable
// file on SIGHUP keeping the old token, a bad file at start-up stopping it
// with exit 2 naming the variable, and a token on the command line warned
// about.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <string>

#include "support/raw_client.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace badges_health::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

int verbose_status(unsigned short port, const std::string& token) {
  const auto res = request(port, "GET", "/status?verbose=true",
                           token.empty() ? "" : "Authorization: Bearer " + token + "\r\n");
  return res ? res->result_int() : -1;
}

int metrics_status(unsigned short port, const std::string& token) {
  const auto res = request(port, "GET", "/metrics", "Authorization: Bearer " + token + "\r\n");
  return res ? res->result_int() : -1;
}

class SecretFiles : public ::testing::Test {
 protected:
  temp_dir dir_;
  std::string details_ = dir_.write("details", "first-details-token\n");
  std::string metrics_ = dir_.write("metrics", "first-metrics-token");
  server_process server_{{},
                         {"BADGES_HEALTH_DETAILS_TOKEN_FILE=" + details_,
                          "BADGES_HEALTH_METRICS_TOKEN_FILE=" + metrics_}};
};

TEST_F(SecretFiles, TokensComeFromTheFiles) {
  EXPECT_EQ(verbose_status(server_.port(), ""), 401);
  EXPECT_EQ(verbose_status(server_.port(), "first-details-token"), 200);
  EXPECT_EQ(metrics_status(server_.port(), "first-metrics-token"), 200);
  EXPECT_EQ(metrics_status(server_.port(), "first-details-token"), 401);
  EXPECT_THAT(server_.log(), Not(HasSubstr("visible to other users")));
}

TEST_F(SecretFiles, SighupReadsThemAgainAndRequestsSeeTheNewTokens) {
  dir_.write("details", "second-details-token\n");
  dir_.write("metrics", "second-metrics-token\n");
  server_.signal(SIGHUP);
  ASSERT_TRUE(server_.wait_for_log("reloaded BADGES_HEALTH_METRICS_TOKEN_FILE")) << server_.log();
  EXPECT_EQ(verbose_status(server_.port(), "first-details-token"), 401);
  EXPECT_EQ(verbose_status(server_.port(), "second-details-token"), 200);
  EXPECT_EQ(metrics_status(server_.port(), "first-metrics-token"), 401);
  EXPECT_EQ(metrics_status(server_.port(), "second-metrics-token"), 200);
  // Never the token itself in the log.
  EXPECT_THAT(server_.log(), Not(HasSubstr("second-details-token")));
}

TEST_F(SecretFiles, AFileThatCannotBeReadOnSighupKeepsTheOldToken) {
  dir_.remove("details");
  server_.signal(SIGHUP);
  ASSERT_TRUE(
      server_.wait_for_log("keeping the previous value of BADGES_HEALTH_DETAILS_TOKEN_FILE"))
      << server_.log();
  EXPECT_THAT(server_.log(), HasSubstr("No such file or directory"));
  EXPECT_EQ(verbose_status(server_.port(), "first-details-token"), 200);
  EXPECT_TRUE(server_.running());
}

TEST(SecretFilesAtStartUp, AMissingFileExits2NamingTheVariable) {
  temp_dir dir;
  const auto r =
      run_binary({"--host", "127.0.0.1", "--port", "0"},
                 {"BADGES_HEALTH_DETAILS_TOKEN_FILE=" + dir.file("run/secrets/details")}, 5s);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.err,
            "badges-health: BADGES_HEALTH_DETAILS_TOKEN_FILE=" + dir.file("run/secrets/details") +
                ": cannot read: No such file or directory\n");
}

TEST(SecretFilesAtStartUp, AnEmptyFileExits2NamingTheVariable) {
  temp_dir dir;
  const auto r = run_binary({"--host", "127.0.0.1", "--port", "0"},
                            {"BADGES_HEALTH_METRICS_TOKEN_FILE=" + dir.write("metrics", "")}, 5s);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_THAT(r.err, HasSubstr("BADGES_HEALTH_METRICS_TOKEN_FILE="));
}

TEST(SecretOnTheCommandLine, IsWarnedAboutAndStillWorks) {
  server_process server({"--details-token", "typed-in-the-shell"});
  EXPECT_THAT(server.log(), HasSubstr("--details-token given on the command line is visible to "
                                      "other users"));
  EXPECT_THAT(server.log(), Not(HasSubstr("typed-in-the-shell")));
  EXPECT_EQ(verbose_status(server.port(), "typed-in-the-shell"), 200);
}

TEST(SecretFromTheEnvironment, IsNotWarnedAbout) {
  server_process server({}, {"BADGES_HEALTH_DETAILS_TOKEN=from-the-environment"});
  EXPECT_THAT(server.log(), Not(HasSubstr("visible to other users")));
  EXPECT_EQ(verbose_status(server.port(), "from-the-environment"), 200);
}

}  // namespace
}  // namespace badges_health::test
