// HTTP/2 on the service's one port, as clients we did not write use it:
// curl with prior knowledge, h2load and nghttp. Every route answers as over
// HTTP/1.1; limits, timeouts and the drain carry over.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.hpp"
#include "support/h2_client.hpp"
#include "support/raw_client.hpp"
#include "support/server_process.hpp"

namespace badges_health::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::string_view h2_preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
// An empty SETTINGS frame: length 0, type 4, no flags, stream 0.
const std::string h2_empty_settings("\0\0\0\x04\0\0\0\0\0", 9);

std::string h2_url(unsigned short port, const std::string& target) {
  return "http://127.0.0.1:" + std::to_string(port) + target;
}

std::string h2_lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

struct curl_response {
  int status = 0;
  std::string version;
  std::map<std::string, std::string> headers;  // lowercase names
  std::string body;
};

// A response as `curl -si` prints it.
std::optional<curl_response> parse_curl_output(const std::string& out) {
  const auto end = out.find("\r\n\r\n");
  if (end == std::string::npos) return std::nullopt;
  std::istringstream head(out.substr(0, end));
  curl_response r;
  std::string line;
  std::getline(head, line);
  std::istringstream status_line(line);
  status_line >> r.version >> r.status;
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    auto value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    r.headers[h2_lower(line.substr(0, colon))] = value;
  }
  r.body = out.substr(end + 4);
  return r;
}

std::optional<curl_response> curl_h2(unsigned short port, const std::string& method,
                                     const std::string& target,
                                     std::vector<std::string> extra = {}) {
  std::vector<std::string> argv{"curl", "-si", "--http2-prior-knowledge", "--max-time", "5"};
  if (method == "HEAD") {
    argv.push_back("-I");
  } else {
    argv.insert(argv.end(), {"-X", method});
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back(h2_url(port, target));
  const auto r = run_program(argv);
  if (r.exit_code != 0) return std::nullopt;
  return parse_curl_output(r.out);
}

// The frame types in a server's byte stream, in order.
std::vector<int> h2_frame_types(std::string_view bytes) {
  std::vector<int> types;
  while (bytes.size() >= 9) {
    const auto b = [&bytes](std::size_t i) {
      return static_cast<std::size_t>(static_cast<unsigned char>(bytes[i]));
    };
    const std::size_t length = b(0) << 16 | b(1) << 8 | b(2);
    types.push_back(static_cast<int>(b(3)));
    if (bytes.size() < 9 + length) break;
    bytes.remove_prefix(9 + length);
  }
  return types;
}

constexpr int h2_goaway_frame = 7;

TEST(Http2, CurlWithPriorKnowledgeGetsHttp2) {
  server_process server;
  const auto r = run_program({"curl", "-s", "-o", "/dev/null", "-w", "%{http_version} %{http_code}",
                              "--http2-prior-knowledge", h2_url(server.port(), "/status")});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "2 200");
  // Without prior knowledge the same port still speaks HTTP/1.1.
  const auto h1 = run_program({"curl", "-s", "-o", "/dev/null", "-w",
                               "%{http_version} %{http_code}", h2_url(server.port(), "/status")});
  EXPECT_EQ(h1.out, "1.1 200");
}

// Each route, method and error answers over HTTP/2 with the status code
// and headers it has over HTTP/1.1.
TEST(Http2, EveryRouteAnswersAsOverHttp11) {
  server_process server;
  struct probe {
    std::string method;
    std::string target;
  };
  const std::vector<probe> probes = {
      {"GET", "/status"},     {"GET", "/status?verbose=true"},
      {"GET", "/livez"},      {"GET", "/readyz"},
      {"GET", "/metrics"},    {"GET", "/openapi.json"},
      {"GET", "/"},           {"HEAD", "/status"},
      {"OPTIONS", "/status"}, {"GET", "/nope"},
      {"DELETE", "/status"},  {"GET", "/status?verbose=maybe"},
      {"GET", "/status?x=1"},
  };
  for (const auto& p : probes) {
    SCOPED_TRACE(p.method + " " + p.target);
    const auto h1 = request(server.port(), p.method, p.target);
    const auto h2 = curl_h2(server.port(), p.method, p.target);
    ASSERT_TRUE(h1);
    ASSERT_TRUE(h2);
    EXPECT_EQ(h2->version, "HTTP/2");
    EXPECT_EQ(h2->status, h1->result_int());
    // Bodies with a timestamp or counters differ from one answer to the next.
    const bool stable_body =
        p.target == "/openapi.json" || p.target == "/" || h1->result_int() >= 400;
    for (const auto& field : *h1) {
      const std::string name = h2_lower(std::string(field.name_string()));
      if (name == "date" || name == "connection" || name == "keep-alive") continue;
      if (name == "content-length" && !stable_body) continue;
      const auto it = h2->headers.find(name);
      ASSERT_NE(it, h2->headers.end()) << name;
      EXPECT_EQ(it->second, std::string(field.value())) << name;
    }
    EXPECT_EQ(h2->headers.count("connection"), 0u);
    if (p.method != "HEAD" && stable_body) {
      EXPECT_EQ(h2->body, h1->body());
    }
  }
}

TEST(Http2, H2loadStreamsAllSucceed) {
  server_process server({"--threads", "2"});
  const auto r =
      run_program({"h2load", "-n", "2000", "-c", "4", "-m", "32", h2_url(server.port(), "/status")},
                  seconds(30));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("2000 succeeded, 0 failed, 0 errored"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("status codes: 2000 2xx"), std::string::npos) << r.out;
}

// The metrics and the access log count HTTP/2 requests like the others.
TEST(Http2, CountedInMetricsAndAccessLog) {
  server_process server({"--access-log"});
  ASSERT_TRUE(curl_h2(server.port(), "GET", "/livez"));
  EXPECT_TRUE(server.wait_for_log("access GET /livez HTTP/2 200")) << server.log();
  const auto metrics = request(server.port(), "GET", "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body().find(R"(route="/livez",method="GET",code="200"} 1)"), std::string::npos)
      << metrics->body();
}

// The h2_preface may arrive in pieces: still HTTP/2.
TEST(Http2, PrefaceSplitAcrossReads) {
  server_process server;
  raw_client c(server.port());
  for (const char ch : h2_preface) {
    c.send(std::string(1, ch));
    std::this_thread::sleep_for(milliseconds(2));
  }
  c.send(h2_empty_settings);
  const auto got = c.read_all(milliseconds(300));
  const auto types = h2_frame_types(got);
  ASSERT_FALSE(types.empty()) << "no frames";
  EXPECT_EQ(types.front(), 4) << "the server's SETTINGS come first";
}

// An idle HTTP/2 connection is closed at the idle timeout with a GOAWAY.
TEST(Http2, IdleConnectionGetsGoawayAtIdleTimeout) {
  server_process server({"--idle-timeout", "300ms", "--request-timeout", "300ms"});
  raw_client c(server.port());
  c.send(std::string(h2_preface) + h2_empty_settings);
  const auto started = std::chrono::steady_clock::now();
  const auto outcome = c.read_until_close(seconds(5));
  const auto took = std::chrono::steady_clock::now() - started;
  EXPECT_TRUE(outcome.closed);
  EXPECT_GE(took, milliseconds(250));
  EXPECT_LT(took, seconds(3));
  const auto types = h2_frame_types(outcome.bytes);
  EXPECT_NE(std::find(types.begin(), types.end(), h2_goaway_frame), types.end());
}

// The connection cap counts HTTP/2 connections.
TEST(Http2, ConnectionCapCountsHttp2Connections) {
  server_process server({"--max-connections", "1"});
  raw_client held(server.port());
  held.send(std::string(h2_preface) + h2_empty_settings);
  ASSERT_FALSE(h2_frame_types(held.read_all(milliseconds(200))).empty());
  const auto second = request(server.port(), "GET", "/status");
  ASSERT_TRUE(second);
  EXPECT_EQ(second->result_int(), 503);
}

// Draining: the answer in progress is delivered, then GOAWAY tells the
// client to take its next requests elsewhere, and the connection closes.
TEST(Http2, DrainSendsGoawayAfterTheResponse) {
  server_process server({"--drain-delay", "3s"});
  server.signal(SIGTERM);
  ASSERT_TRUE(server.wait_for_log("draining"));
  const auto r = run_program({"nghttp", "-nv", h2_url(server.port(), "/status")}, seconds(10));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto status = r.out.find(":status: 503");
  const auto goaway = r.out.find("recv GOAWAY frame");
  EXPECT_NE(status, std::string::npos) << r.out;
  ASSERT_NE(goaway, std::string::npos) << r.out;
  EXPECT_GT(goaway, status);
  EXPECT_NE(r.out.find("last_stream_id=1"), std::string::npos) << r.out;
}

// A prober that connects during the drain delay gets its answer (503, the
// instance is going away) before the GOAWAY, even when its request comes
// after the preface in a later packet: a GOAWAY sent before any stream
// would name stream 0 and refuse the request it is about to send.
TEST(Http2, AConnectionOpenedDuringTheDrainDelayIsAnsweredBeforeItsGoaway) {
  server_process server({"--drain-delay", "3s"});
  server.signal(SIGTERM);
  ASSERT_TRUE(server.wait_for_log("draining"));
  h2::client c(server.port());  // the preface and SETTINGS, nothing more yet
  ASSERT_TRUE(c.wait([&] { return c.settings_received() > 0; }, seconds(5)));
  std::this_thread::sleep_for(milliseconds(200));
  c.pump();
  EXPECT_FALSE(c.goaway().has_value())
      << "GOAWAY before any request, last stream " << c.goaway()->last_stream_id;
  const auto id = c.get("/status");
  ASSERT_NE(id, 0u);
  const auto* st = c.wait_for_stream(id, seconds(5));
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(st->status(), 503u);
  ASSERT_TRUE(c.wait([&] { return c.goaway().has_value(); }, seconds(5)));
  EXPECT_EQ(c.goaway()->last_stream_id, id);
}

}  // namespace
}  // namespace badges_health::test
