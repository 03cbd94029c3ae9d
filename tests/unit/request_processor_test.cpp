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

// Request bodies: only on a write route, with one valid Content-Length and
// no Transfer-Encoding, at most router::max_body_bytes (413 unread above),
// Expect: 100-continue answered, a late body answered 408, and what
// follows a body parsed as the next request.
namespace badges_health::http {
namespace {

class RequestProcessorBody : public ::testing::Test {
 protected:
  RequestProcessorBody() {
    router_.add_get("/status", [](const request_view&) {
      response r;
      r.body = "ok";
      return r;
    });
    router_.add_put("/echo/{name}", [](const request_view& req) {
      response r;
      r.body = std::string(req.path()) + "=" + std::string(req.body());
      return r;
    });
  }

  std::string feed(const std::string& bytes) {
    processor_.receive(bytes, false);
    std::string out = processor_.output().to_string();
    processor_.written();
    return out;
  }

  static std::string put(const std::string& target, const std::string& body,
                         const std::string& extra = "") {
    return "PUT " + target +
           " HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
           extra + "\r\n" + body;
  }

  static std::size_t count(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  }

  server_options options_;
  router router_;
  error_middleware middleware_{router_};
  request_processor processor_{options_, middleware_, answer_recorder{}};
};

TEST_F(RequestProcessorBody, WriteRouteGetsItsBodyAndWhatFollowsIsTheNextRequest) {
  // The body holds a request line: it is data, never executed.
  const std::string body = "GET /status HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string out = feed(put("/echo/a", body) + "GET /status HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(out.find("/echo/a=" + body), std::string::npos) << out;
  EXPECT_EQ(count(out, "HTTP/1.1 200 OK"), 2u) << "the body was run as a request: " << out;
  EXPECT_FALSE(processor_.closing());
}

TEST_F(RequestProcessorBody, BodySplitAcrossReadsIsAnsweredOnceComplete) {
  const std::string whole = put("/echo/b", "0123456789");
  EXPECT_EQ(feed(whole.substr(0, whole.size() - 4)), "");
  EXPECT_TRUE(processor_.awaiting_body());
  const std::string out = feed(whole.substr(whole.size() - 4));
  EXPECT_NE(out.find("/echo/b=0123456789"), std::string::npos) << out;
  EXPECT_FALSE(processor_.awaiting_body());
}

TEST_F(RequestProcessorBody, ExpectContinueIsAnsweredOnceBeforeTheBody) {
  const std::string head =
      "PUT /echo/c HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
      "Expect: 100-continue\r\n\r\n";
  EXPECT_EQ(feed(head), "HTTP/1.1 100 Continue\r\n\r\n");
  processor_.process(false);  // as the session does after the write
  EXPECT_EQ(processor_.output().to_string(), "") << "100 Continue sent twice";
  const std::string out = feed("abc");
  EXPECT_EQ(count(out, "100 Continue"), 0u);
  EXPECT_NE(out.find("/echo/c=abc"), std::string::npos) << out;
}

TEST_F(RequestProcessorBody, BodyPastTheLimitIs413WithoutReadingIt) {
  const std::string big(router::max_body_bytes + 1, 'x');
  const std::string out = feed(put("/echo/d", big) + "GET /status HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(out.find("413"), std::string::npos) << out;
  EXPECT_NE(out.find("BODY_TOO_LARGE"), std::string::npos) << out;
  EXPECT_EQ(count(out, "HTTP/1.1 "), 1u) << "the bytes after the refused head were parsed";
  EXPECT_TRUE(processor_.closing());
}

TEST_F(RequestProcessorBody, TransferEncodingIsRefusedEvenOnAWriteRoute) {
  for (const std::string te : {"chunked", "gzip, chunked", "identity"}) {
    request_processor p{options_, middleware_, answer_recorder{}};
    p.receive("PUT /echo/e HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + te +
                  "\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
              false);
    const std::string out = p.output().to_string();
    EXPECT_NE(out.find("400 Bad Request"), std::string::npos) << te << ": " << out;
    EXPECT_TRUE(p.closing()) << te;
  }
}

TEST_F(RequestProcessorBody, MalformedOrRepeatedContentLengthIsRefused) {
  for (const std::string cl :
       {"Content-Length: +3\r\n", "Content-Length: 3x\r\n",
        "Content-Length: 3\r\nContent-Length: 4\r\n", "Content-Length: 3, 4\r\n"}) {
    request_processor p{options_, middleware_, answer_recorder{}};
    p.receive("PUT /echo/f HTTP/1.1\r\nHost: x\r\n" + cl + "\r\nabcd", false);
    const std::string out = p.output().to_string();
    EXPECT_NE(out.find("400 Bad Request"), std::string::npos) << cl << out;
    EXPECT_EQ(out.find("/echo/f="), std::string::npos) << cl << out;
    EXPECT_TRUE(p.closing()) << cl;
  }
}

TEST_F(RequestProcessorBody, BodyOnARouteThatTakesNoneIsRefused) {
  const std::string out = feed("PUT /status HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
  EXPECT_NE(out.find("BODY_NOT_ALLOWED"), std::string::npos) << out;
  EXPECT_TRUE(processor_.closing());
}

TEST_F(RequestProcessorBody, LateBodyIsAnswered408AtTheTimeout) {
  EXPECT_EQ(feed(put("/echo/g", "0123456789").substr(0, 60)), "");
  ASSERT_TRUE(processor_.awaiting_body());
  processor_.time_out();
  const std::string out = processor_.output().to_string();
  EXPECT_NE(out.find("408 Request Timeout"), std::string::npos) << out;
  EXPECT_NE(out.find("REQUEST_TIMEOUT"), std::string::npos) << out;
  EXPECT_TRUE(processor_.closing());
}

}  // namespace
}  // namespace badges_health::http
