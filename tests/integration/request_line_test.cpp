// RFC 9112 rules on the request line and Host, CORS preflight, and the
// access log of every answer, over real sockets against the real binary:
// each case is the bytes a client sends and the answer it must get.
#include <gtest/gtest.h>

#include <boost/beast/http/rfc7230.hpp>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "support/raw_client.hpp"
#include "support/response_checks.hpp"
#include "support/server_process.hpp"

namespace badges_health::test {
namespace {

namespace bhttp = boost::beast::http;
using namespace std::chrono_literals;

struct request_case {
  std::string name;
  std::string bytes;
  unsigned status;
  // For errors: the machine code and a word the message must contain.
  std::string code;
  std::string message_has;
};

void PrintTo(const request_case& c, std::ostream* os) { *os << c.name; }

class RequestLine : public ::testing::TestWithParam<request_case> {
 protected:
  static void SetUpTestSuite() { server_ = new server_process({"--drain-delay", "0"}); }
  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
  }
  static server_process* server_;
};

server_process* RequestLine::server_ = nullptr;

TEST_P(RequestLine, IsAnsweredAsRfc9112Says) {
  const auto& c = GetParam();
  raw_client client(server_->port());
  client.send(c.bytes);
  const auto res = client.read_response();
  ASSERT_TRUE(res) << "no answer";
  EXPECT_EQ(res->result_int(), c.status) << res->body();
  if (c.code.empty()) {
    EXPECT_EQ(json_body(*res).value("status", ""), "ok") << res->body();
  } else {
    EXPECT_TRUE(is_error_response(*res, c.status, c.code));
    EXPECT_NE(json_body(*res).value("error", "").find(c.message_has), std::string::npos)
        << res->body();
    EXPECT_TRUE(client.closed_by_peer()) << "connection kept after an error";
  }
  // The server keeps serving.
  const auto after = request(server_->port(), "GET", "/livez");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->result_int(), 200);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RequestLine,
    ::testing::Values(
        request_case{"Http11WithHost", "GET /status HTTP/1.1\r\nHost: a\r\n\r\n", 200, "", ""},
        request_case{"Http11WithoutHost", "GET /status HTTP/1.1\r\n\r\n", 400, "BAD_REQUEST",
                     "Host"},
        request_case{"Http11WithTwoHosts", "GET /status HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
                     400, "BAD_REQUEST", "Host"},
        request_case{"Http10WithTwoHosts", "GET /status HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n",
                     400, "BAD_REQUEST", "Host"},
        // HAProxy's default HTTP check: HTTP/1.0 without Host.
        request_case{"Http10WithoutHost", "GET /status HTTP/1.0\r\n\r\n", 200, "", ""},
        request_case{"Http12IsServedAsHttp11", "GET /status HTTP/1.2\r\nHost: a\r\n\r\n", 200, "",
                     ""},
        request_case{"Http12WithoutHostIsHttp11WithoutHost", "GET /status HTTP/1.2\r\n\r\n", 400,
                     "BAD_REQUEST", "Host"},
        request_case{"Http20RequestLine", "GET /status HTTP/2.0\r\nHost: a\r\n\r\n", 505,
                     "HTTP_VERSION_NOT_SUPPORTED", "HTTP/1.1"},
        request_case{"BareLfLineEndings", "GET /status HTTP/1.1\nHost: a\n\n", 400, "BAD_REQUEST",
                     "CRLF"},
        request_case{"BareLfInOneHeaderLine", "GET /status HTTP/1.1\r\nHost: a\nX-A: b\r\n\r\n",
                     400, "BAD_REQUEST", "bare LF"},
        request_case{"BadVersionText", "GET /status HTTQ/1.1\r\nHost: a\r\n\r\n", 400,
                     "BAD_REQUEST", "version"}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(RequestLineVersion, Http12ResponseKeepsTheConnectionAsHttp11Would) {
  server_process server({"--drain-delay", "0"});
  raw_client c(server.port());
  for (int i = 0; i < 2; ++i) {
    c.send("GET /livez HTTP/1.2\r\nHost: a\r\n\r\n");
    const auto res = c.read_response();
    ASSERT_TRUE(res) << "request " << i << " on the kept connection not answered";
    EXPECT_EQ(res->result_int(), 200);
    EXPECT_EQ(res->version(), 11u);
    EXPECT_FALSE(bhttp::token_list((*res)[bhttp::field::connection]).exists("close"));
  }
}

std::string header_of(const http_response& res, std::string_view name) {
  const auto it = res.find(name);
  return it == res.end() ? std::string("<absent>") : std::string(it->value());
}

TEST(CorsPreflight, AnswersTheMethodsAndTheAuthorizationHeader) {
  server_process server({"--drain-delay", "0"});
  const auto res =
      request(server.port(), "OPTIONS", "/status",
              "Origin: https://dashboard.example\r\nAccess-Control-Request-Method: GET\r\n"
              "Access-Control-Request-Headers: authorization\r\n");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 204);
  EXPECT_EQ(header_of(*res, "Access-Control-Allow-Origin"), "*");
  EXPECT_EQ(header_of(*res, "Access-Control-Allow-Methods"), "GET, HEAD, OPTIONS");
  EXPECT_EQ(header_of(*res, "Access-Control-Allow-Headers"), "Authorization");
  EXPECT_EQ(header_of(*res, "Allow"), "GET, HEAD, OPTIONS");
}

TEST(CorsPreflight, PlainOptionsCarriesNoPreflightHeaders) {
  server_process server({"--drain-delay", "0"});
  const auto res = request(server.port(), "OPTIONS", "/status");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 204);
  EXPECT_EQ(header_of(*res, "Access-Control-Allow-Methods"), "<absent>");
  EXPECT_EQ(header_of(*res, "Allow"), "GET, HEAD, OPTIONS");
}

TEST(AccessLog, EveryAnswerIsLoggedIncludingThoseRejectedBeforeRouting) {
  server_process server({"--drain-delay", "0", "--access-log"});
  const std::vector<std::pair<std::string, unsigned>> sent = {
      {request_bytes("GET", "/status"), 200},
      {"GET /status HTTP/1.1\r\n\r\n", 400},
      {"GET /status?" + std::string(3000, 'q') + " HTTP/1.1\r\nHost: a\r\n\r\n", 414},
      {"GET /status HTTP/1.1\r\nHost: a\r\nX-F: " + std::string(9000, 'h') + "\r\n\r\n", 431},
      {"GET /status HTTP/1.1\nHost: a\n\n", 400},
      {"GET /status HTTP/2.0\r\nHost: a\r\n\r\n", 505},
  };
  for (const auto& [bytes, status] : sent) {
    raw_client c(server.port());
    c.send(bytes);
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), status);
  }
  for (const auto& [bytes, status] : sent) {
    EXPECT_TRUE(server.wait_for_log(" " + std::to_string(status) + " ", 2s))
        << "no access line with " << status << ":\n"
        << server.log();
  }
  std::size_t access_lines = 0;
  const std::string log = server.log();
  for (std::size_t at = log.find("access "); at != std::string::npos;
       at = log.find("access ", at + 1)) {
    ++access_lines;
  }
  EXPECT_EQ(access_lines, sent.size()) << log;
}

// JSON access lines carry the facts as fields: client address and port,
// method, target, protocol, status, body bytes, duration from the first
// byte of the request, user agent, and the error code of a refusal (whose
// duration is its real one, not 0).
TEST(AccessLog, JsonLinesCarryFieldsNotASentence) {
  server_process server({"--drain-delay", "0", "--access-log", "--log-format", "json"});
  raw_client ok(server.port());
  ok.send(request_bytes("GET", "/status", "User-Agent: kube-probe/1.30\r\nConnection: close\r\n"));
  const auto res = ok.read_response();
  ASSERT_TRUE(res);
  const unsigned short client_port = ok.socket().local_endpoint().port();
  raw_client bad(server.port());
  bad.send("GET /status HTTP/1.1\r\n\r\n");  // no Host: 400
  ASSERT_TRUE(bad.read_response());
  ASSERT_TRUE(server.wait_for_log("BAD_REQUEST", 2s)) << server.log();

  std::vector<nlohmann::json> lines;
  std::istringstream log(server.log());
  for (std::string line; std::getline(log, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.value("msg", "") == "access") lines.push_back(j);
  }
  ASSERT_EQ(lines.size(), 2u) << server.log();
  const auto& a = lines[0];
  EXPECT_EQ(a["client"], "127.0.0.1:" + std::to_string(client_port));
  EXPECT_EQ(a["method"], "GET");
  EXPECT_EQ(a["target"], "/status");
  EXPECT_EQ(a["protocol"], "HTTP/1.1");
  EXPECT_EQ(a["status"], 200);
  EXPECT_EQ(a["bytes"], res->body().size());
  EXPECT_EQ(a["user_agent"], "kube-probe/1.30");
  EXPECT_GT(a["duration_us"].get<double>(), 0.0);
  EXPECT_FALSE(a.contains("error_code"));
  EXPECT_TRUE(a["time"].is_string());
  const auto& b = lines[1];
  EXPECT_EQ(b["status"], 400);
  EXPECT_EQ(b["error_code"], "BAD_REQUEST");
  EXPECT_GT(b["duration_us"].get<double>(), 0.0) << "a refusal logged with no duration";
}

}  // namespace
}  // namespace badges_health::test
