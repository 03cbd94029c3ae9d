// GET /status/events over the wire: the first event with the state, a
// ttl check failing and recovering (pushed with PUT /checks/{name}), check
// events only for the bearer of the details token, HEAD, the keep-alive
// comment, SIGTERM's last `down` and the clean end, a client that stops
// reading, a thousand open streams; with raw sockets, curl, HTTP/2 frames
// by hand and nghttp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.hpp"
#include "support/h2_client.hpp"
#include "support/health_service.hpp"
#include "support/hostile_client.hpp"
#include "support/process_usage.hpp"
#include "support/raw_client.hpp"
#include "support/temp_dir.hpp"

// A namespace of its own: the unity build puts test files together.
namespace badges_health::test::event_stream_tests {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using steady = std::chrono::steady_clock;

constexpr const char* admin = "adm1n-t0ken";
constexpr const char* details = "d3tails-t0ken";
const std::string with_details = std::string("Authorization: Bearer ") + details + "\r\n";

void report_measure(const std::string& what, const std::string& value) {
  ::testing::Test::RecordProperty(what, value);
  std::printf("[ measured ] %s: %s\n", what.c_str(), value.c_str());
}

double millis(steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

json ttl_check(const std::string& name) {
  return {{"name", name}, {"type", "ttl"}, {"ttl", "60s"}};
}

// One event as a client sees it.
struct sse_event {
  std::string id;
  std::string kind;
  json data;
};

// A stream over HTTP/1.1 read the way a client must: the head, then the
// chunked body, split into events (comments counted, not returned).
class sse_client {
 public:
  explicit sse_client(unsigned short port, const std::string& extra_headers = "",
                      int receive_buffer = 0)
      : conn_(port, receive_buffer) {
    conn_.send_all("GET /status/events HTTP/1.1\r\nHost: x\r\n" + extra_headers + "\r\n", 2s);
  }

  plain_connection& connection() noexcept { return conn_; }

  /// The response head (status line and fields), once it has come.
  std::optional<std::string> head(std::chrono::milliseconds timeout = 5s) {
    const auto until = steady::now() + timeout;
    while (!decode_head()) {
      if (!fill(until)) return std::nullopt;
    }
    return head_;
  }

  /// The next event; nullopt when the stream ended or `timeout` passed.
  std::optional<sse_event> next(std::chrono::milliseconds timeout = 5s) {
    const auto until = steady::now() + timeout;
    for (;;) {
      if (decode_head()) {
        decode_chunks();
        if (auto e = take_event()) return e;
        if (last_chunk_) return std::nullopt;
      }
      if (!fill(until)) return std::nullopt;
    }
  }

  /// The next event of kind `kind` whose data holds `field` = `value`.
  std::optional<sse_event> next_where(const std::string& kind, const std::string& field,
                                      const json& value, std::chrono::milliseconds timeout = 5s) {
    const auto until = steady::now() + timeout;
    while (steady::now() < until) {
      auto e = next(std::chrono::duration_cast<std::chrono::milliseconds>(until - steady::now()));
      if (!e) return std::nullopt;
      seen_.push_back(*e);
      if (e->kind == kind && e->data.value(field, json()) == value) return e;
    }
    return std::nullopt;
  }

  /// True once the last chunk has come and the server closed.
  bool ended_cleanly(std::chrono::milliseconds timeout = 5s) {
    const auto until = steady::now() + timeout;
    for (;;) {
      if (decode_head()) {
        decode_chunks();
        while (auto e = take_event()) seen_.push_back(*e);
      }
      if (last_chunk_ && conn_.peer_closed()) return true;
      if (conn_.peer_closed()) return false;
      if (!fill(until) && !conn_.peer_closed()) return false;
    }
  }

  std::size_t comments() const noexcept { return comments_; }
  /// Events skipped by next_where, and read by ended_cleanly.
  const std::vector<sse_event>& seen() const noexcept { return seen_; }

 private:
  // Waits for more bytes until `until`; false when none came or the peer
  // closed.
  bool fill(steady::time_point until) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - steady::now());
    if (left.count() <= 0 || conn_.peer_closed()) return false;
    pollfd p{conn_.fd(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    const std::size_t before = conn_.received().size();
    const bool closed = conn_.read_available();
    return conn_.received().size() > before || !closed;
  }

  bool decode_head() {
    if (have_head_) return true;
    const auto end = conn_.received().find("\r\n\r\n");
    if (end == std::string::npos) return false;
    head_ = conn_.received().substr(0, end + 4);
    conn_.received().erase(0, end + 4);
    have_head_ = true;
    return true;
  }

  void decode_chunks() {
    std::string& raw = conn_.received();
    while (!last_chunk_) {
      const auto eol = raw.find("\r\n");
      if (eol == std::string::npos) return;
      const std::size_t size = std::stoul(raw.substr(0, eol), nullptr, 16);
      if (raw.size() < eol + 2 + size + 2) return;
      body_.append(raw, eol + 2, size);
      raw.erase(0, eol + 2 + size + 2);
      if (size == 0) last_chunk_ = true;
    }
  }

  std::optional<sse_event> take_event() {
    for (;;) {
      const auto end = body_.find("\n\n");
      if (end == std::string::npos) return std::nullopt;
      const std::string block = body_.substr(0, end + 1);
      body_.erase(0, end + 2);
      sse_event e;
      bool comment_only = true;
      for (std::size_t pos = 0; pos < block.size();) {
        const auto nl = block.find('\n', pos);
        const std::string line = block.substr(pos, nl - pos);
        pos = nl + 1;
        if (line.starts_with(":")) continue;
        comment_only = false;
        if (line.starts_with("id: ")) e.id = line.substr(4);
        if (line.starts_with("event: ")) e.kind = line.substr(7);
        if (line.starts_with("data: ")) e.data = json::parse(line.substr(6));
      }
      if (comment_only) {
        ++comments_;
        continue;
      }
      return e;
    }
  }

  plain_connection conn_;
  std::string head_;
  bool have_head_ = false;
  std::string body_;
  bool last_chunk_ = false;
  std::size_t comments_ = 0;
  std::vector<sse_event> seen_;
};

std::string report_request(const std::string& name, const std::string& status,
                           const std::string& output = "") {
  json report{{"status", status}};
  if (!output.empty()) report["output"] = output;
  const std::string body = report.dump();
  return "PUT /checks/" + name + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
         std::string(admin) +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

// Reports a ttl check's result and waits until verbose status shows it
// (the report is applied on the scheduler's thread).
void push(unsigned short port, const std::string& name, const std::string& status,
          const std::string& output = "") {
  raw_client c(port);
  c.send(report_request(name, status, output));
  const auto res = c.read_response();
  ASSERT_TRUE(res);
  ASSERT_EQ(res->result_int(), 204) << res->body();
  ASSERT_TRUE(eventually(
      [&] {
        const auto v = request(port, "GET", "/status?verbose=true", with_details);
        return v && json_at(json::parse(v->body(), nullptr, false),
                            "/checks/" + name + "/status") == status;
      },
      5s));
}

std::vector<std::string> service_args(std::vector<std::string> more = {}) {
  std::vector<std::string> args{"--admin-token", admin, "--details-token", details};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

class EventStream : public ::testing::Test {
 protected:
  void SetUp() override { push(svc_.port(), "processor", "pass"); }

  temp_dir dir_;
  health_service svc_{dir_, json::array({ttl_check("processor")}),
                      service_args({"--drain-delay", "300ms"})};
};

TEST_F(EventStream, FirstEventIsTheStateOnAChunkedEventStream) {
  sse_client s(svc_.port(), with_details);
  const auto head = s.head();
  ASSERT_TRUE(head);
  EXPECT_THAT(*head, HasSubstr("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(*head, HasSubstr("Content-Type: text/event-stream\r\n"));
  EXPECT_THAT(*head, HasSubstr("Transfer-Encoding: chunked\r\n"));
  EXPECT_THAT(*head, Not(HasSubstr("Content-Length")));
  const auto first = s.next();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->kind, "state");
  EXPECT_FALSE(first->id.empty());
  EXPECT_EQ(first->data["status"], "ok");
  EXPECT_EQ(json_at(first->data, "/checks/processor/status"), "pass") << first->data.dump();
  EXPECT_TRUE(first->data["timestamp"].is_string());
}

TEST_F(EventStream, ACheckFailingAndRecoveringIsSentAsItHappens) {
  sse_client s(svc_.port(), with_details);
  ASSERT_TRUE(s.next());  // the state

  push(svc_.port(), "processor", "fail", "queue lag 30s");
  const auto down = s.next_where("status", "to", "down");
  ASSERT_TRUE(down);
  EXPECT_EQ(down->data["from"], "ok");
  EXPECT_EQ(down->data["status"], "down");
  EXPECT_THAT(down->data["reason"].get<std::string>(), HasSubstr("processor"));
  const auto failed = s.next_where("check", "to", "fail");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->data["check"], "processor");
  EXPECT_EQ(failed->data["from"], "pass");
  EXPECT_EQ(failed->data["status"], "down");
  EXPECT_EQ(failed->data["reason"], "queue lag 30s");
  EXPECT_TRUE(failed->data["timestamp"].is_string());
  EXPECT_GT(std::stoull(failed->id), std::stoull(down->id));

  push(svc_.port(), "processor", "pass");
  const auto ok = s.next_where("status", "to", "ok");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->data["from"], "down");
  const auto passed = s.next_where("check", "to", "pass");
  ASSERT_TRUE(passed);
  EXPECT_EQ(passed->data["from"], "fail");
  EXPECT_EQ(passed->data["status"], "ok");
}

// PUT /maintenance with curl; the answer's status code, or 0.
int maintenance_call(unsigned short port, const std::string& method, const std::string& body = "") {
  std::vector<std::string> argv{
      "curl",         "-s", "-o",   "/dev/null", "-w",
      "%{http_code}", "-X", method, "-H",        std::string("Authorization: Bearer ") + admin};
  if (!body.empty())
    argv.insert(argv.end(), {"-H", "Content-Type: application/json", "--data", body});
  argv.push_back("http://127.0.0.1:" + std::to_string(port) + "/maintenance");
  return std::atoi(run_program(argv).out.c_str());
}

TEST_F(EventStream, AMaintenanceWindowItsReplacementAndItsEndAreSent) {
  sse_client anonymous(svc_.port());
  ASSERT_TRUE(anonymous.next());  // the state

  ASSERT_EQ(maintenance_call(svc_.port(), "PUT", R"({"reason":"db migration","for":"30m"})"), 200);
  const auto in = anonymous.next_where("status", "to", "down");
  ASSERT_TRUE(in);
  EXPECT_EQ(in->data["from"], "ok");
  const auto reason = in->data["reason"].get<std::string>();
  EXPECT_THAT(reason, HasSubstr("in maintenance until "));
  // The operator's words are for those who may see details.
  EXPECT_THAT(reason, Not(HasSubstr("db migration")));

  // A second PUT moves the end: a new status event, still down.
  ASSERT_EQ(maintenance_call(svc_.port(), "PUT", R"({"reason":"longer","for":"1h"})"), 200);
  const auto moved = anonymous.next_where("status", "to", "down");
  ASSERT_TRUE(moved);
  EXPECT_EQ(moved->data["from"], "down");
  EXPECT_NE(moved->data["reason"], in->data["reason"]);

  ASSERT_EQ(maintenance_call(svc_.port(), "DELETE"), 204);
  const auto out = anonymous.next_where("status", "to", "ok");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->data["from"], "down");
  EXPECT_EQ(out->data["reason"], "every check passes");
}

TEST_F(EventStream, CheckEventsNeedTheDetailsToken) {
  sse_client anonymous(svc_.port());
  const auto state = anonymous.next();
  ASSERT_TRUE(state);
  EXPECT_EQ(state->kind, "state");
  EXPECT_FALSE(state->data.contains("checks")) << state->data.dump();

  push(svc_.port(), "processor", "fail", "secret-ish reason");
  push(svc_.port(), "processor", "pass");
  ASSERT_TRUE(anonymous.next_where("status", "to", "down"));
  ASSERT_TRUE(anonymous.next_where("status", "to", "ok"));
  for (const auto& e : anonymous.seen()) {
    EXPECT_NE(e.kind, "check") << "a check event without the token: " << e.data.dump();
  }

  const auto wrong =
      request(svc_.port(), "GET", "/status/events", "Authorization: Bearer nope\r\n");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->result_int(), 401);
  EXPECT_EQ(json::parse(wrong->body())["code"], "UNAUTHORIZED");
}

TEST_F(EventStream, HeadAnswersTheHeadersOnlyAndTheConnectionGoesOn) {
  raw_client c(svc_.port());
  c.send("HEAD /status/events HTTP/1.1\r\nHost: x\r\n\r\nGET /livez HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto head = c.read_response(true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->result_int(), 200);
  EXPECT_EQ((*head)[boost::beast::http::field::content_type], "text/event-stream");
  const auto next = c.read_response();
  ASSERT_TRUE(next) << "the connection did not go on after HEAD";
  EXPECT_EQ(next->result_int(), 200);
}

TEST_F(EventStream, AQuietStreamGetsAKeepAliveComment) {
  sse_client s(svc_.port());
  ASSERT_TRUE(s.next());
  // The comment is due at most 15 s after the stream went quiet; nothing
  // else is sent meanwhile.
  EXPECT_FALSE(s.next(16s));
  EXPECT_GE(s.comments(), 1u);
}

TEST_F(EventStream, SigtermSendsALastDownEventThenTheStreamEndsCleanly) {
  sse_client s(svc_.port(), with_details);
  ASSERT_TRUE(s.next());
  svc_.process().signal(SIGTERM);
  const auto down = s.next_where("status", "to", "down");
  ASSERT_TRUE(down);
  EXPECT_EQ(down->data["from"], "ok");
  EXPECT_THAT(down->data["reason"].get<std::string>(), HasSubstr("draining"));
  EXPECT_TRUE(s.ended_cleanly()) << "no last chunk, or the connection stayed open";
  EXPECT_EQ(svc_.process().wait(10s), 0);
}

TEST_F(EventStream, CurlShowsTheEventsLiveAndEndsCleanlyAtTheDrain) {
  child_process curl({"curl", "-N", "-s", "-H", std::string("Authorization: Bearer ") + details,
                      "http://127.0.0.1:" + std::to_string(svc_.port()) + "/status/events"});
  const auto wait_line = [&curl](const std::string& needle) {
    const auto until = steady::now() + 5s;
    while (steady::now() < until) {
      const auto line = curl.read_line(500ms);
      if (line && line->find(needle) != std::string::npos) return true;
    }
    return false;
  };
  ASSERT_TRUE(wait_line("event: state"));
  push(svc_.port(), "processor", "fail", "queue lag 30s");
  EXPECT_TRUE(wait_line(R"("check":"processor","from":"pass","to":"fail")"));
  push(svc_.port(), "processor", "pass");
  EXPECT_TRUE(wait_line(R"("check":"processor","from":"fail","to":"pass")"));
  svc_.process().signal(SIGTERM);
  EXPECT_TRUE(wait_line("draining"));
  // curl exits 0 only when the chunked body ended properly.
  EXPECT_EQ(curl.wait(10s), 0) << curl.errors();
}

// A stream is exempt from the idle timeout: nothing to send for longer
// than it, and the next change still arrives on the same connection.
TEST(EventStreamTimeouts, AQuietStreamOutlivesTheIdleTimeout) {
  temp_dir dir;
  health_service svc{dir, json::array({ttl_check("processor")}),
                     service_args({"--idle-timeout", "1s"})};
  push(svc.port(), "processor", "pass");
  sse_client s(svc.port());
  ASSERT_TRUE(s.next());  // the state
  // An ordinary keep-alive connection is closed at the idle timeout...
  raw_client idle(svc.port());
  idle.send("GET /livez HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(idle.read_response());
  EXPECT_TRUE(idle.read_until_close(5s).closed);
  // ...the stream, quiet for as long, is not.
  push(svc.port(), "processor", "fail", "down now");
  const auto down = s.next_where("status", "to", "down");
  ASSERT_TRUE(down);
  EXPECT_EQ(down->data["from"], "ok");
}

// Streams are connections: past --max-connections a new one is refused
// while the streams stay open.
TEST(EventStreamLimits, StreamsCountTowardTheConnectionCap) {
  temp_dir dir;
  health_service svc{dir, json::array({ttl_check("processor")}),
                     service_args({"--max-connections", "2"})};
  push(svc.port(), "processor", "pass");
  sse_client a(svc.port());
  sse_client b(svc.port());
  ASSERT_TRUE(a.next());
  ASSERT_TRUE(b.next());
  // The refusal is written as soon as the connection is accepted.
  const auto extra = try_connect(svc.port());
  ASSERT_TRUE(extra);
  const auto refused = extra->read_response();
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result_int(), 503);
  EXPECT_EQ(json::parse(refused->body())["code"], "TOO_MANY_CONNECTIONS");
  EXPECT_TRUE(extra->read_until_close().closed);
}

// ---------------------------------------------------------------------------
// A client that stops reading: the stream's writes stall, the write timeout
// closes it, and the server holds no more than a batch for it meanwhile.

class EventStreamSlowReader : public ::testing::Test {
 protected:
  temp_dir dir_;
  health_service svc_{dir_, json::array({ttl_check("processor")}),
                      service_args({"--write-timeout", "1s", "--idle-timeout", "30s"})};
};

std::size_t open_connections(unsigned short port) {
  const auto res = request(port, "GET", "/metrics");
  if (!res) return 0;
  const std::string& body = res->body();
  const std::string key = "\nbadges_health_open_connections ";
  const auto at = body.find(key);
  return at == std::string::npos ? 0 : std::stoul(body.substr(at + key.size()));
}

TEST_F(EventStreamSlowReader, IsCutOffAtTheWriteTimeoutWithoutGrowingMemory) {
  constexpr std::size_t readers = 4;
  constexpr std::size_t rss_bound_kib = 16 * 1024;
  push(svc_.port(), "processor", "pass");
  const std::size_t rss_before = resident_kib(svc_.process().pid());
  std::vector<sse_client> streams;
  for (std::size_t i = 0; i < readers; ++i) {
    streams.emplace_back(svc_.port(), with_details, /*receive_buffer=*/4096);
  }
  ASSERT_TRUE(eventually([&] { return open_connections(svc_.port()) == readers + 1; }, 5s));

  // Events of 3 KiB (the check's reason) until the streams' socket buffers
  // are full many times over; nobody reads them.
  raw_client pusher(svc_.port());
  const std::string reason(3000, 'x');
  std::size_t rss_peak = rss_before;
  const auto start = steady::now();
  for (int i = 0; i < 400; ++i) {
    pusher.send(
        report_request("processor", i % 2 == 0 ? "fail" : "warn", reason + std::to_string(i)));
    const auto res = pusher.read_response();
    ASSERT_TRUE(res);
    ASSERT_EQ(res->result_int(), 204);
    if (i % 100 == 0) rss_peak = std::max(rss_peak, resident_kib(svc_.process().pid()));
    // Each report logs a line with its 3 KiB reason: the log pipe is read
    // so that it never fills and stalls the server's checks.
    if (i % 8 == 0) svc_.process().log();
  }
  // Only the pusher's connection (and the metrics request's own) is left.
  const bool cut_off = eventually([&] { return open_connections(svc_.port()) == 2; }, 10s, 100ms);
  const auto took = steady::now() - start;
  rss_peak = std::max(rss_peak, resident_kib(svc_.process().pid()));
  report_measure("event stream slow readers", std::to_string(readers) + " streams cut off after " +
                                                  std::to_string(millis(took)) + " ms");
  report_measure("event stream slow reader RSS (KiB)",
                 "before " + std::to_string(rss_before) + ", peak " + std::to_string(rss_peak));
  EXPECT_TRUE(cut_off) << open_connections(svc_.port()) << " connections still open";
  for (auto& s : streams) {
    EXPECT_FALSE(s.ended_cleanly(5s)) << "a cut-off stream must not look complete";
    EXPECT_TRUE(s.connection().peer_closed());
  }
  if (!sanitized_build) {
    EXPECT_LT(rss_peak - rss_before, rss_bound_kib) << "the server buffered what it could not send";
  }
}

// ---------------------------------------------------------------------------
// A thousand open streams: each gets its state and every change, the server
// spends no CPU on them while nothing changes, and probes on other
// connections are answered at once.

class EventStreamThousand : public ::testing::Test {
 protected:
  temp_dir dir_;
  health_service svc_{dir_, json::array({ttl_check("processor")}),
                      service_args({"--max-connections", "2000"})};
};

// Reads every stream until each has received `needle` (from where its
// `offset` left off); false when `timeout` passed first.
bool all_received(std::vector<plain_connection>& conns, std::vector<std::size_t>& offset,
                  const std::string& needle, std::chrono::milliseconds timeout) {
  const auto until = steady::now() + timeout;
  std::vector<bool> done(conns.size(), false);
  std::size_t left = conns.size();
  std::vector<pollfd> fds(conns.size());
  while (left > 0 && steady::now() < until) {
    for (std::size_t i = 0; i < conns.size(); ++i) {
      fds[i] = {done[i] ? -1 : conns[i].fd(), POLLIN, 0};
    }
    ::poll(fds.data(), fds.size(), 100);
    for (std::size_t i = 0; i < conns.size(); ++i) {
      if (done[i] || fds[i].revents == 0) continue;
      if (conns[i].read_available()) return false;  // closed
      const auto at = conns[i].received().find(needle, offset[i]);
      if (at != std::string::npos) {
        done[i] = true;
        offset[i] = at + needle.size();
        --left;
      }
    }
  }
  return left == 0;
}

TEST_F(EventStreamThousand, StayOpenCheaplyAndProbesStayFast) {
  constexpr std::size_t streams = 1000;
  push(svc_.port(), "processor", "pass");
  const pid_t pid = svc_.process().pid();
  const std::size_t rss_before = resident_kib(pid);
  std::vector<plain_connection> conns;
  conns.reserve(streams);
  for (std::size_t i = 0; i < streams; ++i) {
    conns.emplace_back(svc_.port());
    ASSERT_TRUE(conns.back().send_all("GET /status/events HTTP/1.1\r\nHost: x\r\n\r\n", 2s));
  }
  std::vector<std::size_t> offset(streams, 0);
  ASSERT_TRUE(all_received(conns, offset, "event: state", 20s)) << "a stream had no first event";
  const std::size_t rss_open = resident_kib(pid);

  // Nothing changes for a second: no CPU.
  const auto cpu_before = cpu_time(pid);
  std::this_thread::sleep_for(1s);  // measuring a quiet second, not waiting for an event
  const auto idle_cpu = cpu_time(pid) - cpu_before;

  steady::duration slowest{0};
  for (int i = 0; i < 20; ++i) {
    const auto t0 = steady::now();
    const auto res = request(svc_.port(), "GET", "/status");
    const auto took = steady::now() - t0;
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 200);
    slowest = std::max(slowest, took);
  }

  // A change reaches every stream.
  push(svc_.port(), "processor", "fail");
  const auto t0 = steady::now();
  EXPECT_TRUE(all_received(conns, offset, R"("to":"down")", 20s)) << "a stream missed the change";
  const auto fan_out = steady::now() - t0;

  report_measure("event streams RSS (KiB)", "before " + std::to_string(rss_before) + ", with " +
                                                std::to_string(streams) + " open " +
                                                std::to_string(rss_open));
  report_measure("event streams idle CPU (ms per second)",
                 std::to_string(idle_cpu.count() * 1000.0));
  report_measure("event streams probes", "20, slowest " + std::to_string(millis(slowest)) + " ms");
  report_measure("event streams fan-out", std::to_string(millis(fan_out)) + " ms to " +
                                              std::to_string(streams) + " streams");
  EXPECT_LT(slowest, 100ms);
  // Clock ticks are 10 ms: a quiet second costs at most a few of them.
  EXPECT_LT(idle_cpu, std::chrono::milliseconds(50));
  if (!sanitized_build) {
    EXPECT_LT(rss_open - rss_before, 64u * 1024u);
  }
}

// ---------------------------------------------------------------------------
// HTTP/2: the same route on a stream, DATA frames instead of chunks.

class EventStreamHttp2 : public EventStream {};

TEST_F(EventStreamHttp2, SendsTheStateEveryChangeAndEndsAtTheDrain) {
  h2::client c(svc_.port());
  auto block = h2::request_headers("GET", "/status/events");
  block.literal("authorization", std::string("Bearer ") + details);
  const auto id = c.open_stream(block);
  ASSERT_NE(id, 0u);
  const auto has = [&c, id](const std::string& needle) {
    return c.wait(
        [&] {
          const auto* st = c.stream(id);
          return st != nullptr && st->body.find(needle) != std::string::npos;
        },
        5s);
  };
  ASSERT_TRUE(has("event: state"));
  const auto* st = c.stream(id);
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(st->status(), 200u);
  EXPECT_EQ(h2::header_value(st->headers, "content-type"), "text/event-stream");
  EXPECT_EQ(h2::header_value(st->headers, "content-length"), "");
  EXPECT_FALSE(st->done());

  push(svc_.port(), "processor", "fail", "queue lag 30s");
  EXPECT_TRUE(has(R"("check":"processor","from":"pass","to":"fail")"));
  svc_.process().signal(SIGTERM);
  EXPECT_TRUE(has("draining"));
  const auto* ended = c.wait_for_stream(id, 5s);
  ASSERT_NE(ended, nullptr);
  EXPECT_TRUE(ended->ended) << "reset instead of END_STREAM";
  EXPECT_EQ(svc_.process().wait(10s), 0);
}

TEST_F(EventStreamHttp2, CheckEventsNeedTheDetailsToken) {
  h2::client c(svc_.port());
  const auto id = c.get("/status/events");
  ASSERT_TRUE(c.wait(
      [&] {
        const auto* st = c.stream(id);
        return st != nullptr && st->body.find("event: state") != std::string::npos;
      },
      5s));
  push(svc_.port(), "processor", "fail");
  ASSERT_TRUE(c.wait(
      [&] {
        const auto* st = c.stream(id);
        return st != nullptr && st->body.find(R"("to":"down")") != std::string::npos;
      },
      5s));
  EXPECT_THAT(c.stream(id)->body, Not(HasSubstr("event: check")));
  EXPECT_THAT(c.stream(id)->body, Not(HasSubstr("\"checks\"")));
}

TEST_F(EventStreamHttp2, NghttpShowsTheEventsAndEndsCleanlyAtTheDrain) {
  if (run_program({"sh", "-c", "command -v nghttp"}).exit_code != 0) {
    GTEST_SKIP() << "nghttp (Debian nghttp2-client) is not installed";
  }
  // stdbuf: nghttp's output to a pipe is otherwise held until it exits.
  child_process nghttp({"stdbuf", "-oL", "nghttp", "-H",
                        std::string("authorization: Bearer ") + details,
                        "http://127.0.0.1:" + std::to_string(svc_.port()) + "/status/events"});
  const auto wait_line = [&nghttp](const std::string& needle) {
    const auto until = steady::now() + 5s;
    while (steady::now() < until) {
      const auto line = nghttp.read_line(500ms);
      if (line && line->find(needle) != std::string::npos) return true;
    }
    return false;
  };
  ASSERT_TRUE(wait_line("event: state"));
  push(svc_.port(), "processor", "fail");
  EXPECT_TRUE(wait_line(R"("check":"processor","from":"pass","to":"fail")"));
  svc_.process().signal(SIGTERM);
  EXPECT_TRUE(wait_line("draining"));
  EXPECT_EQ(nghttp.wait(10s), 0) << nghttp.errors();
}

}  // namespace
}  // namespace badges_health::test::event_stream_tests
