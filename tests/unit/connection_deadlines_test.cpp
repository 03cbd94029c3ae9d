// The deadlines of a connection (the first request's budget from accept, a
// later request's, the idle keep-alive wait, a stalled write, lingering),
// each enforced exactly at its time on a clock the test moves: a worker's
// context, accept loop and sessions on an io_context the test runs itself,
// real sockets, and no sleeping. Also: an idle worker arms no timer.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <memory>
#include <string>

#include "badges_health/http/endpoint.hpp"
#include "badges_health/http/error_middleware.hpp"
#include "badges_health/http/request_metrics.hpp"
#include "badges_health/http/router.hpp"
#include "http/accept_loop.hpp"
#include "http/connection.hpp"
#include "http/detect_session.hpp"

namespace badges_health::http {
namespace {

using namespace std::chrono_literals;
using clock_type = connection::clock;
namespace asio = boost::asio;
using asio::ip::tcp;

// The clock every deadline here is read from; only the tests move it.
clock_type::time_point manual_now;
clock_type::time_point read_manual_clock() noexcept { return manual_now; }

class connection_deadlines : public ::testing::Test {
 protected:
  connection_deadlines() {
    // Far in the future of the real clock as well, so that the sweep's
    // own timer (on steady_clock) never fires during a test.
    manual_now = clock_type::now() + 1h;
    options_.request_timeout = 10s;
    options_.idle_timeout = 75s;
    options_.write_timeout = 20s;
    options_.linger_timeout = 30s;
    router_.add_get("/status", [](const request_view&) -> handler_result {
      response r;
      r.body = R"({"status":"ok"})";
      return r;
    });
    router_.add_get("/big", [this](const request_view&) -> handler_result {
      response r;
      r.shared_body = shared_bytes::of_static(big_);
      return r;
    });
    auto acceptor = listen_on(ioc_.get_executor(), {asio::ip::make_address("127.0.0.1"), 0}, {});
    EXPECT_TRUE(acceptor.has_value());
    port_ = acceptor->local_endpoint().port();
    loop_ = std::make_shared<accept_loop>(
        std::move(*acceptor), "test port",
        [this](accepted_fd fd) { serve_accepted(std::move(fd), tcp::v4(), ctx_); });
    loop_->start();
  }
  ~connection_deadlines() override {
    loop_->stop();
    ctx_.for_each_connection([](connection& c) { c.expire(); });
    run();
    ctx_.detach();
  }

  // Runs every handler that is ready, including socket events that have
  // arrived, until nothing is left to do now.
  void run() {
    for (int idle_rounds = 0; idle_rounds < 3;) {
      ioc_.restart();
      idle_rounds = ioc_.poll() == 0 ? idle_rounds + 1 : 0;
    }
  }

  // Moves the clock and enforces what is due.
  void advance(clock_type::duration by) {
    manual_now += by;
    ctx_.sweep(manual_now);
    run();
  }

  // A client socket, blocking, on 127.0.0.1:port_; the connection is
  // accepted and its first bytes (if any) read by the time this returns.
  int connect_client(const std::string& first_bytes, int receive_buffer = 0) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0) {
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    if (!first_bytes.empty()) send_bytes(fd, first_bytes);
    run();
    return fd;
  }

  void send_bytes(int fd, const std::string& bytes) {
    EXPECT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
    run();
  }

  // What the server has sent so far, without waiting; `closed` once it
  // has closed (end of stream or reset).
  struct received {
    std::string bytes;
    bool closed = false;
  };
  static received take(int fd) {
    received r;
    char buf[65536];
    for (;;) {
      const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        r.bytes.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      r.closed = n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
      return r;
    }
  }

  server_options options_;
  std::string big_ = std::string(4 << 20, 'x');
  router router_;
  error_middleware middleware_{router_};
  metrics_registry metrics_{1};
  std::atomic<std::size_t> open_{0};
  std::atomic<bool> draining_{false};
  asio::io_context ioc_{1};
  connection_context ctx_{ioc_,      options_, middleware_,       open_, metrics_.worker(0),
                          draining_, nullptr,  &read_manual_clock};
  std::shared_ptr<accept_loop> loop_;
  unsigned short port_ = 0;
};

TEST_F(connection_deadlines, an_idle_worker_arms_no_timer) {
  run();
  EXPECT_EQ(ctx_.connection_count(), 0u);
  EXPECT_EQ(ctx_.next_wake(), clock_type::time_point::max());
  // A prober's one-request connection is answered and closed without ever
  // becoming a connection that waits, so it arms nothing either.
  const int fd = connect_client("GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const auto r = take(fd);
  EXPECT_NE(r.bytes.find("200 OK"), std::string::npos);
  EXPECT_TRUE(r.closed);
  EXPECT_EQ(ctx_.next_wake(), clock_type::time_point::max());
  ::close(fd);
}

TEST_F(connection_deadlines, a_partial_first_request_is_closed_quietly_at_its_budget) {
  const auto accepted = manual_now;
  const int fd = connect_client("GET /sta");
  ASSERT_EQ(ctx_.connection_count(), 1u);
  // The sweep wakes no later than the deadline (rounded up to its tick).
  EXPECT_GE(ctx_.next_wake(), accepted + options_.request_timeout);
  EXPECT_LT(ctx_.next_wake(), accepted + options_.request_timeout + 1s);
  // More bytes do not extend the first request's budget: it counts from accept.
  advance(options_.request_timeout - 1ms);
  send_bytes(fd, "tus HTTP/1.1\r\n");
  EXPECT_FALSE(take(fd).closed);
  EXPECT_EQ(ctx_.connection_count(), 1u);
  advance(1ms);
  const auto r = take(fd);
  EXPECT_TRUE(r.closed) << "still open at the request deadline";
  EXPECT_EQ(r.bytes, "") << "expected a quiet close";
  EXPECT_EQ(ctx_.connection_count(), 0u);
  ::close(fd);
}

TEST_F(connection_deadlines, a_later_request_gets_its_own_budget_from_its_first_byte) {
  const int fd = connect_client("GET /status HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(take(fd).bytes.find("200 OK"), std::string::npos);
  advance(30s);  // idle, well within the idle timeout
  send_bytes(fd, "GET /sta");
  advance(options_.request_timeout - 1ms);
  EXPECT_FALSE(take(fd).closed);
  advance(1ms);
  EXPECT_TRUE(take(fd).closed) << "a dripped second request outlived its budget";
  ::close(fd);
}

TEST_F(connection_deadlines, an_idle_keep_alive_connection_is_closed_at_the_idle_timeout) {
  const int fd = connect_client("GET /status HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(take(fd).bytes.find("200 OK"), std::string::npos);
  advance(options_.idle_timeout - 1ms);
  EXPECT_FALSE(take(fd).closed);
  EXPECT_EQ(ctx_.connection_count(), 1u);
  advance(1ms);
  const auto r = take(fd);
  EXPECT_TRUE(r.closed) << "still open at the idle timeout";
  EXPECT_EQ(r.bytes, "");
  EXPECT_EQ(ctx_.connection_count(), 0u);
  ::close(fd);
}

TEST_F(connection_deadlines, a_write_that_stalls_is_cut_off_at_the_write_timeout) {
  // The client asks for 4 MiB and reads nothing: the write stalls.
  const int fd = connect_client("GET /big HTTP/1.1\r\nHost: x\r\n\r\n", 4096);
  ASSERT_EQ(ctx_.connection_count(), 1u);
  advance(options_.write_timeout - 1ms);
  EXPECT_EQ(ctx_.connection_count(), 1u) << "cut off before the write timeout";
  advance(1ms);
  EXPECT_EQ(ctx_.connection_count(), 0u) << "a stalled write outlived the write timeout";
  // What the client gets is cut short.
  std::string all;
  for (auto r = take(fd); !r.closed; r = take(fd)) all += r.bytes;
  EXPECT_LT(all.size(), big_.size());
  ::close(fd);
}

TEST_F(connection_deadlines, a_lingering_close_ends_at_the_linger_timeout) {
  // A request with a body is refused (400) and the connection closes
  // after it; the client keeps its end open, so the server lingers.
  const int fd =
      connect_client("POST /status HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  const auto r = take(fd);
  EXPECT_NE(r.bytes.find("400 Bad Request"), std::string::npos) << r.bytes;
  EXPECT_TRUE(r.closed) << "no FIN after the answer";  // our side is shut
  ASSERT_EQ(ctx_.connection_count(), 1u) << "not lingering";
  advance(options_.linger_timeout - 1ms);
  EXPECT_EQ(ctx_.connection_count(), 1u);
  advance(1ms);
  EXPECT_EQ(ctx_.connection_count(), 0u) << "lingered past the linger timeout";
  ::close(fd);
}

}  // namespace
}  // namespace badges_health::http
