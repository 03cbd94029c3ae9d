// The HAProxy agent port of the real binary, read the way HAProxy reads it:
// connect, take one line, see the close. Each health state has its words
// (ok, degraded with its weight, down with the failing critical checks,
// drain after SIGTERM), the port follows changes while the process runs,
// and a port that cannot be bound stops start-up.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cctype>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "support/haproxy_process.hpp"
#include "support/health_service.hpp"
#include "support/raw_client.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace badges_health::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using nlohmann::json;

// A file check that fails while `path` exists; rise 1 and fall 1 every
// 100 ms, so the state follows the file within a few hundred milliseconds.
json agent_file_check(const std::string& name, const std::string& path, bool critical) {
  return {{"name", name},     {"type", "file"},      {"path", path},
          {"when", "absent"}, {"interval", "100ms"}, {"timeout", "50ms"},
          {"rise", 1},        {"fall", 1},           {"critical", critical}};
}

// What one connection to the agent port receives before the agent closes
// it; a description of what went wrong instead when it refuses or does
// not close within 2 s.
std::string agent_says(unsigned short port) {
  const auto client = try_connect(port);
  if (!client) return "(connection refused)";
  const auto got = client->read_until_close(2s);
  if (!got.closed) return "(not closed within 2 s after '" + got.bytes + "')";
  return got.bytes;
}

class AgentPort : public ::testing::Test {
 protected:
  // Starts the binary with `checks`, `--agent-port 0` and `args`.
  void start(const json& checks, std::vector<std::string> args = {},
             std::vector<std::string> env = {}) {
    args.insert(args.begin(), {"--agent-port", "0"});
    svc_ = std::make_unique<health_service>(dir_, checks, std::move(args), std::move(env));
    agent_port_ = announced_agent_port(svc_->process());
    ASSERT_NE(agent_port_, 0) << "no agent port in the start-up line:\n" << svc_->process().log();
  }

  // True once the agent answers exactly `line`; checks change state on
  // their own schedule, so this polls.
  bool agent_becomes(const std::string& line, std::chrono::milliseconds timeout = 3s) {
    return eventually([&] { return (last_ = agent_says(agent_port_)) == line; }, timeout);
  }

  temp_dir dir_;
  std::unique_ptr<health_service> svc_;
  unsigned short agent_port_ = 0;
  std::string last_;  // the agent's last answer, for failure messages
};

TEST_F(AgentPort, OkAnswersUpReadyAtFullWeightAndCloses) {
  start(json::array({agent_file_check("maintenance", dir_.file("maint"), true)}));
  ASSERT_TRUE(svc_->wait_for_result("maintenance")) << svc_->verbose().dump();
  EXPECT_EQ(agent_says(agent_port_), "up ready 100%\n");
}

TEST_F(AgentPort, ListensOnTheServersHost) {
  start(json::array());
  EXPECT_NE(svc_->process().log().find("HAProxy agent on 127.0.0.1:" + std::to_string(agent_port_)),
            std::string::npos)
      << svc_->process().log();
}

TEST_F(AgentPort, DownNamesTheFailingCriticalCheckOnlyAndRecovers) {
  // A non-critical check failing all along: degraded, and never named as a
  // reason for down.
  dir_.write("cache-down", "");
  start(json::array({agent_file_check("maintenance", dir_.file("maint"), true),
                     agent_file_check("cache", dir_.file("cache-down"), false)}));
  ASSERT_TRUE(agent_becomes("up ready 50%\n")) << last_;

  dir_.write("maint", "");
  EXPECT_TRUE(agent_becomes("down #critical check failing: maintenance\n")) << last_;

  dir_.remove("maint");
  EXPECT_TRUE(agent_becomes("up ready 50%\n")) << last_;
}

TEST_F(AgentPort, DownNamesEveryFailingCriticalCheckOnOneLine) {
  start(json::array({agent_file_check("db", dir_.file("db-down"), true),
                     agent_file_check("queue", dir_.file("queue-down"), true),
                     agent_file_check("search", dir_.file("search-down"), true),
                     agent_file_check("storage", dir_.file("storage-down"), true)}));
  ASSERT_TRUE(agent_becomes("up ready 100%\n")) << last_;
  dir_.write("queue-down", "");
  dir_.write("db-down", "");
  EXPECT_TRUE(agent_becomes("down #critical checks failing: db queue\n")) << last_;
  dir_.write("search-down", "");
  dir_.write("storage-down", "");
  // Three names at most, so the line stays short in HAProxy's stats.
  EXPECT_TRUE(agent_becomes("down #critical checks failing: db queue search (+1 more)\n")) << last_;
}

TEST_F(AgentPort, AnswersDrainThroughTheWholeDrainThenCloses) {
  start(json::array(), {"--drain-delay", "1500ms"});
  ASSERT_TRUE(agent_becomes("up ready 100%\n")) << last_;

  auto& process = svc_->process();
  const auto signalled = std::chrono::steady_clock::now();
  process.signal(SIGTERM);
  ASSERT_TRUE(process.wait_for_log("draining", 2s)) << process.log();

  // Every answer from SIGTERM until the process exits is `drain`, also
  // the ones late in the drain delay, while /status says down.
  std::vector<std::string> answers;
  while (std::chrono::steady_clock::now() - signalled < 1300ms) {
    answers.push_back(agent_says(agent_port_));
    std::this_thread::sleep_for(50ms);
  }
  const auto status = request(svc_->port(), "GET", "/status");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->result_int(), 503u);
  ASSERT_GE(answers.size(), 10u);
  for (const auto& a : answers) EXPECT_EQ(a, "drain\n");

  EXPECT_EQ(process.wait(10s), 0) << process.log();
  EXPECT_EQ(try_connect(agent_port_), nullptr) << "the agent port is still open after exit";
}

TEST_F(AgentPort, ReplyArrivesWhenThePeerSendsFirst) {
  // HAProxy's `agent-send` writes a string before reading; the reply must
  // still arrive whole, not be lost to a reset.
  start(json::array());
  const auto client = try_connect(agent_port_);
  ASSERT_TRUE(client);
  client->send("hello agent\n");
  const auto got = client->read_until_close(2s);
  EXPECT_TRUE(got.closed);
  EXPECT_EQ(got.bytes, "up ready 100%\n");
}

TEST_F(AgentPort, ManyClientsThatNeverCloseEachGetTheirLine) {
  // More clients than replies may wait for their peer: every one still
  // gets its whole line and the close, the extra ones without waiting.
  start(json::array());
  std::vector<std::unique_ptr<raw_client>> clients;
  for (int i = 0; i < 100; ++i) {
    clients.push_back(try_connect(agent_port_));
    ASSERT_TRUE(clients.back()) << "connection " << i << " refused";
  }
  for (auto& c : clients) {
    const auto got = c->read_until_close(3s);
    EXPECT_TRUE(got.closed);
    EXPECT_EQ(got.bytes, "up ready 100%\n");
  }
  EXPECT_EQ(agent_says(agent_port_), "up ready 100%\n");
}

TEST(AgentPortOff, IsOffByDefault) {
  server_process server;
  EXPECT_EQ(server.log().find("agent"), std::string::npos) << server.log();
}

TEST(AgentPortOff, EnvironmentTurnsItOn) {
  server_process server({}, {"BADGES_HEALTH_AGENT_PORT=0"});
  const unsigned short port = announced_agent_port(server);
  ASSERT_NE(port, 0) << server.log();
  EXPECT_EQ(agent_says(port), "up ready 100%\n");
}

std::string agent_lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return s;
}

TEST(AgentPortOff, PortInUseExits1NamingTheAddress) {
  asio::io_context ioc;
  asio::ip::tcp::acceptor taken(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = std::to_string(taken.local_endpoint().port());
  const auto r = run_binary({"--host", "127.0.0.1", "--port", "0", "--agent-port", port}, {}, 5s);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("127.0.0.1:" + port + " (agent port)"), std::string::npos) << r.err;
  EXPECT_NE(agent_lower(r.err).find("in use"), std::string::npos) << r.err;
}

// The weight while degraded, from the flag or its variable (the flag wins),
// with or without the `%`.
struct weight_case {
  const char* name;
  std::vector<std::string> args;
  std::vector<std::string> env;
  const char* line;
};

void PrintTo(const weight_case& c, std::ostream* os) { *os << c.name; }

class AgentPortWeight : public AgentPort, public ::testing::WithParamInterface<weight_case> {};

TEST_P(AgentPortWeight, DegradedAnswersUpReadyAtTheDegradedWeight) {
  start(json::array({agent_file_check("cache", dir_.file("cache-down"), false)}), GetParam().args,
        GetParam().env);
  ASSERT_TRUE(agent_becomes("up ready 100%\n")) << last_;
  dir_.write("cache-down", "");
  EXPECT_TRUE(agent_becomes(GetParam().line)) << last_;
}

INSTANTIATE_TEST_SUITE_P(
    AgentPort, AgentPortWeight,
    ::testing::Values(
        weight_case{"Default", {}, {}, "up ready 50%\n"},
        weight_case{"FlagWithPercent", {"--agent-degraded-weight", "25%"}, {}, "up ready 25%\n"},
        weight_case{"FlagBareNumber", {"--agent-degraded-weight", "75"}, {}, "up ready 75%\n"},
        weight_case{"Zero", {"--agent-degraded-weight", "0"}, {}, "up ready 0%\n"},
        weight_case{
            "Environment", {}, {"BADGES_HEALTH_AGENT_DEGRADED_WEIGHT=10%"}, "up ready 10%\n"},
        weight_case{"FlagOverEnvironment",
                    {"--agent-degraded-weight", "30"},
                    {"BADGES_HEALTH_AGENT_DEGRADED_WEIGHT=10"},
                    "up ready 30%\n"}),
    [](const ::testing::TestParamInfo<weight_case>& param_info) {
      return std::string(param_info.param.name);
    });

}  // namespace
}  // namespace badges_health::test
