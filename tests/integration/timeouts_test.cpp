// Timeouts over real sockets with short budgets: the request timeout closes
// slow (dripping) and silent clients quietly, the idle timeout closes a
// keep-alive connection that sends nothing more, and the write timeout
// drops a client that stops reading its responses.
#include <gtest/gtest.h>
#include <poll.h>

#include <boost/asio/write.hpp>
#include <chrono>
#include <string>

#include "support/raw_client.hpp"
#include "support/response_checks.hpp"
#include "support/server_process.hpp"

namespace badges_health::test {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// The budgets are short; a close this much before the budget is too early.
constexpr auto early_slack = 50ms;

// --request-timeout 300ms; the idle timeout is long so it cannot be what
// closes the connection.
class RequestTimeout : public ::testing::Test {
 protected:
  static constexpr auto budget = 300ms;
  server_process server_{
      {"--drain-delay", "0", "--request-timeout", "300ms", "--idle-timeout", "30s"}};
};

TEST_F(RequestTimeout, DrippedRequestIsClosedQuietlyAtTheBudget) {
  const auto start = steady::now();
  raw_client c(server_.port());
  c.send("GET /sta");
  // The rest, one byte per 100 ms, would take about 7 s to arrive.
  const std::string rest =
      "tus HTTP/1.1\r\nHost: localhost\r\nX-Drip: " + std::string(30, 'd') + "\r\n\r\n";
  raw_client::read_outcome outcome{{}, false};
  for (const char byte : rest) {
    // Pacing the drip doubles as the wait for the server's close.
    outcome = c.read_until_close(100ms);
    if (outcome.closed || !outcome.bytes.empty()) break;
    boost::system::error_code ec;
    boost::asio::write(c.socket(), boost::asio::buffer(&byte, 1), ec);
    if (ec) {
      outcome.closed = true;  // reset by the server
      break;
    }
  }
  if (!outcome.closed && outcome.bytes.empty()) outcome = c.read_until_close(3s);
  const auto elapsed = steady::now() - start;
  EXPECT_TRUE(outcome.closed) << "still open after the whole request was dripped";
  EXPECT_EQ(outcome.bytes, "") << "expected a quiet close";
  EXPECT_LT(elapsed, 3s);
  EXPECT_GE(elapsed, budget - early_slack);
}

TEST_F(RequestTimeout, SilentClientIsClosedQuietlyAtTheBudget) {
  const auto start = steady::now();
  raw_client c(server_.port());
  const auto outcome = c.read_until_close(3s);
  const auto elapsed = steady::now() - start;
  EXPECT_TRUE(outcome.closed) << "a client that sends nothing was not closed";
  EXPECT_EQ(outcome.bytes, "") << "expected a quiet close";
  EXPECT_GE(elapsed, budget - early_slack);
}

// --idle-timeout 300ms; the request timeout is long.
class IdleTimeout : public ::testing::Test {
 protected:
  static constexpr auto budget = 300ms;
  server_process server_{
      {"--drain-delay", "0", "--idle-timeout", "300ms", "--request-timeout", "10s"}};
};

TEST_F(IdleTimeout, IdleKeepAliveConnectionIsClosedAfterTheTimeout) {
  raw_client c(server_.port());
  c.send(request_bytes("GET", "/status"));
  const auto res = c.read_response();
  ASSERT_TRUE(res);
  ASSERT_EQ(res->result_int(), 200);
  ASSERT_TRUE(res->keep_alive());
  const auto answered = steady::now();
  const auto outcome = c.read_until_close(3s);
  const auto idle_for = steady::now() - answered;
  EXPECT_TRUE(outcome.closed) << "idle keep-alive connection left open";
  EXPECT_EQ(outcome.bytes, "") << "expected a quiet close";
  EXPECT_GE(idle_for, budget - early_slack);
}

TEST_F(IdleTimeout, SecondRequestBeforeTheTimeoutIsServed) {
  raw_client c(server_.port());
  c.send(request_bytes("GET", "/status"));
  const auto first = c.read_response();
  ASSERT_TRUE(first);
  ASSERT_EQ(first->result_int(), 200);
  // Idle for a third of the budget (and check nothing happens meanwhile).
  const auto quiet = c.read_until_close(100ms);
  ASSERT_FALSE(quiet.closed);
  ASSERT_EQ(quiet.bytes, "");
  c.send(request_bytes("GET", "/livez"));
  const auto second = c.read_response();
  ASSERT_TRUE(second) << "second request before the idle timeout was not answered";
  EXPECT_EQ(second->result_int(), 200);
}

// --idle-timeout 600ms, to show each answered request restarts the idle wait.
class IdleTimeoutRestart : public ::testing::Test {
 protected:
  server_process server_{
      {"--drain-delay", "0", "--idle-timeout", "600ms", "--request-timeout", "10s"}};
};

TEST_F(IdleTimeoutRestart, EachRequestRestartsTheIdleWait) {
  raw_client c(server_.port());
  // Four requests 300 ms apart keep the connection busy for longer than one
  // idle budget; none of the gaps is.
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    c.send(request_bytes("GET", "/status"));
    const auto res = c.read_response();
    ASSERT_TRUE(res);
    ASSERT_EQ(res->result_int(), 200);
    const auto quiet = c.read_until_close(300ms);
    ASSERT_FALSE(quiet.closed) << "closed before the idle timeout";
    ASSERT_EQ(quiet.bytes, "");
  }
}

// --write-timeout 300ms; the read-side timeouts are long.
class WriteTimeout : public ::testing::Test {
 protected:
  static constexpr auto budget = 300ms;
  server_process server_{{"--drain-delay", "0", "--write-timeout", "300ms", "--request-timeout",
                          "30s", "--idle-timeout", "30s"}};
};

TEST_F(WriteTimeout, ClientThatStopsReadingIsDisconnected) {
  namespace asio = boost::asio;
  const auto start = steady::now();
  asio::io_context ioc;
  asio::ip::tcp::socket s(ioc);
  s.open(asio::ip::tcp::v4());
  // A small receive window so the server's writes block soon.
  s.set_option(asio::socket_base::receive_buffer_size(4096));
  s.connect({asio::ip::make_address("127.0.0.1"), server_.port()});
  s.non_blocking(true);
  // Pipeline requests (and never read) until the connection backs up.
  std::string batch;
  for (int i = 0; i < 1000; ++i) batch += request_bytes("GET", "/");
  std::size_t sent = 0;
  for (boost::system::error_code ec; !ec && sent < (64u << 20);) {
    sent += s.write_some(asio::buffer(batch), ec);
  }
  // The server gives up on the blocked write and closes, which reaches us
  // as a reset (it leaves our requests unread) or a FIN.
  pollfd pfd{s.native_handle(), POLLRDHUP, 0};
  const int ready = ::poll(&pfd, 1, 3000);
  const auto elapsed = steady::now() - start;
  ASSERT_EQ(ready, 1) << "a client that does not read was not disconnected within 3 s";
  EXPECT_NE(pfd.revents & (POLLHUP | POLLERR | POLLRDHUP), 0);
  EXPECT_GE(elapsed, budget - early_slack);
}

}  // namespace
}  // namespace badges_health::test
