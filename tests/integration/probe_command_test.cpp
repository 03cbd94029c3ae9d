// `badges-health probe`: exit 0 on a 200, 1 otherwise with one line saying
// why, 2 for bad arguments; bounded by its timeout.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>

#include "support/dependency_servers.hpp"
#include "support/health_service.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace badges_health::test {
namespace {

using ::testing::HasSubstr;

std::string url(unsigned short port, const std::string& path) {
  return "http://127.0.0.1:" + std::to_string(port) + path;
}

class ProbeCommand : public ::testing::Test {
 protected:
  server_process server_{{"--drain-delay", "5s"}};
};

TEST_F(ProbeCommand, ExitsZeroOnA200) {
  const auto r = run_binary({"probe", "--url", url(server_.port(), "/status")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
}

TEST_F(ProbeCommand, DefaultUrlUsesHttpServerPort) {
  const auto r = run_binary({"probe"}, {"HTTP_SERVER_PORT=" + std::to_string(server_.port())});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(ProbeCommand, ExitsOneWithTheStatusWhenNot200) {
  const auto r = run_binary({"probe", "--url", url(server_.port(), "/nope")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("unexpected status 404"));
}

TEST_F(ProbeCommand, ExitsOneWhileTheServerDrains) {
  server_.signal(SIGTERM);
  ASSERT_TRUE(server_.wait_for_log("draining"));
  const auto r = run_binary({"probe", "--url", url(server_.port(), "/status")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("unexpected status 503"));
}

TEST(ProbeCommandFailures, ExitsOneWhenNothingListens) {
  tcp_dependency dep;
  const auto port = dep.port();
  dep.close();
  const auto r = run_binary({"probe", "--url", url(port, "/status")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("connect"));
}

TEST(ProbeCommandFailures, TimesOutOnAServerThatNeverAnswers) {
  http_dependency dep;
  dep.never_answer();
  const auto started = std::chrono::steady_clock::now();
  const auto r = run_binary({"probe", "--url", url(dep.port(), "/"), "--timeout", "300ms"});
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("timed out after 300ms"));
  EXPECT_LT(took, std::chrono::seconds(5));
}

TEST(ProbeCommandFailures, BadArgumentsExitTwo) {
  EXPECT_EQ(run_binary({"probe", "--timeout", "soon"}).exit_code, 2);
  EXPECT_EQ(run_binary({"probe", "--url", "ftp://x/"}).exit_code, 2);
  EXPECT_EQ(run_binary({"probe", "--bogus", "1"}).exit_code, 2);
}

TEST(ProbeCommandFailures, BadArgumentIsOneLineNamingTheFlag) {
  const auto r = run_binary({"probe", "--timeout=soon"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "probe: --timeout: expected a duration such as 2s or 500ms, got 'soon'\n");
}

TEST(ProbeCommandFailures, HelpExitsZero) {
  const auto r = run_binary({"probe", "--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("--timeout DURATION"));
}

// The default is liveness: with a critical check failing, /status is 503
// but the probe (the image's HEALTHCHECK) still passes, so ECS or Swarm do
// not restart the container over a dependency's outage.
TEST(ProbeCommandDefault, AsksLivezSoAFailingDependencyIsNoRestart) {
  closed_tcp_port closed;
  temp_dir dir;
  const std::string checks =
      dir.write("checks.json",
                R"({"checks":[{"name":"db","type":"tcp","host":"127.0.0.1","port":)" +
                    std::to_string(closed.port()) + R"(,"interval":"300ms","timeout":"200ms"}]})");
  server_process server({"--config", checks});
  const std::string port_env = "HTTP_SERVER_PORT=" + std::to_string(server.port());
  ASSERT_TRUE(eventually(
      [&] {
        return run_binary({"probe", "--url", url(server.port(), "/status")}).exit_code == 1;
      },
      std::chrono::seconds(5), std::chrono::milliseconds(50)))
      << "/status never went down";
  const auto r = run_binary({"probe"}, {port_env});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto status = run_binary({"probe", "--url", url(server.port(), "/status")}, {port_env});
  EXPECT_EQ(status.exit_code, 1);
  EXPECT_THAT(status.err, HasSubstr("unexpected status 503"));
}

}  // namespace
}  // namespace badges_health::test
