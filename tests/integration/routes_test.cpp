// Routes of a serving instance over real sockets: /status, /livez, /readyz,
// /, OPTIONS, HEAD, and the JSON errors for unknown paths, methods and
// query parameters.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "support/raw_client.hpp"
#include "support/response_checks.hpp"
#include "support/server_process.hpp"

namespace badges_health::test {
namespace {

namespace bhttp = boost::beast::http;

std::set<std::string> allow_tokens(const http_response& res) {
  std::set<std::string> out;
  const auto it = res.find(bhttp::field::allow);
  if (it == res.end()) return out;
  const std::string value(it->value());
  std::size_t start = 0;
  while (start <= value.size()) {
    const auto comma = std::min(value.find(',', start), value.size());
    std::string token = value.substr(start, comma - start);
    token.erase(0, token.find_first_not_of(' '));
    token.erase(token.find_last_not_of(' ') + 1);
    if (!token.empty()) out.insert(token);
    start = comma + 1;
  }
  return out;
}

const std::set<std::string> read_only_methods{"GET", "HEAD", "OPTIONS"};

// Every string anywhere in a JSON document.
void collect_strings(const nlohmann::json& j, std::set<std::string>& out) {
  if (j.is_string()) out.insert(j.get<std::string>());
  if (j.is_structured()) {
    for (const auto& item : j) collect_strings(item, out);
  }
}

// A running instance in its normal serving mode.
class Serving : public ::testing::Test {
 protected:
  server_process server_{{"--drain-delay", "0"}};

  http_response get(const std::string& method, const std::string& target) {
    auto res = request(server_.port(), method, target);
    if (!res) {
      ADD_FAILURE() << "no response to " << method << " " << target;
      return {};
    }
    return *res;
  }
};

TEST_F(Serving, StatusAnswers200WithOnlyStatusAndTimestamp) {
  const auto res = get("GET", "/status");
  EXPECT_EQ(res.result_int(), 200);
  ASSERT_NE(res.find(bhttp::field::content_type), res.end());
  EXPECT_EQ(res[bhttp::field::content_type].substr(0, 16), "application/json");
  const auto body = json_body(res);
  ASSERT_TRUE(body.is_object()) << res.body();
  EXPECT_EQ(body.size(), 2u) << res.body();
  EXPECT_EQ(body.value("status", ""), "ok");
  ASSERT_TRUE(body.contains("timestamp") && body["timestamp"].is_string()) << res.body();
}

TEST_F(Serving, StatusTimestampIsIso8601MillisecondsUtcNearNow) {
  const auto res = get("GET", "/status");
  const auto body = json_body(res);
  ASSERT_TRUE(body.is_object() && body.contains("timestamp")) << res.body();
  const std::string ts = body["timestamp"];
  EXPECT_TRUE(std::regex_match(ts, std::regex(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$)")))
      << ts;
  const auto when = parse_iso8601_utc(ts);
  ASSERT_TRUE(when) << ts;
  const auto skew = std::chrono::abs(std::chrono::system_clock::now() - *when);
  EXPECT_LT(skew, std::chrono::seconds(5)) << ts;
}

TEST_F(Serving, EveryKindOfResponseCarriesTheCommonHeaders) {
  struct probe {
    std::string method, target;
    unsigned status;
  };
  const std::vector<probe> probes = {
      {"GET", "/status", 200},    {"GET", "/livez", 200},        {"GET", "/readyz", 200},
      {"GET", "/", 200},          {"OPTIONS", "/status", 204},   {"GET", "/nope", 404},
      {"DELETE", "/status", 405}, {"GET", "/status?foo=1", 400},
  };
  for (const auto& p : probes) {
    SCOPED_TRACE(p.method + " " + p.target);
    const auto res = get(p.method, p.target);
    EXPECT_EQ(res.result_int(), p.status);
    EXPECT_TRUE(has_common_headers(res));
  }
}

TEST_F(Serving, HeadMatchesGetWithoutSendingABody) {
  for (const std::string target : {"/", "/status", "/livez", "/readyz"}) {
    SCOPED_TRACE("HEAD " + target);
    raw_client c(server_.port());
    // GET then HEAD on one keep-alive connection so both answers are framed
    // alike, then a GET: any body bytes after the HEAD header would be
    // parsed as the start of that last response and break it.
    c.send(request_bytes("GET", target) + request_bytes("HEAD", target) +
           request_bytes("GET", "/livez", "Connection: close\r\n"));
    const auto full = c.read_response();
    ASSERT_TRUE(full);
    const auto head = c.read_response(/*head=*/true);
    ASSERT_TRUE(head);
    EXPECT_EQ(head->result_int(), full->result_int());
    EXPECT_TRUE(has_common_headers(*head, /*head=*/true));
    EXPECT_EQ((*head)[bhttp::field::content_length], std::to_string(full->body().size()));
    for (const auto& field : *full) {
      if (field.name() == bhttp::field::date) continue;  // may tick between the two
      EXPECT_EQ((*head)[field.name_string()], field.value()) << field.name_string();
    }
    for (const auto& field : *head) {
      EXPECT_NE(full->find(field.name_string()), full->end())
          << "HEAD has " << field.name_string() << " that GET lacks";
    }

    const auto next = c.read_response();
    ASSERT_TRUE(next) << "the request after HEAD did not parse";
    EXPECT_EQ(next->result_int(), 200);
    EXPECT_EQ(json_body(*next).value("status", ""), "ok") << next->body();
    EXPECT_TRUE(c.closed_by_peer());
  }
}

TEST_F(Serving, LivezAnswers200Ok) {
  const auto res = get("GET", "/livez");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(json_body(res).value("status", ""), "ok") << res.body();
}

TEST_F(Serving, ReadyzAnswers200WhileServing) {
  const auto res = get("GET", "/readyz");
  EXPECT_EQ(res.result_int(), 200) << res.body();
  EXPECT_TRUE(json_body(res).is_object()) << res.body();
}

TEST_F(Serving, IndexListsTheEndpoints) {
  const auto res = get("GET", "/");
  EXPECT_EQ(res.result_int(), 200);
  const auto body = json_body(res);
  ASSERT_FALSE(body.is_discarded()) << res.body();
  std::set<std::string> strings;
  collect_strings(body, strings);
  for (const char* path : {"/status", "/livez", "/readyz"}) {
    EXPECT_TRUE(strings.count(path)) << path << " not listed in " << res.body();
  }
}

TEST_F(Serving, OptionsOnStatusAnswers204WithAllow) {
  const auto res = get("OPTIONS", "/status");
  EXPECT_EQ(res.result_int(), 204);
  EXPECT_EQ(allow_tokens(res), read_only_methods) << res[bhttp::field::allow];
  EXPECT_TRUE(res.body().empty());
}

TEST_F(Serving, OptionsAsteriskAnswers204WithAllow) {
  const auto res = get("OPTIONS", "*");
  EXPECT_EQ(res.result_int(), 204);
  EXPECT_EQ(allow_tokens(res), read_only_methods) << res[bhttp::field::allow];
  EXPECT_TRUE(has_common_headers(res));
}

TEST_F(Serving, HaproxyDefaultOptionsProbeWithoutHostAnswers2xx) {
  raw_client c(server_.port());
  c.send("OPTIONS / HTTP/1.0\r\n\r\n");
  const auto res = c.read_response();
  ASSERT_TRUE(res);
  EXPECT_GE(res->result_int(), 200);
  EXPECT_LT(res->result_int(), 300);
}

TEST_F(Serving, UnknownPathAnswers404NotFound) {
  const auto res = get("GET", "/nope");
  EXPECT_TRUE(is_error_response(res, 404, "NOT_FOUND"));
}

TEST_F(Serving, WriteMethodsOnStatusAnswer405WithAllow) {
  for (const std::string method : {"POST", "PUT", "DELETE"}) {
    SCOPED_TRACE(method);
    raw_client c(server_.port());
    c.send(method + " /status HTTP/1.1\r\nHost: localhost\r\n\r\n");
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_TRUE(is_error_response(*res, 405, "METHOD_NOT_ALLOWED"));
    EXPECT_EQ(allow_tokens(*res), read_only_methods);
  }
}

TEST_F(Serving, UnknownQueryParameterAnswers400NamingIt) {
  const auto res = get("GET", "/status?foo=1");
  EXPECT_TRUE(is_error_response(res, 400, "UNKNOWN_PARAMETER"));
  EXPECT_NE(json_body(res).value("error", "").find("foo"), std::string::npos) << res.body();
}

}  // namespace
}  // namespace badges_health::test
