// Command line and environment of the real binary: --help, --version, bad
// values (exit 2, one line naming the flag or variable), flag over
// environment, a port in use (exit 1), IPv6, and JSON log lines.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cctype>
#include <chrono>
#include <nlohmann/json.hpp>
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
  for (const char* flag :
       {"--host", "--port", "--threads", "--log-level", "--log-format", "--access-log",
        "--drain-delay", "--shutdown-timeout", "--request-timeout", "--idle-timeout",
        "--write-timeout", "--max-header-bytes", "--max-target-bytes", "--max-connections",
        "--help", "--version"}) {
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag << " missing from:\n" << r.out;
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

}  // namespace
}  // namespace badges_health::test
