// The drain as keep-alive clients meet it: from SIGTERM on, every response
// says `Connection: close` and the connection is closed gracefully after
// it, so clients move to new connections while the listener still accepts,
// and no request sent on a kept-alive connection is lost when it closes.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <boost/beast/http/rfc7230.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/raw_client.hpp"
#include "support/response_checks.hpp"
#include "support/server_process.hpp"

namespace badges_health::test {
namespace {

using namespace std::chrono_literals;
namespace bhttp = boost::beast::http;

bool says_close(const http_response& res) {
  return bhttp::token_list(res[bhttp::field::connection]).exists("close");
}

// What one looping client saw.
struct client_tally {
  int answered = 0;
  int answered_with_close = 0;
  // Requests sent on a connection that had already answered one, with no
  // answer: what a drain must never do.
  int lost_on_kept_alive = 0;
  // First requests on a fresh connection that got no answer (the listener
  // closed with the connection still in its queue): the client saw no
  // response and may retry; counted, not a failure of the drain.
  int lost_on_new = 0;
  std::string first_loss;
};

// Sends GET /status in a loop, reusing the connection while the server
// keeps it alive, until `stop`.
void keep_alive_client(unsigned short port, const std::atomic<bool>& stop, client_tally& t) {
  std::unique_ptr<raw_client> c;
  bool kept_alive = false;
  while (!stop.load()) {
    if (!c) {
      c = try_connect(port);
      kept_alive = false;
      if (!c) {
        std::this_thread::sleep_for(5ms);
        continue;
      }
    }
    try {
      c->send(request_bytes("GET", "/status"));
    } catch (const std::exception&) {
      // The send itself failed: the request never left.
      c.reset();
      continue;
    }
    const auto res = c->read_response(false, 5s);
    if (!res) {
      if (kept_alive) {
        if (t.lost_on_kept_alive++ == 0) t.first_loss = "no answer on a kept-alive connection";
      } else {
        ++t.lost_on_new;
      }
      c.reset();
      continue;
    }
    ++t.answered;
    if (says_close(*res) || !res->keep_alive()) {
      ++t.answered_with_close;
      c.reset();
    } else {
      kept_alive = true;
    }
  }
}

class DrainWithKeepAliveClients : public ::testing::Test {
 protected:
  server_process server_{{"--drain-delay", "1s", "--threads", "2"}};
};

TEST_F(DrainWithKeepAliveClients, SixteenClientsLoseNoRequestOnAKeptAliveConnection) {
  constexpr int clients = 16;
  std::atomic<bool> stop{false};
  std::vector<client_tally> tallies(clients);
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back(keep_alive_client, server_.port(), std::cref(stop), std::ref(tallies[i]));
  }
  std::this_thread::sleep_for(300ms);
  server_.signal(SIGTERM);
  const int code = server_.wait(10s);
  stop = true;
  for (auto& t : threads) t.join();

  EXPECT_EQ(code, 0) << server_.log();
  int answered = 0;
  int with_close = 0;
  for (int i = 0; i < clients; ++i) {
    SCOPED_TRACE("client " + std::to_string(i));
    EXPECT_EQ(tallies[i].lost_on_kept_alive, 0) << tallies[i].first_loss;
    answered += tallies[i].answered;
    with_close += tallies[i].answered_with_close;
  }
  // The clients were busy throughout, and the drain told them to close.
  EXPECT_GT(answered, clients * 10);
  EXPECT_GE(with_close, clients);
}

// Connection handling once the drain has begun, on one client's connection.
class DrainDelayConnections : public ::testing::Test {
 protected:
  server_process server_{{"--drain-delay", "2s"}};

  void start_draining() {
    server_.signal(SIGTERM);
    ASSERT_TRUE(server_.wait_for_log("draining", 2s)) << server_.log();
  }
};

TEST_F(DrainDelayConnections, KeptAliveConnectionIsAnsweredWithCloseThenClosed) {
  raw_client c(server_.port());
  c.send(request_bytes("GET", "/livez"));
  const auto before = c.read_response();
  ASSERT_TRUE(before);
  EXPECT_FALSE(says_close(*before));
  start_draining();
  c.send(request_bytes("GET", "/livez"));
  const auto during = c.read_response();
  ASSERT_TRUE(during) << "kept-alive connection not answered during the drain";
  EXPECT_EQ(during->result_int(), 200);
  EXPECT_TRUE(says_close(*during)) << "Connection: " << (*during)[bhttp::field::connection];
  EXPECT_TRUE(c.closed_by_peer(2s));
}

TEST_F(DrainDelayConnections, NewConnectionsAreStillServedWithCloseDuringTheDelay) {
  start_draining();
  for (int i = 0; i < 3; ++i) {
    SCOPED_TRACE(i);
    const auto res = request(server_.port(), "GET", "/livez");
    ASSERT_TRUE(res) << "no answer during the drain delay";
    EXPECT_EQ(res->result_int(), 200);
    EXPECT_TRUE(says_close(*res));
  }
}

TEST_F(DrainDelayConnections, PipelinedRequestsGetOneAnswerThenTheConnectionCloses) {
  start_draining();
  raw_client c(server_.port());
  c.send(request_bytes("GET", "/livez") + request_bytes("GET", "/livez"));
  const auto first = c.read_response();
  ASSERT_TRUE(first);
  EXPECT_TRUE(says_close(*first));
  // The second request is read and dropped while lingering: the client
  // sees the connection end, not a reset under the first answer.
  EXPECT_TRUE(c.closed_by_peer(3s));
}

}  // namespace
}  // namespace badges_health::test
