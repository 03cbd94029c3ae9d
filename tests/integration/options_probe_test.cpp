// `OPTIONS /` and `OPTIONS *` as a health probe, as HAProxy's bare
// `option httpchk` sends it (`OPTIONS / HTTP/1.0`, no Host): 204 while the
// service is up (ok or degraded), 503 while it is down or draining. CORS
// preflights and OPTIONS on other paths keep their 204. One fixture per
// mode of the service.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "support/health_service.hpp"
#include "support/raw_client.hpp"
#include "support/response_checks.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace badges_health::test {
namespace {

using nlohmann::json;
using std::chrono::seconds;

const std::string haproxy_probe = "OPTIONS / HTTP/1.0\r\n\r\n";
const std::string asterisk_probe = "OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n";
const std::string root_preflight =
    "OPTIONS / HTTP/1.1\r\nHost: localhost\r\nOrigin: https://dashboard.example\r\n"
    "Access-Control-Request-Method: GET\r\n\r\n";

// The answer to `bytes` sent on a new connection.
std::optional<http_response> exchange(unsigned short port, const std::string& bytes) {
  raw_client c(port);
  c.send(bytes);
  return c.read_response();
}

::testing::AssertionResult is_204_with_allow(const std::optional<http_response>& res) {
  if (!res) return ::testing::AssertionFailure() << "no answer";
  if (res->result_int() != 204) {
    return ::testing::AssertionFailure() << "status " << res->result_int() << ": " << res->body();
  }
  if ((*res)[boost::beast::http::field::allow] != "GET, HEAD, OPTIONS") {
    return ::testing::AssertionFailure() << "Allow: " << (*res)[boost::beast::http::field::allow];
  }
  if (!res->body().empty()) return ::testing::AssertionFailure() << "a body: " << res->body();
  return has_common_headers(*res);
}

::testing::AssertionResult is_503_unavailable(const std::optional<http_response>& res) {
  if (!res) return ::testing::AssertionFailure() << "no answer";
  const auto error = is_error_response(*res, 503, "SERVICE_UNAVAILABLE");
  if (!error) return error;
  if ((*res)[boost::beast::http::field::allow] != "GET, HEAD, OPTIONS") {
    return ::testing::AssertionFailure() << "Allow: " << (*res)[boost::beast::http::field::allow];
  }
  return ::testing::AssertionSuccess();
}

// A critical file check on `dir`/up (rise and fall 1, every 200 ms): the
// service is down while the file is absent. And a non-critical one on
// `dir`/optional, which only degrades it.
json probe_checks(const temp_dir& dir) {
  return json::array({{{"name", "up"},
                       {"type", "file"},
                       {"path", dir.file("up")},
                       {"when", "present"},
                       {"interval", "200ms"},
                       {"timeout", "100ms"},
                       {"rise", 1},
                       {"fall", 1}},
                      {{"name", "optional"},
                       {"type", "file"},
                       {"path", dir.file("optional")},
                       {"when", "present"},
                       {"critical", false},
                       {"interval", "200ms"},
                       {"timeout", "100ms"},
                       {"rise", 1},
                       {"fall", 1}}});
}

// Waits until GET /status answers `code`.
bool status_becomes(unsigned short port, unsigned code) {
  return eventually(
      [&] {
        const auto res = request(port, "GET", "/status");
        return res && res->result_int() == code;
      },
      seconds(5));
}

// ----------------------------------------------------------- healthy ----

class OptionsProbeHealthy : public ::testing::Test {
 protected:
  server_process server_{{"--drain-delay", "0"}};
};

TEST_F(OptionsProbeHealthy, HaproxyProbeAnswers204) {
  EXPECT_TRUE(is_204_with_allow(exchange(server_.port(), haproxy_probe)));
}

TEST_F(OptionsProbeHealthy, OptionsAsteriskAnswers204) {
  EXPECT_TRUE(is_204_with_allow(exchange(server_.port(), asterisk_probe)));
}

// ---------------------------------------------------------- degraded ----

class OptionsProbeDegraded : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_.write("up", "");
    svc_.emplace(dir_, probe_checks(dir_));
    ASSERT_TRUE(svc_->wait_for([](const json& b) {
      return all_checks_have_results(b) && b.value("status", "") == "degraded";
    })) << svc_->process().log();
  }

  temp_dir dir_;
  std::optional<health_service> svc_;
};

TEST_F(OptionsProbeDegraded, HaproxyProbeStillAnswers204) {
  EXPECT_TRUE(is_204_with_allow(exchange(svc_->port(), haproxy_probe)));
  EXPECT_TRUE(is_204_with_allow(exchange(svc_->port(), asterisk_probe)));
}

// -------------------------------------------------------------- down ----

class OptionsProbeDown : public ::testing::Test {
 protected:
  void SetUp() override {
    svc_.emplace(dir_, probe_checks(dir_));  // "up" is absent: down
    ASSERT_TRUE(svc_->wait_for([](const json& b) {
      return all_checks_have_results(b) && b.value("status", "") == "down";
    })) << svc_->process().log();
  }

  temp_dir dir_;
  std::optional<health_service> svc_;
};

TEST_F(OptionsProbeDown, HaproxyProbeAnswers503WithTheErrorBody) {
  const auto res = exchange(svc_->port(), haproxy_probe);
  EXPECT_TRUE(is_503_unavailable(res));
}

TEST_F(OptionsProbeDown, OptionsAsteriskAnswers503) {
  EXPECT_TRUE(is_503_unavailable(exchange(svc_->port(), asterisk_probe)));
}

TEST_F(OptionsProbeDown, PreflightAndOtherPathsStill204) {
  const auto preflight = exchange(svc_->port(), root_preflight);
  EXPECT_TRUE(is_204_with_allow(preflight));
  ASSERT_TRUE(preflight);
  EXPECT_EQ((*preflight)[boost::beast::http::field::access_control_allow_methods],
            "GET, HEAD, OPTIONS");
  EXPECT_TRUE(is_204_with_allow(request(svc_->port(), "OPTIONS", "/status")));
  EXPECT_TRUE(is_204_with_allow(request(svc_->port(), "OPTIONS", "/livez")));
}

TEST_F(OptionsProbeDown, HaproxyProbeAnswers204AgainOnceTheCheckRecovers) {
  dir_.write("up", "");
  ASSERT_TRUE(status_becomes(svc_->port(), 200)) << svc_->process().log();
  EXPECT_TRUE(is_204_with_allow(exchange(svc_->port(), haproxy_probe)));
}

// ---------------------------------------------------------- draining ----

// --drain-delay 3s: the window in which the service reports down but serves.
class OptionsProbeDraining : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(is_204_with_allow(exchange(server_.port(), haproxy_probe)));
    server_.signal(SIGTERM);
    ASSERT_TRUE(server_.wait_for_log("draining", seconds(2))) << server_.log();
  }

  server_process server_{{"--drain-delay", "3s"}};
};

TEST_F(OptionsProbeDraining, HaproxyProbeAnswers503) {
  EXPECT_TRUE(is_503_unavailable(exchange(server_.port(), haproxy_probe)));
}

TEST_F(OptionsProbeDraining, OptionsAsteriskAnswers503) {
  EXPECT_TRUE(is_503_unavailable(exchange(server_.port(), asterisk_probe)));
}

TEST_F(OptionsProbeDraining, PreflightStill204) {
  EXPECT_TRUE(is_204_with_allow(exchange(server_.port(), root_preflight)));
}

}  // namespace
}  // namespace badges_health::test
