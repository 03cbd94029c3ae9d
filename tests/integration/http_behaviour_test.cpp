// Connection handling of HTTP/1.x over real sockets: keep-alive, pipelining
// (small and large batches answered in order), when the server closes
// (HTTP/1.0 defaults, Connection: keep-alive / close), and clients that
// vanish mid-request.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/beast/http/rfc7230.hpp>
#include <cctype>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/hostile_client.hpp"
#include "support/raw_client.hpp"
#include "support/response_checks.hpp"
#include "support/server_process.hpp"

namespace badges_health::test {
namespace {

namespace bhttp = boost::beast::http;

// What tells the answers to the pipelined targets apart.
enum class answer { status, index, not_found };

struct pipelined {
  std::string target;
  answer expected;
};

::testing::AssertionResult answers(const http_response& res, answer expected) {
  const auto body = json_body(res);
  switch (expected) {
    case answer::status:
      if (res.result_int() == 200 && body.is_object() && body.contains("timestamp") &&
          !body.contains("endpoints")) {
        return ::testing::AssertionSuccess();
      }
      break;
    case answer::index:
      if (res.result_int() == 200 && body.is_object() && body.contains("endpoints")) {
        return ::testing::AssertionSuccess();
      }
      break;
    case answer::not_found:
      return is_error_response(res, 404, "NOT_FOUND");
  }
  return ::testing::AssertionFailure()
         << "unexpected answer " << res.result_int() << " " << res.body();
}

// A running instance in its normal serving mode.
class Connections : public ::testing::Test {
 protected:
  server_process server_{{"--drain-delay", "0"}};
};

TEST_F(Connections, KeepAliveServesSeveralRequestsOnOneConnection) {
  raw_client c(server_.port());
  for (int i = 0; i < 5; ++i) {
    SCOPED_TRACE(i);
    c.send(request_bytes("GET", "/status"));
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 200);
    EXPECT_TRUE(res->keep_alive());
  }
}

TEST_F(Connections, ThreePipelinedRequestsInOneWriteAreAnsweredInOrder) {
  raw_client c(server_.port());
  c.send(request_bytes("GET", "/status") + request_bytes("GET", "/livez") +
         request_bytes("GET", "/nope"));
  const auto first = c.read_response();
  const auto second = c.read_response();
  const auto third = c.read_response();
  ASSERT_TRUE(first && second && third);
  EXPECT_EQ(first->result_int(), 200);
  EXPECT_EQ(json_body(*first).value("status", ""), "ok");
  EXPECT_EQ(second->result_int(), 200);
  EXPECT_EQ(json_body(*second).value("status", ""), "ok");
  EXPECT_TRUE(is_error_response(*third, 404, "NOT_FOUND"));
}

TEST_F(Connections, HundredPipelinedRequestsInOneWriteAreAnsweredInOrder) {
  std::vector<pipelined> batch;
  std::string bytes;
  for (int i = 0; i < 100; ++i) {
    static const pipelined cycle[] = {
        {"/status", answer::status}, {"/", answer::index}, {"/nope", answer::not_found}};
    batch.push_back(cycle[i % 3]);
    bytes += request_bytes("GET", batch.back().target);
  }
  raw_client c(server_.port());
  c.send(bytes);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    SCOPED_TRACE("response " + std::to_string(i) + " to " + batch[i].target);
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    EXPECT_TRUE(answers(*res, batch[i].expected));
  }
  // And the connection is still usable afterwards.
  c.send(request_bytes("GET", "/livez"));
  const auto after = c.read_response();
  ASSERT_TRUE(after);
  EXPECT_EQ(after->result_int(), 200);
}

TEST_F(Connections, AnswersThatFillTheSendBufferAreAllDeliveredOnceTheClientReads) {
  // A client pipelines without reading until the server, its send buffer
  // full, stops reading too (the client's own sends then block). Once the
  // client reads, the server must resume writing where it stopped, when the
  // socket says it is writable again, and answer every request in order.
  const std::string one = request_bytes("GET", "/status");
  plain_connection c(server_.port(), /*receive_buffer=*/4096);
  const int small = 4096;
  ASSERT_EQ(::setsockopt(c.fd(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
  std::string payload;
  while (payload.size() < 64 * 1024) payload += one;

  std::size_t sent = 0;
  bool blocked = false;
  for (const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
       std::chrono::steady_clock::now() < give_up;) {
    const auto n = c.send_some(std::string_view(payload).substr(sent % payload.size()));
    ASSERT_TRUE(n) << "the server closed the connection";
    sent += *n;
    if (*n > 0) continue;
    pollfd p{c.fd(), POLLOUT, 0};
    if (::poll(&p, 1, 300) == 0) {
      blocked = true;  // no room for 300 ms: the server stopped reading
      break;
    }
  }
  ASSERT_TRUE(blocked) << "the server kept reading " << sent << " bytes of requests";

  // Finish the request cut in half, reading meanwhile so that it fits.
  const std::size_t requests = (sent + one.size() - 1) / one.size();
  const std::string rest = one.substr(sent % one.size() == 0 ? one.size() : sent % one.size());
  for (std::size_t done = 0; done < rest.size();) {
    ASSERT_FALSE(c.read_available()) << "the server closed the connection";
    const auto n = c.send_some(std::string_view(rest).substr(done));
    ASSERT_TRUE(n);
    done += *n;
  }
  const auto responses = c.wait_for_responses(requests, std::chrono::seconds(30));
  ASSERT_EQ(responses.size(), requests) << "of " << sent << " bytes of requests";
  for (std::size_t i = 0; i < responses.size(); ++i) {
    ASSERT_TRUE(answers(responses[i], answer::status)) << "response " << i;
  }
  EXPECT_TRUE(c.received().empty()) << "bytes after the last response";
  // And the connection still serves.
  ASSERT_TRUE(c.send_all(one, std::chrono::seconds(5)));
  const auto after = c.wait_for_responses(1, std::chrono::seconds(5));
  ASSERT_EQ(after.size(), 1U);
  EXPECT_EQ(after[0].result_int(), 200);
}

TEST_F(Connections, Http10WithoutHostIsAnsweredThenClosed) {
  raw_client c(server_.port());
  c.send("GET /status HTTP/1.0\r\n\r\n");
  const auto res = c.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
  EXPECT_EQ(json_body(*res).value("status", ""), "ok");
  EXPECT_TRUE(c.closed_by_peer());
}

TEST_F(Connections, Http10WithKeepAliveStaysOpen) {
  raw_client c(server_.port());
  const std::string req = "GET /status HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
  c.send(req);
  const auto first = c.read_response();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->result_int(), 200);
  EXPECT_TRUE(bhttp::token_list((*first)[bhttp::field::connection]).exists("keep-alive"))
      << "Connection: " << (*first)[bhttp::field::connection];
  c.send(req);
  const auto second = c.read_response();
  ASSERT_TRUE(second) << "second request on the HTTP/1.0 keep-alive connection got no answer";
  EXPECT_EQ(second->result_int(), 200);
}

TEST_F(Connections, Http11ConnectionCloseIsAnsweredWithCloseThenClosed) {
  raw_client c(server_.port());
  c.send(request_bytes("GET", "/status", "Connection: close\r\n"));
  const auto res = c.read_response();
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
  EXPECT_TRUE(bhttp::token_list((*res)[bhttp::field::connection]).exists("close"))
      << "Connection: " << (*res)[bhttp::field::connection];
  EXPECT_TRUE(c.closed_by_peer());
}

// Lines of the log that report an error or worse.
std::vector<std::string> error_lines(const std::string& log) {
  std::vector<std::string> out;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    std::string lower = line;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    if (lower.find("error") != std::string::npos || lower.find("critical") != std::string::npos) {
      out.push_back(line);
    }
  }
  return out;
}

void expect_still_serving(server_process& server) {
  const auto res = request(server.port(), "GET", "/status");
  ASSERT_TRUE(res) << "server stopped answering";
  EXPECT_EQ(res->result_int(), 200);
  EXPECT_TRUE(server.running());
  EXPECT_EQ(error_lines(server.log()), std::vector<std::string>{}) << server.log();
}

TEST_F(Connections, ClientsClosingMidRequestDoNotDisturbTheServer) {
  for (int i = 0; i < 20; ++i) {
    raw_client c(server_.port());
    c.send("GET /status HTTP/1.1\r\nHost: loc");
    c.close();
  }
  expect_still_serving(server_);
}

TEST_F(Connections, ClientsResettingConnectionsDoNotDisturbTheServer) {
  const auto reset = [](raw_client& c) {
    boost::system::error_code ec;
    c.socket().set_option(boost::asio::socket_base::linger(true, 0), ec);
    c.close();
  };
  for (int i = 0; i < 20; ++i) {
    {
      raw_client c(server_.port());  // connect, then reset at once
      reset(c);
    }
    {
      raw_client c(server_.port());  // half a request, then reset
      c.send("GET /status HTTP/1.1\r\nHo");
      reset(c);
    }
    {
      raw_client c(server_.port());  // whole requests, reset before reading
      c.send(request_bytes("GET", "/status") + request_bytes("GET", "/"));
      reset(c);
    }
  }
  expect_still_serving(server_);
}

}  // namespace
}  // namespace badges_health::test
