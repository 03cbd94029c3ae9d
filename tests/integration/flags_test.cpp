// Command line and environment of the real binary: --help, --version, bad
// values (exit 2, one line naming the flag or variable), flag over
// environment, a port in use (exit 1), IPv6, JSON log lines, and the
// values of the agent, HTTP/2 and gRPC flags as --print-config reports them.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cctype>
#include <chrono>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "support/raw_client.hpp"
#include "support/response_checks.hpp"
#include "support/server_process.hpp"

namespace badges_health::test {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

// Every run_binary call names a loopback host, so a flag accepted by
// mistake cannot open a port on every interface.
const std::vector<std::string> loopback{"--host", "127.0.0.1"};

std::vector<std::string> args(std::initializer_list<std::string> extra) {
  std::vector<std::string> out = loopback;
  out.insert(out.end(), extra);
  return out;
}

std::size_t line_count(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return s;
}

TEST(Flags, HelpExitsZeroAndListsEveryFlag) {
  const auto r = run_binary({"--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  for (const char* flag : {"--host",
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
                           "--max-concurrent-streams",
                           "--agent-port",
                           "--agent-degraded-weight",
                           "--grpc-unavailable-when-not-serving",
                           "--help",
                           "--version"}) {
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag << " missing from:\n" << r.out;
  }
  for (const char* variable :
       {"BADGES_HEALTH_MAX_CONCURRENT_STREAMS", "BADGES_HEALTH_AGENT_PORT",
        "BADGES_HEALTH_AGENT_DEGRADED_WEIGHT", "BADGES_HEALTH_GRPC_UNAVAILABLE_WHEN_NOT_SERVING"}) {
    EXPECT_NE(r.out.find(std::string("env ") + variable + ";"), std::string::npos)
        << variable << " missing from:\n"
        << r.out;
  }
}

TEST(Flags, VersionPrintsNameAndVersion) {
  const auto r = run_binary({"--version"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "badges-health 0.1.0\n");
}

TEST(Flags, NonNumericPortExits2WithOneLineNamingTheFlag) {
  const auto r = run_binary(args({"--port", "abc"}), {}, 5s);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(line_count(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("--port"), std::string::npos) << r.err;
}

TEST(Flags, UnknownFlagExits2NamingIt) {
  const auto r = run_binary(args({"--port", "0", "--no-such-flag"}), {}, 5s);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--no-such-flag"), std::string::npos) << r.err;
}

TEST(Flags, BadPortInEnvironmentExits2NamingTheVariable) {
  const auto r = run_binary(loopback, {"HTTP_SERVER_PORT=nope"}, 5s);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("HTTP_SERVER_PORT"), std::string::npos) << r.err;
}

TEST(Flags, PortFlagWinsOverEnvironment) {
  // Port 1 would need privileges; --port 0 (added by server_process) wins.
  server_process server({}, {"HTTP_SERVER_PORT=1"});
  EXPECT_NE(server.port(), 1);
  const auto res = request(server.port(), "GET", "/status");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
}

// Kubernetes gives every pod <SERVICE>_PORT=tcp://ip:port for each Service
// of its namespace; the generic names of before the prefix are not read
// either. None of it may change or stop start-up.
TEST(Flags, VariablesTheServiceDoesNotReadNeverMatter) {
  const std::vector<std::string> env = {"AGENT_PORT=tcp://10.0.0.1:5555",
                                        "THREADS_PORT=tcp://10.0.0.2:80",
                                        "THREADS=tcp://10.0.0.2:80",
                                        "LOG_LEVEL=tcp://10.0.0.3:80",
                                        "CONFIG_FILE=/nonexistent/checks.json",
                                        "BADGES_HEALTH_PORT=tcp://10.0.0.4:8080",
                                        "BADGES_HEALTH_SERVICE_PORT=8080",
                                        "HTTP_SERVER_SERVICE_PORT=80"};
  server_process server({}, env);
  const auto res = request(server.port(), "GET", "/status");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
  const auto printed = run_binary(args({"--print-config"}), env, 5s);
  ASSERT_EQ(printed.exit_code, 0) << printed.err;
  const auto cfg = nlohmann::json::parse(printed.out);
  EXPECT_EQ(cfg["agentPort"], nullptr);
  EXPECT_EQ(cfg["logLevel"], "info");
  EXPECT_EQ(cfg["configFile"], "");
}

TEST(Flags, HelpFitsInEightyColumnsAndListsTheExitCodes) {
  const auto r = run_binary({"--help"});
  ASSERT_EQ(r.exit_code, 0);
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) EXPECT_LE(line.size(), 79u) << line;
  EXPECT_NE(r.out.find("Exit codes:\n  0  "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n  1  "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n  2  "), std::string::npos) << r.out;
}

TEST(Flags, PortInUseExits1NamingTheAddress) {
  asio::io_context ioc;
  asio::ip::tcp::acceptor taken(ioc, {asio::ip::make_address("127.0.0.1"), 0});
  const auto port = std::to_string(taken.local_endpoint().port());
  const auto r = run_binary(args({"--port", port}), {}, 5s);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("127.0.0.1:" + port), std::string::npos) << r.err;
  EXPECT_NE(lower(r.err).find("in use"), std::string::npos) << r.err;
}

TEST(Flags, Ipv6LoopbackHostServes) {
  {
    asio::io_context ioc;
    asio::ip::tcp::acceptor probe(ioc);
    boost::system::error_code ec;
    probe.open(asio::ip::tcp::v6(), ec);
    if (!ec) probe.bind({asio::ip::make_address("::1"), 0}, ec);
    if (ec) GTEST_SKIP() << "this machine cannot bind [::1]: " << ec.message();
  }
  // server_process puts --host 127.0.0.1 first; the later flag wins.
  server_process server({"--host", "::1"});
  raw_client c(server.port(), "::1");
  c.send(request_bytes("GET", "/status", "Connection: close\r\n"));
  const auto res = c.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
  EXPECT_NE(server.log().find("[::1]:" + std::to_string(server.port())), std::string::npos)
      << server.log();
}

// Each line of `log` parsed as a JSON object with string time, level, msg.
void expect_json_lines(const std::string& log) {
  std::istringstream in(log);
  std::size_t lines = 0;
  for (std::string line; std::getline(in, line);) {
    ++lines;
    const auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(j.is_object()) << "not a JSON object: " << line;
    for (const char* key : {"time", "level", "msg"}) {
      EXPECT_TRUE(j.contains(key) && j[key].is_string()) << key << " missing in " << line;
    }
  }
  EXPECT_GE(lines, 3u) << "expected start, drain and stop lines:\n" << log;
}

TEST(Flags, JsonLogFormatWritesOneJsonObjectPerLine) {
  server_process server({"--log-format", "json", "--access-log", "--drain-delay", "0"});
  for (const char* target : {"/status", "/nope", "/status?foo=1"}) {
    ASSERT_TRUE(request(server.port(), "GET", target));
  }
  server.signal(SIGTERM);
  ASSERT_EQ(server.wait(5s), 0);
  expect_json_lines(server.log());
}

TEST(Flags, JsonLogLinesStayJsonForHostileTargets) {
  // Quotes, backslashes and bytes that are not UTF-8 reach the access log
  // through the request target.
  server_process server({"--log-format", "json", "--access-log", "--drain-delay", "0"});
  for (const std::string& target :
       {std::string("/\"quoted\"\\back"), std::string("/x?\"k\\=1"), std::string("/\xff\xfe")}) {
    raw_client c(server.port());
    c.send(request_bytes("GET", target, "Connection: close\r\n"));
    c.read_all(2s);
  }
  server.signal(SIGTERM);
  ASSERT_EQ(server.wait(5s), 0);
  expect_json_lines(server.log());
}

// A value refused at start-up: exit 2 and one line naming what was wrong.
struct bad_value_case {
  const char* name;
  std::vector<std::string> args;
  std::vector<std::string> env;
  // What the line must name: the flag, or the variable the value came from.
  const char* names;
};

void PrintTo(const bad_value_case& c, std::ostream* os) { *os << c.name; }

class FlagsBadValue : public ::testing::TestWithParam<bad_value_case> {};

TEST_P(FlagsBadValue, Exits2WithOneLineNamingIt) {
  std::vector<std::string> argv = loopback;
  argv.insert(argv.end(), GetParam().args.begin(), GetParam().args.end());
  const auto r = run_binary(argv, GetParam().env, 5s);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(line_count(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find(GetParam().names), std::string::npos) << r.err;
}

INSTANTIATE_TEST_SUITE_P(
    Flags, FlagsBadValue,
    ::testing::Values(
        bad_value_case{"AgentPortNotANumber", {"--agent-port", "abc"}, {}, "--agent-port"},
        bad_value_case{"AgentPortTooLarge", {"--agent-port", "65536"}, {}, "--agent-port"},
        bad_value_case{"AgentPortEmpty", {"--agent-port="}, {}, "--agent-port"},
        bad_value_case{"AgentPortSameAsPort",
                       {"--port", "18080", "--agent-port", "18080"},
                       {},
                       "--agent-port"},
        bad_value_case{
            "AgentPortVariable", {}, {"BADGES_HEALTH_AGENT_PORT=http"}, "BADGES_HEALTH_AGENT_PORT"},
        bad_value_case{"AgentWeightAbove100",
                       {"--agent-degraded-weight", "101"},
                       {},
                       "--agent-degraded-weight"},
        bad_value_case{"AgentWeightNegative",
                       {"--agent-degraded-weight", "-1"},
                       {},
                       "--agent-degraded-weight"},
        bad_value_case{"AgentWeightPercentOnly",
                       {"--agent-degraded-weight", "%"},
                       {},
                       "--agent-degraded-weight"},
        bad_value_case{"AgentWeightTwoPercents",
                       {"--agent-degraded-weight", "50%%"},
                       {},
                       "--agent-degraded-weight"},
        bad_value_case{"AgentWeightFraction",
                       {"--agent-degraded-weight", "12.5%"},
                       {},
                       "--agent-degraded-weight"},
        bad_value_case{"AgentWeightVariable",
                       {},
                       {"BADGES_HEALTH_AGENT_DEGRADED_WEIGHT=150%"},
                       "BADGES_HEALTH_AGENT_DEGRADED_WEIGHT"},
        bad_value_case{
            "StreamsZero", {"--max-concurrent-streams", "0"}, {}, "--max-concurrent-streams"},
        bad_value_case{"StreamsAboveCap",
                       {"--max-concurrent-streams", "10001"},
                       {},
                       "--max-concurrent-streams"},
        bad_value_case{"StreamsNotANumber",
                       {"--max-concurrent-streams", "many"},
                       {},
                       "--max-concurrent-streams"},
        bad_value_case{"StreamsVariable",
                       {},
                       {"BADGES_HEALTH_MAX_CONCURRENT_STREAMS=0"},
                       "BADGES_HEALTH_MAX_CONCURRENT_STREAMS"},
        bad_value_case{"GrpcUnavailableNotABool",
                       {"--grpc-unavailable-when-not-serving=maybe"},
                       {},
                       "--grpc-unavailable-when-not-serving"},
        bad_value_case{"GrpcUnavailableVariable",
                       {},
                       {"BADGES_HEALTH_GRPC_UNAVAILABLE_WHEN_NOT_SERVING=sometimes"},
                       "BADGES_HEALTH_GRPC_UNAVAILABLE_WHEN_NOT_SERVING"}),
    [](const ::testing::TestParamInfo<bad_value_case>& param_info) {
      return std::string(param_info.param.name);
    });

// A value accepted, as --print-config reports it.
struct effective_value_case {
  const char* name;
  std::vector<std::string> args;
  std::vector<std::string> env;
  const char* key;
  nlohmann::json value;
};

void PrintTo(const effective_value_case& c, std::ostream* os) { *os << c.name; }

class FlagsEffectiveValue : public ::testing::TestWithParam<effective_value_case> {};

TEST_P(FlagsEffectiveValue, PrintConfigReportsIt) {
  std::vector<std::string> argv = loopback;
  argv.insert(argv.end(), GetParam().args.begin(), GetParam().args.end());
  argv.push_back("--print-config");
  const auto r = run_binary(argv, GetParam().env, 5s);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto printed = nlohmann::json::parse(r.out, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(printed.is_object()) << r.out;
  ASSERT_TRUE(printed.contains(GetParam().key)) << r.out;
  EXPECT_EQ(printed[GetParam().key], GetParam().value) << r.out;
}

INSTANTIATE_TEST_SUITE_P(
    Flags, FlagsEffectiveValue,
    ::testing::Values(
        effective_value_case{"AgentPortOffByDefault", {}, {}, "agentPort", nullptr},
        effective_value_case{"AgentPortFlag", {"--agent-port", "9001"}, {}, "agentPort", 9001},
        effective_value_case{"AgentPortZero", {"--agent-port", "0"}, {}, "agentPort", 0},
        effective_value_case{
            "AgentPortVariable", {}, {"BADGES_HEALTH_AGENT_PORT=9002"}, "agentPort", 9002},
        effective_value_case{"AgentPortFlagOverVariable",
                             {"--agent-port", "9003"},
                             {"BADGES_HEALTH_AGENT_PORT=9004"},
                             "agentPort",
                             9003},
        effective_value_case{"AgentWeightDefault", {}, {}, "agentDegradedWeight", 50},
        effective_value_case{"AgentWeightPercent",
                             {"--agent-degraded-weight", "25%"},
                             {},
                             "agentDegradedWeight",
                             25},
        effective_value_case{
            "AgentWeightBare", {"--agent-degraded-weight", "100"}, {}, "agentDegradedWeight", 100},
        effective_value_case{"AgentWeightVariable",
                             {},
                             {"BADGES_HEALTH_AGENT_DEGRADED_WEIGHT=0%"},
                             "agentDegradedWeight",
                             0},
        effective_value_case{"StreamsDefault", {}, {}, "maxConcurrentStreams", 100},
        effective_value_case{
            "StreamsLowest", {"--max-concurrent-streams", "1"}, {}, "maxConcurrentStreams", 1},
        effective_value_case{"StreamsHighest",
                             {"--max-concurrent-streams", "10000"},
                             {},
                             "maxConcurrentStreams",
                             10000},
        effective_value_case{"StreamsVariable",
                             {},
                             {"BADGES_HEALTH_MAX_CONCURRENT_STREAMS=250"},
                             "maxConcurrentStreams",
                             250},
        effective_value_case{
            "GrpcUnavailableOffByDefault", {}, {}, "grpcUnavailableWhenNotServing", false},
        effective_value_case{"GrpcUnavailableSwitch",
                             {"--grpc-unavailable-when-not-serving"},
                             {},
                             "grpcUnavailableWhenNotServing",
                             true},
        effective_value_case{"GrpcUnavailableVariable",
                             {},
                             {"BADGES_HEALTH_GRPC_UNAVAILABLE_WHEN_NOT_SERVING=true"},
                             "grpcUnavailableWhenNotServing",
                             true},
        effective_value_case{"GrpcUnavailableFlagOverVariable",
                             {"--grpc-unavailable-when-not-serving=false"},
                             {"BADGES_HEALTH_GRPC_UNAVAILABLE_WHEN_NOT_SERVING=true"},
                             "grpcUnavailableWhenNotServing",
                             false}),
    [](const ::testing::TestParamInfo<effective_value_case>& param_info) {
      return std::string(param_info.param.name);
    });

}  // namespace
}  // namespace badges_health::test
