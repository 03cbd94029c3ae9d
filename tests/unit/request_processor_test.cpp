// When a connection that is closing may skip lingering: only when the
// client itself asked to close and sent nothing after that request. Every
// close the server decides (errors, draining) must linger, because the
// client may already be sending its next request.
#include "badges_health/http/request_processor.hpp"

#include <gtest/gtest.h>

#include <string>

#include "badges_health/http/error_middleware.hpp"
#include "badges_health/http/router.hpp"

namespace badges_health::http {
namespace {

class RequestProcessorClose : public ::testing::Test {
 protected:
  RequestProcessorClose() {
    router_.add_get("/status", [](const request_view&) {
      response r;
      r.body = R"({"status":"ok"})";
      return r;
    });
  }

  // Feeds `bytes` to a fresh processor in one read, as a session would.
  request_processor& feed(const std::string& bytes, bool draining = false) {
    processor_.receive(bytes, draining);
    return processor_;
  }

  server_options options_;
  router router_;
  error_middleware middleware_{router_};
  request_processor processor_{options_, middleware_, answer_recorder{}};
};

TEST_F(RequestProcessorClose, ConnectionCloseWithNothingAfterItClosesCleanly) {
  const auto& p = feed("GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(p.output().to_string().find("200 OK"), std::string::npos) << p.output().to_string();
  EXPECT_TRUE(p.closing());
  EXPECT_TRUE(p.clean_close());
}

TEST_F(RequestProcessorClose, Http10WithoutKeepAliveClosesCleanly) {
  // HAProxy's `option httpchk GET /status` sends exactly this.
  const auto& p = feed("GET /status HTTP/1.0\r\n\r\n");
  EXPECT_TRUE(p.closing());
  EXPECT_TRUE(p.clean_close());
}

TEST_F(RequestProcessorClose, KeepAliveRequestIsNotClosing) {
  const auto& p = feed("GET /status HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_FALSE(p.closing());
  EXPECT_FALSE(p.clean_close());
}

TEST_F(RequestProcessorClose, BytesAfterTheClosingRequestMeanLingering) {
  const auto& p = feed(
      "GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
      "GET /status HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(p.closing());
  EXPECT_FALSE(p.clean_close());
}

TEST_F(RequestProcessorClose, DrainingCloseOfAKeepAliveRequestLingers) {
  // The server decided to close; the client may be sending its next one.
  const auto& p = feed("GET /status HTTP/1.1\r\nHost: x\r\n\r\n", /*draining=*/true);
  EXPECT_NE(p.output().to_string().find("Connection: close"), std::string::npos)
      << p.output().to_string();
  EXPECT_TRUE(p.closing());
  EXPECT_FALSE(p.clean_close());
}

TEST_F(RequestProcessorClose, ErrorCloseLingersEvenWhenTheClientAskedToClose) {
  const auto& p = feed(
      "GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_NE(p.output().to_string().find("400"), std::string::npos) << p.output().to_string();
  EXPECT_TRUE(p.closing());
  EXPECT_FALSE(p.clean_close());
}

TEST_F(RequestProcessorClose, MalformedRequestLingers) {
  const auto& p = feed("GET /status HTTP/1.1\r\nNoColonHere\r\n\r\n");
  EXPECT_TRUE(p.closing());
  EXPECT_FALSE(p.clean_close());
}

}  // namespace
}  // namespace badges_health::http
