// `badges-health probe`: exit 0 on a 200, 1 otherwise with one line saying
// why, 2 for bad arguments; bounded by its timeout.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

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

// Where the server listens, as the probe finds it: `docker run IMAGE --port
// 9090` changes only the server's command line, so the image's HEALTHCHECK
// reads the address the server wrote to its --address-file.
class ProbeFollowsTheServer : public ::testing::Test {
 protected:
  temp_dir dir_;
  std::string address_file_ = dir_.file("badges-health.address");

  static std::string read(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }
};

TEST_F(ProbeFollowsTheServer, ThroughTheAddressFileWhateverPortTheServerWasGiven) {
  server_process server({"--address-file", address_file_});
  EXPECT_EQ(read(address_file_), "127.0.0.1:" + std::to_string(server.port()) + "\n");
  // No port anywhere but in the file; a variable naming another port loses.
  const auto r =
      run_binary({"probe"}, {"BADGES_HEALTH_ADDRESS_FILE=" + address_file_, "HTTP_SERVER_PORT=1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(), 0);
  EXPECT_EQ(read(address_file_), "") << "the file is removed at exit";
  const auto stopped = run_binary({"probe"}, {"BADGES_HEALTH_ADDRESS_FILE=" + address_file_});
  EXPECT_EQ(stopped.exit_code, 1);
}

TEST_F(ProbeFollowsTheServer, AddressFileFromTheEnvironmentOfTheServer) {
  server_process server({}, {"BADGES_HEALTH_ADDRESS_FILE=" + address_file_});
  const auto r = run_binary({"probe", "--address-file", address_file_});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(ProbeFollowsTheServer, PortFlag) {
  server_process server;
  EXPECT_EQ(run_binary({"probe", "--port", std::to_string(server.port())}).exit_code, 0);
  const auto bad = run_binary({"probe", "--port", "0"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err, "probe: --port: expected an integer between 1 and 65535, got '0'\n");
}

TEST_F(ProbeFollowsTheServer, WildcardHostMeansLoopback) {
  server_process server({"--host", "0.0.0.0", "--address-file", address_file_});
  EXPECT_EQ(read(address_file_), "0.0.0.0:" + std::to_string(server.port()) + "\n");
  EXPECT_EQ(run_binary({"probe", "--address-file", address_file_}).exit_code, 0);
  EXPECT_EQ(run_binary({"probe"}, {"HTTP_SERVER_HOST=0.0.0.0",
                                   "HTTP_SERVER_PORT=" + std::to_string(server.port())})
                .exit_code,
            0);
}

// 127.0.0.2 is loopback on Linux but not where 127.0.0.1 connects: a probe
// that ignored the host would be refused.
TEST_F(ProbeFollowsTheServer, ASpecificHost) {
  {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor a(ioc);
    boost::system::error_code ec;
    a.open(boost::asio::ip::tcp::v4(), ec);
    if (!ec) a.bind({boost::asio::ip::make_address("127.0.0.2"), 0}, ec);
    if (ec) GTEST_SKIP() << "cannot bind 127.0.0.2: " << ec.message();
  }
  server_process server({"--host", "127.0.0.2", "--address-file", address_file_});
  const std::string port = std::to_string(server.port());
  EXPECT_EQ(run_binary({"probe", "--address-file", address_file_}).exit_code, 0);
  EXPECT_EQ(run_binary({"probe", "--host", "127.0.0.2", "--port", port}).exit_code, 0);
  EXPECT_EQ(
      run_binary({"probe"}, {"HTTP_SERVER_HOST=127.0.0.2", "HTTP_SERVER_PORT=" + port}).exit_code,
      0);
  const auto wrong_host = run_binary({"probe", "--port", port});
  EXPECT_EQ(wrong_host.exit_code, 1);
  EXPECT_THAT(wrong_host.err, HasSubstr("127.0.0.1:" + port));
}

TEST_F(ProbeFollowsTheServer, AnUnwritableAddressFileIsOnlyAWarning) {
  server_process server({"--address-file", dir_.file("no/such/dir/address")});
  EXPECT_THAT(server.log(), HasSubstr("cannot write the address file"));
  EXPECT_EQ(run_binary({"probe", "--port", std::to_string(server.port())}).exit_code, 0);
}

TEST_F(ProbeFollowsTheServer, AMalformedAddressFileIsUnhealthy) {
  const std::string path = dir_.write("address", "not an address\n");
  const auto r = run_binary({"probe", "--address-file", path});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("expected HOST:PORT"));
}

}  // namespace
}  // namespace badges_health::test
