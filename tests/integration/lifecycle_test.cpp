// The graceful stop with real signals: during the drain delay /status and
// /readyz report down while /livez stays up and open connections keep
// working; then new connections are refused, in-flight requests finish,
// idle ones are closed, and the process exits 0. SIGINT, a second SIGTERM
// and the shutdown timeout cut it short.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/asio/write.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <chrono>
#include <sstream>
#include <string>

#include "support/raw_client.hpp"
#include "support/response_checks.hpp"
#include "support/server_process.hpp"

namespace badges_health::test {
namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
namespace bhttp = boost::beast::http;

std::size_t lines_containing(const std::string& log, const std::string& needle) {
  std::size_t n = 0;
  std::istringstream in(log);
  for (std::string line; std::getline(in, line);) {
    if (line.find(needle) != std::string::npos) ++n;
  }
  return n;
}

// True when a new connection is turned away: connect fails, or the
// connection closes without an answer.
bool new_connection_refused(unsigned short port) {
  const auto c = try_connect(port);
  if (!c) return true;
  boost::system::error_code ec;
  boost::asio::write(c->socket(),
                     boost::asio::buffer(request_bytes("GET", "/livez", "Connection: close\r\n")),
                     ec);
  if (ec) return true;
  return !c->read_response(/*head=*/false, 2s);
}

// Polls until new connections are refused or `timeout` passes; returns
// how long that took, or nullopt.
std::optional<steady::duration> wait_until_refused(unsigned short port, raw_client& pacer,
                                                   std::chrono::milliseconds timeout) {
  const auto start = steady::now();
  while (steady::now() - start < timeout) {
    if (new_connection_refused(port)) return steady::now() - start;
    // Paced by waiting on a connection that must stay quiet meanwhile.
    const auto quiet = pacer.read_until_close(50ms);
    if (quiet.closed || !quiet.bytes.empty()) {
      ADD_FAILURE() << "held connection ended early: '" << quiet.bytes << "'";
      return std::nullopt;
    }
  }
  return std::nullopt;
}

// A keep-alive connection established in the server (one request answered)
// that has then sent only part of its next request.
std::unique_ptr<raw_client> connection_with_partial_request(unsigned short port) {
  auto c = std::make_unique<raw_client>(port);
  c->send(request_bytes("GET", "/livez"));
  const auto res = c->read_response();
  EXPECT_TRUE(res && res->result_int() == 200) << "first request not served";
  c->send("GET /livez HTTP/1.1\r\nHost: localhost\r\n");
  // Bytes still in the server's socket buffer are not yet a request in
  // flight; wait until the server has read them.
  EXPECT_TRUE(c->wait_until_read_by_peer()) << "server did not read the partial request";
  return c;
}

// --drain-delay 1s: the window in which the service reports down but serves.
class DrainDelay : public ::testing::Test {
 protected:
  static constexpr auto delay = 1s;
  server_process server_{{"--drain-delay", "1s"}};

  void start_draining() {
    server_.signal(SIGTERM);
    ASSERT_TRUE(server_.wait_for_log("draining", 2s)) << server_.log();
  }
};

TEST_F(DrainDelay, StatusOnNewConnectionReportsDownDuringTheDelay) {
  start_draining();
  const auto res = request(server_.port(), "GET", "/status");
  ASSERT_TRUE(res) << "no answer during the drain delay";
  EXPECT_EQ(res->result_int(), 503);
  EXPECT_EQ(json_body(*res).value("status", ""), "down") << res->body();
  EXPECT_TRUE(has_common_headers(*res));
}

TEST_F(DrainDelay, ReadyzIs503AndLivezIs200DuringTheDelay) {
  start_draining();
  const auto ready = request(server_.port(), "GET", "/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->result_int(), 503) << ready->body();
  const auto live = request(server_.port(), "GET", "/livez");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->result_int(), 200);
  EXPECT_EQ(json_body(*live).value("status", ""), "ok") << live->body();
}

TEST_F(DrainDelay, KeepAliveConnectionFromBeforeTheSignalIsAnsweredThenClosed) {
  raw_client c(server_.port());
  c.send(request_bytes("GET", "/status"));
  const auto before = c.read_response();
  ASSERT_TRUE(before);
  ASSERT_EQ(before->result_int(), 200);
  start_draining();
  c.send(request_bytes("GET", "/status"));
  const auto during = c.read_response();
  ASSERT_TRUE(during) << "keep-alive connection not answered during the drain delay";
  EXPECT_EQ(during->result_int(), 503);
  EXPECT_EQ(json_body(*during).value("status", ""), "down") << during->body();
  // The client is told to move on, and the connection ends gracefully.
  EXPECT_TRUE(bhttp::token_list((*during)[bhttp::field::connection]).exists("close"));
  EXPECT_TRUE(c.closed_by_peer(2s));
  const auto live = request(server_.port(), "GET", "/livez");
  ASSERT_TRUE(live) << "new connection not served during the drain delay";
  EXPECT_EQ(live->result_int(), 200);
}

TEST_F(DrainDelay, NewConnectionsAreRefusedAfterTheDelay) {
  // A held request keeps the process alive past the delay, so the refusal
  // comes from the closed listener, not from the process having exited.
  const auto held = connection_with_partial_request(server_.port());
  const auto signalled = steady::now();
  start_draining();
  const auto refused_after = wait_until_refused(server_.port(), *held, 4s);
  ASSERT_TRUE(refused_after) << "new connections still served 4 s after SIGTERM";
  const auto since_signal = steady::now() - signalled;
  EXPECT_GE(since_signal, delay - 100ms) << "refused before the drain delay ended";
  EXPECT_TRUE(server_.running()) << "exited with a request in flight";
  held->close();
  EXPECT_EQ(server_.wait(5s), 0);
}

TEST_F(DrainDelay, ExitsZeroLoggingEachPhaseOnce) {
  server_.signal(SIGTERM);
  EXPECT_EQ(server_.wait(5s), 0);
  const auto log = server_.log();
  EXPECT_EQ(lines_containing(log, "listening on"), 1u) << log;
  EXPECT_EQ(lines_containing(log, "draining"), 1u) << log;
  EXPECT_EQ(lines_containing(log, "stopped"), 1u) << log;
}

// --drain-delay 0: stop at once, letting in-flight requests finish.
class ImmediateStop : public ::testing::Test {
 protected:
  server_process server_{{"--drain-delay", "0", "--request-timeout", "5s"}};
};

TEST_F(ImmediateStop, InFlightRequestIsAnsweredWithCloseThenExitsZero) {
  const auto c = connection_with_partial_request(server_.port());
  server_.signal(SIGTERM);
  // Once new connections are refused the stop has reached the sessions.
  ASSERT_TRUE(wait_until_refused(server_.port(), *c, 3s)) << server_.log();
  c->send("\r\n");
  const auto res = c->read_response();
  ASSERT_TRUE(res) << "in-flight request not answered";
  EXPECT_EQ(res->result_int(), 200);
  EXPECT_TRUE(bhttp::token_list((*res)[bhttp::field::connection]).exists("close"))
      << "Connection: " << (*res)[bhttp::field::connection];
  EXPECT_TRUE(c->closed_by_peer());
  // Closing our side ends the server's lingering read at once.
  c->close();
  EXPECT_EQ(server_.wait(5s), 0);
}

TEST_F(ImmediateStop, IdleKeepAliveConnectionIsClosedAtStop) {
  raw_client c(server_.port());
  c.send(request_bytes("GET", "/status"));
  const auto res = c.read_response();
  ASSERT_TRUE(res);
  ASSERT_TRUE(res->keep_alive());
  server_.signal(SIGTERM);
  EXPECT_TRUE(c.closed_by_peer(3s)) << "idle keep-alive connection not closed at stop";
  EXPECT_EQ(server_.wait(5s), 0);
}

// --drain-delay 10s: long enough that only a shortcut ends it in a test.
class LongDrainDelay : public ::testing::Test {
 protected:
  server_process server_{{"--drain-delay", "10s", "--shutdown-timeout", "20s"}};
};

TEST_F(LongDrainDelay, SigintExitsZeroWithoutWaitingForTheDelay) {
  const auto start = steady::now();
  server_.signal(SIGINT);
  EXPECT_EQ(server_.wait(8s), 0);
  EXPECT_LT(steady::now() - start, 3s);
}

TEST_F(LongDrainDelay, SecondSigtermSkipsTheRestOfTheDelay) {
  server_.signal(SIGTERM);
  ASSERT_TRUE(server_.wait_for_log("draining", 2s)) << server_.log();
  const auto start = steady::now();
  server_.signal(SIGTERM);
  EXPECT_EQ(server_.wait(8s), 0);
  EXPECT_LT(steady::now() - start, 3s);
}

// --shutdown-timeout 1s with a request timeout far beyond it.
class ShutdownTimeout : public ::testing::Test {
 protected:
  server_process server_{
      {"--drain-delay", "0", "--shutdown-timeout", "1s", "--request-timeout", "30s"}};
};

TEST_F(ShutdownTimeout, BoundsTheStopWhenARequestNeverCompletes) {
  const auto held = connection_with_partial_request(server_.port());
  const auto start = steady::now();
  server_.signal(SIGTERM);
  EXPECT_EQ(server_.wait(8s), 0);
  EXPECT_LT(steady::now() - start, 3s);
  EXPECT_TRUE(held->read_until_close(1s).closed) << "held connection still open after exit";
}

}  // namespace
}  // namespace badges_health::test
