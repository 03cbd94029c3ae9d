// Request limits over real sockets: oversized header blocks and targets,
// request bodies, malformed requests (each answered with the JSON error
// body, then the connection is closed and the server keeps serving), and
// the cap on open connections.
#include <gtest/gtest.h>

#include <boost/asio/write.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "support/raw_client.hpp"
#include "support/response_checks.hpp"
#include "support/server_process.hpp"

namespace badges_health::test {
namespace {

// Sends `bytes` on a fresh connection and checks the error answer, the
// close that follows, and that a fresh connection is still served.
void expect_rejected(unsigned short port, const std::string& bytes, unsigned status,
                     std::string_view code) {
  {
    raw_client c(port);
    c.send(bytes);
    const auto res = c.read_response();
    ASSERT_TRUE(res) << "no response";
    EXPECT_TRUE(is_error_response(*res, status, code));
    EXPECT_TRUE(c.closed_by_peer()) << "connection not closed after the error";
  }
  const auto after = request(port, "GET", "/status");
  ASSERT_TRUE(after) << "no answer on a fresh connection after the error";
  EXPECT_EQ(after->result_int(), 200);
}

std::string with_header_of(std::size_t value_bytes) {
  return "GET /status HTTP/1.1\r\nHost: localhost\r\nX-Filler: " + std::string(value_bytes, 'h') +
         "\r\n\r\n";
}

std::string with_target_of(std::size_t target_bytes) {
  const std::string prefix = "/status?a=";
  return request_bytes("GET", prefix + std::string(target_bytes - prefix.size(), 't'));
}

// Default limits: 8 KiB header block, 2 KiB target.
class DefaultLimits : public ::testing::Test {
 protected:
  server_process server_{{"--drain-delay", "0"}};
};

TEST_F(DefaultLimits, HeaderBlockOver8KiBAnswers431) {
  expect_rejected(server_.port(), with_header_of(9 * 1024), 431, "HEADER_TOO_LARGE");
}

TEST_F(DefaultLimits, TargetOver2KiBAnswers414) {
  expect_rejected(server_.port(), with_target_of(3000), 414, "TARGET_TOO_LONG");
}

TEST_F(DefaultLimits, TargetLongerThanTheHeaderLimitAnswers414) {
  expect_rejected(server_.port(), with_target_of(10 * 1024), 414, "TARGET_TOO_LONG");
}

TEST_F(DefaultLimits, ContentLengthBodyAnswers400BodyNotAllowed) {
  expect_rejected(server_.port(),
                  "POST /status HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello", 400,
                  "BODY_NOT_ALLOWED");
}

TEST_F(DefaultLimits, ContentLengthBodyOnGetAnswers400BodyNotAllowed) {
  expect_rejected(server_.port(),
                  "GET /status HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello", 400,
                  "BODY_NOT_ALLOWED");
}

TEST_F(DefaultLimits, ChunkedBodyAnswers400BodyNotAllowed) {
  expect_rejected(server_.port(),
                  "GET /status HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "5\r\nhello\r\n0\r\n\r\n",
                  400, "BODY_NOT_ALLOWED");
}

TEST_F(DefaultLimits, ZeroContentLengthIsServed) {
  raw_client c(server_.port());
  c.send(request_bytes("GET", "/status", "Content-Length: 0\r\n"));
  const auto res = c.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
}

TEST_F(DefaultLimits, GarbageRequestLineAnswers400BadRequest) {
  expect_rejected(server_.port(), "GARBAGE\r\n\r\n", 400, "BAD_REQUEST");
}

TEST_F(DefaultLimits, OtherMajorHttpVersionsAnswer505) {
  for (const char* line :
       {"GET /status HTTP/9.9\r\n", "GET /status HTTP/2.0\r\n", "GET /status HTTP/0.9\r\n"}) {
    SCOPED_TRACE(line);
    expect_rejected(server_.port(), std::string(line) + "Host: localhost\r\n\r\n", 505,
                    "HTTP_VERSION_NOT_SUPPORTED");
  }
}

// --max-header-bytes 1024 on its own, as an operator would set it.
class HeaderLimit1024 : public ::testing::Test {
 protected:
  server_process server_{{"--drain-delay", "0", "--max-header-bytes", "1024"}};
};

TEST_F(HeaderLimit1024, HeaderBlockOf2KiBAnswers431) {
  expect_rejected(server_.port(), with_header_of(2 * 1024), 431, "HEADER_TOO_LARGE");
}

// --max-header-bytes 1024 with a target limit below it.
class HeaderLimit1024Target512 : public ::testing::Test {
 protected:
  server_process server_{
      {"--drain-delay", "0", "--max-header-bytes", "1024", "--max-target-bytes", "512"}};
};

TEST_F(HeaderLimit1024Target512, HeaderBlockOf2KiBAnswers431) {
  expect_rejected(server_.port(), with_header_of(2 * 1024), 431, "HEADER_TOO_LARGE");
}

TEST_F(HeaderLimit1024Target512, HeaderBlockUnderTheLimitIsServed) {
  raw_client c(server_.port());
  c.send(with_header_of(700));
  const auto res = c.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
}

// --max-target-bytes 100.
class TargetLimit100 : public ::testing::Test {
 protected:
  server_process server_{{"--drain-delay", "0", "--max-target-bytes", "100"}};
};

TEST_F(TargetLimit100, TargetOver100BytesAnswers414) {
  expect_rejected(server_.port(), request_bytes("GET", "/" + std::string(150, 'p')), 414,
                  "TARGET_TOO_LONG");
}

TEST_F(TargetLimit100, TargetUnder100BytesIsRouted) {
  // Within the limit the target reaches the router (an unknown path: 404).
  raw_client c(server_.port());
  c.send(request_bytes("GET", "/" + std::string(90, 'p')));
  const auto res = c.read_response();
  ASSERT_TRUE(res);
  EXPECT_TRUE(is_error_response(*res, 404, "NOT_FOUND"));
}

// --max-connections 3.
class ConnectionCap : public ::testing::Test {
 protected:
  server_process server_{{"--drain-delay", "0", "--max-connections", "3"}};
  std::vector<std::unique_ptr<raw_client>> open_;

  // Opens three keep-alive connections, each established in the server
  // (a request answered on it).
  void fill_to_the_cap() {
    for (int i = 0; i < 3; ++i) {
      open_.push_back(std::make_unique<raw_client>(server_.port()));
      open_.back()->send(request_bytes("GET", "/status"));
      const auto res = open_.back()->read_response();
      ASSERT_TRUE(res) << "connection " << i << " under the cap was not served";
      ASSERT_EQ(res->result_int(), 200);
    }
  }
};

TEST_F(ConnectionCap, ConnectionOverTheCapIsTurnedAwayWithout200) {
  ASSERT_NO_FATAL_FAILURE(fill_to_the_cap());
  const auto extra = try_connect(server_.port());
  if (!extra) return;  // refused at connect: turned away
  boost::system::error_code ec;
  boost::asio::write(extra->socket(),
                     boost::asio::buffer(request_bytes("GET", "/status", "Connection: close\r\n")),
                     ec);
  const auto res = extra->read_response();
  if (res) {
    EXPECT_TRUE(is_error_response(*res, 503, "TOO_MANY_CONNECTIONS"));
  }
  EXPECT_TRUE(extra->read_until_close().closed) << "connection over the cap left open";
}

TEST_F(ConnectionCap, ConnectionsUnderTheCapKeepWorking) {
  ASSERT_NO_FATAL_FAILURE(fill_to_the_cap());
  {
    const auto extra = try_connect(server_.port());
    if (extra) extra->read_until_close();
  }
  for (std::size_t i = 0; i < open_.size(); ++i) {
    SCOPED_TRACE(i);
    open_[i]->send(request_bytes("GET", "/status"));
    const auto res = open_[i]->read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 200);
  }
}

TEST_F(ConnectionCap, ClosingOneLetsANewConnectionIn) {
  ASSERT_NO_FATAL_FAILURE(fill_to_the_cap());
  open_.front()->close();
  // The server learns of the close asynchronously: retry until a new
  // connection is served, within a deadline.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  bool served = false;
  while (!served && std::chrono::steady_clock::now() < deadline) {
    const auto c = try_connect(server_.port());
    if (!c) continue;
    boost::system::error_code ec;
    boost::asio::write(
        c->socket(), boost::asio::buffer(request_bytes("GET", "/status", "Connection: close\r\n")),
        ec);
    const auto res = c->read_response();
    served = res && res->result_int() == 200;
  }
  EXPECT_TRUE(served) << "no new connection served after one of three closed";
}

}  // namespace
}  // namespace badges_health::test
