// Hostile HTTP/2 clients against the real binary: rapid reset, CONTINUATION
// floods, header blocks that decode past the limit, SETTINGS and PING
// floods from clients that never read, too many streams, a window that
// never opens, garbage after the preface, a preface dripped byte by byte
// and a GET with a body. Each attack runs while other connections probe
// GET /status over HTTP/1.1 and HTTP/2; each test shows those probes stay
// fast, the server's memory stays bounded, the attacker gets what the
// protocol says it should, and the server survives.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "support/h2_client.hpp"
#include "support/hostile_client.hpp"
#include "support/process_usage.hpp"
#include "support/raw_client.hpp"
#include "support/response_checks.hpp"
#include "support/server_process.hpp"

namespace badges_health::test {
namespace {
// Named, so that in a unity batch these helpers do not meet the ones of
// the same names in hostile_clients_test.cpp.
namespace hostile_http2 {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using h2::error_code;

double millis(steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// Under a sanitizer (sanitized_build) a probe gets five times the plain
// build's bound, and the RSS bounds are not asserted.
constexpr steady::duration probe_bound = sanitized_build ? 500ms : 100ms;

// Growth of the server's resident memory allowed during an attack: a few
// connections' buffers and libnghttp2's per-connection state, far below
// what queueing an attacker's frames or decoded headers would take.
constexpr std::size_t rss_bound_kib = 8 * 1024;

// The flags every server here runs with: small limits and timeouts keep
// each attack to a second or two.
std::vector<std::string> server_flags(std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--drain-delay",      "0",    "--threads",       "2",
                                "--max-header-bytes", "1024", "--write-timeout", "500ms",
                                "--request-timeout",  "2s",   "--idle-timeout",  "5s"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

void report_measure(const std::string& what, const std::string& value) {
  ::testing::Test::RecordProperty(what, value);
  std::printf("[ measured ] %s: %s\n", what.c_str(), value.c_str());
}

// --- Probes and memory while an attack runs ------------------------------

enum class probe_kind { http1, http2 };

struct probe_result {
  probe_kind kind;
  unsigned status;  // 0: no answer (refused, reset, closed, timed out)
  steady::duration took;
};

probe_result probe(unsigned short port, probe_kind kind) {
  const auto start = steady::now();
  unsigned status = 0;
  if (kind == probe_kind::http1) {
    try {
      if (const auto res = request(port, "GET", "/status")) status = res->result_int();
    } catch (const std::exception&) {
      // connect failed: no answer
    }
  } else if (const auto st = h2::fetch(port, "/status", 2s)) {
    status = st->status();
  }
  return {kind, status, steady::now() - start};
}

// While it lives: GET /status on fresh connections, HTTP/1.1 and HTTP/2 in
// turn, and the server's resident memory sampled between probes, on a
// thread of its own. finish() checks what it saw.
class attack_watch {
 public:
  explicit attack_watch(server_process& server)
      : server_(server),
        rss_before_(resident_kib(server.pid())),
        rss_peak_(rss_before_),
        thread_([this] { run(); }) {}
  ~attack_watch() { stop(); }
  attack_watch(const attack_watch&) = delete;
  attack_watch& operator=(const attack_watch&) = delete;

  /// Stops; every probe answered 200 within probe_bound (at least
  /// `at_least` of each kind), memory within rss_bound_kib of where it
  /// started, and the server still running and answering both protocols.
  ::testing::AssertionResult finish(std::size_t at_least = 3) {
    stop();
    const std::size_t rss_after = resident_kib(server_.pid());
    std::size_t count[2] = {0, 0};
    std::size_t failed = 0;
    std::size_t slow = 0;
    steady::duration slowest[2] = {steady::duration{0}, steady::duration{0}};
    for (const auto& p : results_) {
      const auto k = static_cast<std::size_t>(p.kind);
      ++count[k];
      failed += p.status != 200;
      slow += p.took >= probe_bound;
      slowest[k] = std::max(slowest[k], p.took);
    }
    report_measure("probes during the attack", std::to_string(count[0]) + " HTTP/1.1 (slowest " +
                                                   std::to_string(millis(slowest[0])) + " ms), " +
                                                   std::to_string(count[1]) + " HTTP/2 (slowest " +
                                                   std::to_string(millis(slowest[1])) + " ms)");
    report_measure("server RSS (KiB)", "before " + std::to_string(rss_before_) + ", peak " +
                                           std::to_string(rss_peak_) + ", after " +
                                           std::to_string(rss_after));
    auto failure = ::testing::AssertionFailure();
    bool ok = true;
    // A failed round ends the attack early, with fewer probes.
    if (!::testing::Test::HasFailure() && (count[0] < at_least || count[1] < at_least)) {
      ok = false;
      failure << "only " << count[0] << " HTTP/1.1 and " << count[1]
              << " HTTP/2 probes ran (wanted " << at_least << " of each); ";
    }
    if (failed != 0 || slow != 0) {
      ok = false;
      failure << failed << " probes not answered 200, " << slow << " slower than "
              << millis(probe_bound) << " ms; ";
    }
    if (!sanitized_build && rss_peak_ > rss_before_ + rss_bound_kib) {
      ok = false;
      failure << "resident memory grew by " << rss_peak_ - rss_before_ << " KiB; ";
    }
    if (!server_.running()) return ::testing::AssertionFailure() << "the server died";
    for (const auto kind : {probe_kind::http1, probe_kind::http2}) {
      if (const auto after = probe(server_.port(), kind); after.status != 200) {
        ok = false;
        failure << (kind == probe_kind::http1 ? "HTTP/1.1" : "HTTP/2")
                << " probe after the attack answered " << after.status << "; ";
      }
    }
    if (ok) return ::testing::AssertionSuccess();
    return failure;
  }

 private:
  void run() {
    for (std::size_t i = 0; !stop_.load(); ++i) {
      const auto kind = i % 2 == 0 ? probe_kind::http1 : probe_kind::http2;
      results_.push_back(probe(server_.port(), kind));
      try {
        rss_peak_ = std::max(rss_peak_, resident_kib(server_.pid()));
      } catch (const std::exception&) {
        // the server died; finish() says so
      }
      std::this_thread::sleep_for(20ms);  // pacing, not waiting for an event
    }
  }

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  server_process& server_;
  std::size_t rss_before_;
  std::size_t rss_peak_;  // touched by the thread until joined
  std::vector<probe_result> results_;
  std::atomic<bool> stop_{false};
  std::thread thread_;  // last: starts once the rest exists
};

// A client whose preface and SETTINGS have been answered by the server's
// SETTINGS (and acknowledged), so what it sends next meets the server's
// advertised limits.
std::unique_ptr<h2::client> settled_client(unsigned short port, h2::client::options opts = {}) {
  auto c = std::make_unique<h2::client>(port, std::move(opts));
  c->wait([&] { return c->settings_received() > 0; }, 2s);
  return c;
}

// GET /status on an open connection answers 200 (its HPACK state and
// stream bookkeeping survived whatever came before).
::testing::AssertionResult still_serves(h2::client& c) {
  const std::uint32_t id = c.get("/status");
  if (id == 0) return ::testing::AssertionFailure() << "the connection is closed";
  const auto* st = c.wait_for_stream(id, 2s);
  if (st == nullptr || !st->ended || st->status() != 200) {
    return ::testing::AssertionFailure()
           << "GET /status on the same connection: "
           << (st == nullptr ? "no answer" : "status " + std::to_string(st->status()));
  }
  if (!c.violation().empty()) return ::testing::AssertionFailure() << c.violation();
  return ::testing::AssertionSuccess();
}

std::string describe(const std::optional<h2::goaway_info>& g) {
  if (!g) return "no GOAWAY";
  return "GOAWAY " + h2::to_string(g->code) + " (last stream " + std::to_string(g->last_stream_id) +
         ")";
}

// Runs `round` again and again, each time on fresh connections, until
// `duration` has passed (and at least once), so the probes meet the attack
// throughout; stops at the first round with a failure. The rounds run.
std::size_t repeat_for(steady::duration duration, const std::function<void()>& round) {
  const auto until = steady::now() + duration;
  std::size_t rounds = 0;
  do {
    round();
    ++rounds;
  } while (!::testing::Test::HasFailure() && steady::now() < until);
  return rounds;
}

// ---------------------------------------------------------------------------
// Rapid reset (CVE-2023-44487): streams opened and cancelled at once, in a
// loop, so the server starts work for each while the client never has more
// than one open. libnghttp2's reset rate limit (a bucket of 1,000, 33 more
// a second) ends each such connection with a GOAWAY carrying an error.

class Http2RapidReset : public ::testing::Test {
 protected:
  server_process server_{server_flags()};
};

TEST_F(Http2RapidReset, ResetLoopEndsInGoawayWhileProbesStayFast) {
  constexpr std::size_t batch = 100;
  constexpr std::uint32_t bucket = 1000;
  const std::string request = h2::request_headers("GET", "/status").bytes();
  std::size_t sent = 0;
  std::size_t with_goaway = 0;
  std::uint32_t most_processed = 0;
  steady::duration slowest_close{0};
  std::optional<h2::goaway_info> last_goaway;
  attack_watch watch(server_);
  const std::size_t rounds = repeat_for(1s, [&] {
    auto attacker = settled_client(server_.port());
    const auto start = steady::now();
    while (!attacker->goaway() && !attacker->closed() && steady::now() - start < 5s) {
      std::string bytes;
      for (std::size_t i = 0; i < batch; ++i) {
        const std::uint32_t id = attacker->next_stream_id();
        bytes += h2::headers_frame(id, request, h2::flags::end_headers | h2::flags::end_stream);
        bytes += h2::rst_stream_frame(id, error_code::cancel);
      }
      if (!attacker->send(bytes, 1s)) break;  // closed by the server
      sent += batch;
      attacker->pump();
    }
    ASSERT_TRUE(attacker->wait_closed(2s))
        << "the connection stayed open; " << describe(attacker->goaway());
    slowest_close = std::max(slowest_close, steady::now() - start);
    EXPECT_EQ(attacker->violation(), "");
    // The server closes with the attacker's frames unread, so the kernel
    // resets the connection, and the reset may overtake the GOAWAY.
    if (!attacker->goaway()) return;
    ++with_goaway;
    last_goaway = attacker->goaway();
    // libnghttp2 names the rate limit's GOAWAY INTERNAL_ERROR; other
    // servers say ENHANCE_YOUR_CALM. Either way not a graceful NO_ERROR.
    EXPECT_NE(attacker->goaway()->code, error_code::no_error);
    // The streams the server took on before it stopped: the bucket, plus
    // 33 a second, however many more the client sent meanwhile.
    const std::uint32_t processed = (attacker->goaway()->last_stream_id + 1) / 2;
    most_processed = std::max(most_processed, processed);
    EXPECT_LE(processed, bucket + bucket / 5) << "the reset rate limit let more streams through";
  });
  report_measure("rapid reset", std::to_string(rounds) + " connections, " + std::to_string(sent) +
                                    " streams sent and reset; " + std::to_string(with_goaway) +
                                    " saw " + describe(last_goaway) + ", after at most " +
                                    std::to_string(most_processed) +
                                    " streams; each closed within " +
                                    std::to_string(millis(slowest_close)) + " ms");
  EXPECT_GT(with_goaway, 0u) << "no connection saw a GOAWAY";
  EXPECT_TRUE(watch.finish());
}

// ---------------------------------------------------------------------------
// CONTINUATION flood (CVE-2024-28182): a header block that never ends. The
// server may hold only a few CONTINUATION frames per block and must not
// decode or buffer without bound; the connection is cut off.

struct continuation_case {
  std::string name;
  /// The HEADERS fragment, then what each CONTINUATION carries.
  std::string first;
  std::string each;
};

void PrintTo(const continuation_case& c, std::ostream* os) { *os << c.name; }

std::vector<continuation_case> continuation_cases() {
  const std::string request = h2::request_headers("GET", "/status").bytes();
  // A literal field whose value announces 60,000 bytes (below libnghttp2's
  // 64 KiB field limit): every CONTINUATION adds to one value whose end
  // never comes, so no field is ever complete.
  std::string long_value = request;
  long_value += std::string("\0\x05x-big\x7f", 8);  // new name "x-big", a long length
  for (std::size_t n = 60'000 - 127;; n /= 128) {
    if (n < 128) {
      long_value.push_back(static_cast<char>(n));
      break;
    }
    long_value.push_back(static_cast<char>((n % 128) + 128));
  }
  return {
      {"EmptyFragments", request, ""},
      {"SmallFields", request, h2::header_block().literal("x-c", "0123456789abcdef").bytes()},
      {"OneLongValue", long_value, std::string(1024, 'v')},
  };
}

class Http2ContinuationFlood : public ::testing::TestWithParam<continuation_case> {
 protected:
  server_process server_{server_flags()};
};

TEST_P(Http2ContinuationFlood, EndlessHeaderBlockIsCutOffWithoutGrowingMemory) {
  const auto& param = GetParam();
  constexpr std::size_t batch = 64;
  constexpr auto close_bound = 2s;
  std::string frames;
  for (std::size_t i = 0; i < batch; ++i) frames += h2::continuation_frame(1, param.each, false);
  std::size_t sent = 0;
  steady::duration slowest_close{0};
  std::optional<h2::goaway_info> last_goaway;
  attack_watch watch(server_);
  const std::size_t rounds = repeat_for(500ms, [&] {
    auto attacker = settled_client(server_.port());
    const auto start = steady::now();
    ASSERT_TRUE(attacker->send(
        h2::headers_frame(attacker->next_stream_id(), param.first, h2::flags::end_stream)));
    while (!attacker->closed() && steady::now() - start < close_bound) {
      if (!attacker->send(frames, 500ms)) break;  // closed by the server
      sent += batch;
      attacker->pump();
    }
    const bool closed = attacker->wait_closed(close_bound);
    slowest_close = std::max(slowest_close, steady::now() - start);
    last_goaway = attacker->goaway();
    ASSERT_TRUE(closed) << "an endless header block was not cut off";
    if (attacker->goaway()) {
      EXPECT_NE(attacker->goaway()->code, error_code::no_error);
    }
    const auto* st = attacker->stream(1);
    EXPECT_TRUE(st == nullptr || st->status() == 0) << "the endless request was answered";
    EXPECT_EQ(attacker->violation(), "");
  });
  report_measure("CONTINUATION flood", std::to_string(rounds) + " connections, " +
                                           std::to_string(sent) +
                                           " CONTINUATION frames sent; each closed within " +
                                           std::to_string(millis(slowest_close)) +
                                           " ms, the last with " + describe(last_goaway));
  EXPECT_LT(slowest_close, close_bound);
  EXPECT_TRUE(watch.finish());
}

INSTANTIATE_TEST_SUITE_P(, Http2ContinuationFlood, ::testing::ValuesIn(continuation_cases()),
                         [](const ::testing::TestParamInfo<continuation_case>& param) {
                           return param.param.name;
                         });

// ---------------------------------------------------------------------------
// Header blocks that decode past --max-header-bytes (1024 here; each field
// counts its name, value and 32 bytes, as RFC 7541 section 4.1 does). Just
// past it the request is answered 431 as over HTTP/1.1; far past it (four
// times) the stream is reset without decoding further for it. The
// connection stays usable: its HPACK state is kept in step either way.

class Http2HeaderLimit : public ::testing::Test {
 protected:
  server_process server_{server_flags()};
};

TEST_F(Http2HeaderLimit, BlockJustPastTheLimitIsAnswered431) {
  attack_watch watch(server_);
  repeat_for(300ms, [&] {
    auto c = settled_client(server_.port());
    const std::uint32_t id = c->open_stream(
        h2::request_headers("GET", "/status").literal("x-pad", std::string(1200, 'p')));
    const auto* st = c->wait_for_stream(id, 2s);
    ASSERT_NE(st, nullptr) << "no answer; " << describe(c->goaway());
    EXPECT_TRUE(st->ended);
    EXPECT_FALSE(st->reset.has_value());
    EXPECT_TRUE(is_error_response(h2::as_http_response(*st), 431, "HEADER_TOO_LARGE"));
    EXPECT_TRUE(still_serves(*c));
  });
  EXPECT_TRUE(watch.finish());
}

TEST_F(Http2HeaderLimit, BlockFarPastTheLimitResetsTheStream) {
  std::optional<error_code> code;
  attack_watch watch(server_);
  repeat_for(300ms, [&] {
    auto c = settled_client(server_.port());
    const std::uint32_t id = c->open_stream(
        h2::request_headers("GET", "/status").literal("x-pad", std::string(12'000, 'p')));
    const auto* st = c->wait_for_stream(id, 2s);
    ASSERT_NE(st, nullptr) << "no answer; " << describe(c->goaway());
    ASSERT_TRUE(st->reset.has_value()) << "answered " << st->status() << " instead of a reset";
    code = st->reset;
    EXPECT_EQ(st->status(), 0u);
    EXPECT_TRUE(still_serves(*c));
  });
  if (code) report_measure("reset with", h2::to_string(*code));
  EXPECT_TRUE(watch.finish());
}

// One 700-byte field goes into the dynamic table with a request the server
// answers; then each request references it thousands of times, one byte
// per reference: 2 KB on the wire that would decode to 1.4 MB, a hundred
// times per connection.
TEST_F(Http2HeaderLimit, DynamicTableReferencesPastTheLimitResetTheStream) {
  constexpr std::size_t references = 2000;
  constexpr std::size_t requests = 100;
  std::string amplified = h2::request_headers("GET", "/status").bytes();
  for (std::size_t i = 0; i < references; ++i) {
    amplified += h2::header_block().indexed(62).bytes();  // the x-amp field
  }
  std::size_t reset = 0;
  std::size_t answered = 0;
  attack_watch watch(server_);
  const std::size_t rounds = repeat_for(500ms, [&] {
    auto c = settled_client(server_.port());
    const std::uint32_t seed_id = c->open_stream(
        h2::request_headers("GET", "/status").literal_indexed("x-amp", std::string(700, 'a')));
    const auto* seeded = c->wait_for_stream(seed_id, 2s);
    ASSERT_NE(seeded, nullptr);
    ASSERT_EQ(seeded->status(), 200u) << "the request that fills the dynamic table";
    std::vector<std::uint32_t> ids;
    for (std::size_t r = 0; r < requests; ++r) {
      ids.push_back(c->open_stream(h2::header_block().raw(amplified)));
      ASSERT_NE(ids.back(), 0u) << "the connection closed after " << r << " requests; "
                                << describe(c->goaway());
      c->pump();
    }
    ASSERT_TRUE(c->wait(
        [&] {
          return std::all_of(ids.begin(), ids.end(), [&](std::uint32_t id) {
            const auto* st = c->stream(id);
            return st != nullptr && st->done();
          });
        },
        5s))
        << "not every amplified request was answered or reset; " << describe(c->goaway());
    for (const std::uint32_t id : ids) {
      const auto* st = c->stream(id);
      reset += st->reset.has_value();
      answered += st->status() != 0;
    }
    EXPECT_TRUE(still_serves(*c));
  });
  report_measure("amplified header blocks",
                 std::to_string(rounds * requests) + " requests of " + std::to_string(references) +
                     " references each: " + std::to_string(reset) + " reset, " +
                     std::to_string(answered) + " answered");
  EXPECT_EQ(reset, rounds * requests);
  EXPECT_EQ(answered, 0u);
  EXPECT_TRUE(watch.finish());
}

// ---------------------------------------------------------------------------
// SETTINGS and PING floods from a client that never reads: every frame asks
// for an acknowledgement, which the server must not queue without bound.
// It stops reading a client that does not take its writes and closes it at
// the write timeout (500 ms here), or sooner on libnghttp2's own limit of
// queued acknowledgements.

struct flood_case {
  std::string name;
  std::string frame;
};

void PrintTo(const flood_case& c, std::ostream* os) { *os << c.name; }

class Http2AckFlood : public ::testing::TestWithParam<flood_case> {
 protected:
  server_process server_{server_flags()};
};

TEST_P(Http2AckFlood, ClientThatNeverReadsIsClosedWithoutGrowingMemory) {
  constexpr auto close_bound = 3s;
  std::string burst;
  while (burst.size() < 64 * 1024) burst += GetParam().frame;
  std::size_t sent = 0;
  steady::duration slowest_close{0};
  attack_watch watch(server_);
  const std::size_t rounds = repeat_for(300ms, [&] {
    h2::client attacker(server_.port(), {.ack_settings = false, .receive_buffer = 4096});
    plain_connection& conn = attacker.socket();
    const auto start = steady::now();
    std::size_t offset = 0;
    bool closed = false;
    while (!closed && steady::now() - start < close_bound) {
      const auto n = conn.send_some(std::string_view(burst).substr(offset));
      if (!n) {
        closed = true;  // reset by the server
        break;
      }
      sent += *n;
      offset = (offset + *n) % burst.size();
      if (*n > 0) continue;
      // The server has stopped reading: wait for room or for its close.
      pollfd pfd{conn.fd(), POLLOUT | POLLRDHUP, 0};
      ::poll(&pfd, 1, 50);
      closed = (pfd.revents & (POLLERR | POLLHUP | POLLRDHUP)) != 0;
    }
    slowest_close = std::max(slowest_close, steady::now() - start);
    EXPECT_TRUE(closed) << "a client that never reads was not cut off";
  });
  report_measure("flood", std::to_string(rounds) + " connections sent " +
                              std::to_string(sent >> 10) + " KiB unread; each closed within " +
                              std::to_string(millis(slowest_close)) + " ms");
  EXPECT_LT(slowest_close, close_bound);
  EXPECT_TRUE(watch.finish());
}

INSTANTIATE_TEST_SUITE_P(
    , Http2AckFlood,
    ::testing::Values(flood_case{"Settings", h2::settings_frame({{h2::setting::enable_push, 0}})},
                      flood_case{"EmptySettings", h2::settings_frame()},
                      flood_case{"Ping", h2::ping_frame(0x0123456789abcdef)}),
    [](const ::testing::TestParamInfo<flood_case>& param) { return param.param.name; });

// ---------------------------------------------------------------------------
// More streams than SETTINGS_MAX_CONCURRENT_STREAMS (10 here). Before the
// client has acknowledged the limit, the extra ones are refused with
// RST_STREAM REFUSED_STREAM (RFC 9113 section 5.1.2; REFUSED_STREAM tells the
// client it is safe to retry) and the ones within it are answered; after,
// the connection ends (see the test).

class Http2ConcurrentStreams : public ::testing::Test {
 protected:
  static constexpr std::size_t limit = 10;
  static constexpr std::size_t extra = 5;
  server_process server_{server_flags({"--max-concurrent-streams", std::to_string(limit)})};

  // Opens limit + extra streams whose requests are not finished (so they
  // stay open), then finishes the first `limit`: the extra ones must be
  // refused, the others answered.
  static void open_past_the_limit(h2::client& c) {
    const auto block = h2::request_headers("GET", "/status");
    std::vector<std::uint32_t> ids;
    std::string bytes;
    for (std::size_t i = 0; i < limit + extra; ++i) {
      ids.push_back(c.next_stream_id());
      bytes += h2::headers_frame(ids.back(), block.bytes(), h2::flags::end_headers);
    }
    ASSERT_TRUE(c.send(bytes));
    const auto refused = [&] {
      return std::all_of(ids.begin() + limit, ids.end(), [&](std::uint32_t id) {
        const auto* st = c.stream(id);
        return st != nullptr && st->reset.has_value();
      });
    };
    ASSERT_TRUE(c.wait(refused, 2s))
        << "the streams past the limit were not refused; " << describe(c.goaway())
        << (c.goaway() ? " \"" + c.goaway()->debug + "\"" : "");
    for (std::size_t i = limit; i < ids.size(); ++i) {
      SCOPED_TRACE(ids[i]);
      EXPECT_EQ(*c.stream(ids[i])->reset, error_code::refused_stream);
      EXPECT_EQ(c.stream(ids[i])->status(), 0u);
    }
    std::string ends;
    for (std::size_t i = 0; i < limit; ++i) ends += h2::data_frame(ids[i], "", true);
    ASSERT_TRUE(c.send(ends));
    for (std::size_t i = 0; i < limit; ++i) {
      SCOPED_TRACE(ids[i]);
      const auto* st = c.wait_for_stream(ids[i], 2s);
      ASSERT_NE(st, nullptr) << describe(c.goaway());
      EXPECT_TRUE(st->ended);
      EXPECT_FALSE(st->reset.has_value());
      EXPECT_EQ(st->status(), 200u);
    }
    EXPECT_FALSE(c.goaway().has_value()) << describe(c.goaway());
    EXPECT_EQ(c.violation(), "");
  }
};

// A client that has acknowledged the server's SETTINGS, so the limit is in
// force on both sides, and opens more streams anyway. libnghttp2 ends such
// a connection (GOAWAY PROTOCOL_ERROR) instead of refusing the streams one
// by one; RFC 9113 section 5.4.1 lets an endpoint treat a stream error as a
// connection error, and no client that honours the SETTINGS it
// acknowledged gets here. What must hold: nothing past the limit is
// answered, the GOAWAY says so, and the server goes on serving others.
TEST_F(Http2ConcurrentStreams, StreamsPastTheAcknowledgedLimitEndTheConnection) {
  attack_watch watch(server_);
  repeat_for(300ms, [&] {
    auto c = settled_client(server_.port());
    const auto block = h2::request_headers("GET", "/status");
    std::vector<std::uint32_t> ids;
    std::string bytes;
    for (std::size_t i = 0; i < limit + extra; ++i) {
      ids.push_back(c->next_stream_id());
      bytes += h2::headers_frame(ids.back(), block.bytes(), h2::flags::end_headers);
    }
    ASSERT_TRUE(c->send(bytes));
    ASSERT_TRUE(c->wait_closed(2s)) << "a client past its acknowledged limit was kept";
    ASSERT_TRUE(c->goaway().has_value()) << "closed without a GOAWAY";
    EXPECT_EQ(c->goaway()->code, error_code::protocol_error);
    EXPECT_EQ(c->goaway()->last_stream_id, ids[limit - 1]);
    EXPECT_NE(c->goaway()->debug.find("max concurrent streams"), std::string::npos)
        << c->goaway()->debug;
    for (std::size_t i = limit; i < ids.size(); ++i) {
      const auto* st = c->stream(ids[i]);
      EXPECT_TRUE(st == nullptr || st->status() == 0u) << "stream past the limit answered";
    }
  });
  EXPECT_TRUE(watch.finish());
}

// A client that opens its streams right behind its preface, before it has
// seen the server's SETTINGS (as a client pipelining its first requests
// does).
TEST_F(Http2ConcurrentStreams, StreamsPastTheLimitBeforeItIsAcknowledgedAreRefused) {
  attack_watch watch(server_);
  repeat_for(300ms, [&] {
    h2::client c(server_.port(), {.ack_settings = false});
    open_past_the_limit(c);
  });
  EXPECT_TRUE(watch.finish());
}

// ---------------------------------------------------------------------------
// A client that never opens its flow-control window
// (SETTINGS_INITIAL_WINDOW_SIZE 0): the response headers go out, the body
// never can, and the connection is closed at the write timeout (500 ms).

class Http2ClosedWindow : public ::testing::Test {
 protected:
  server_process server_{server_flags()};
};

TEST_F(Http2ClosedWindow, ClientThatNeverOpensItsWindowIsClosedAtTheWriteTimeout) {
  constexpr auto write_timeout = 500ms;
  auto c = settled_client(server_.port(), {.settings = {{h2::setting::initial_window_size, 0}}});
  attack_watch watch(server_);
  const auto start = steady::now();
  const std::uint32_t id = c->get("/status");
  ASSERT_NE(id, 0u);
  const bool closed = c->wait_closed(write_timeout * 6);
  const auto took = steady::now() - start;
  report_measure("zero window", std::string(closed ? "closed" : "still open") + " after " +
                                    std::to_string(millis(took)) + " ms; " + describe(c->goaway()));
  EXPECT_TRUE(closed) << "a stalled response kept its connection open";
  EXPECT_GE(took, write_timeout - 50ms) << "closed before the write timeout";
  const auto* st = c->stream(id);
  ASSERT_NE(st, nullptr) << "the response headers never came";
  EXPECT_EQ(st->status(), 200u);
  EXPECT_EQ(st->body, "") << "DATA sent into a closed window";
  EXPECT_FALSE(st->ended);
  EXPECT_EQ(c->violation(), "");
  EXPECT_TRUE(watch.finish());
}

// ---------------------------------------------------------------------------
// Connections whose window is closed, each opening 50 streams for the
// largest document the service has (GET /openapi.json, about 180 KB). The
// headers are answered and the bodies wait for a window that never opens;
// each body is one shared copy, so 20 such connections add less than 8 MB
// of resident memory, and 1,000 keep the whole process under 64 MB. Probes
// over both protocols stay fast meanwhile.

struct closed_window_case {
  std::string name;
  std::size_t connections;
  /// Bound on the growth of resident memory (KiB), or 0.
  std::size_t growth_bound_kib;
  /// Bound on the whole process's resident memory (KiB), or 0.
  std::size_t total_bound_kib;
};

void PrintTo(const closed_window_case& c, std::ostream* os) { *os << c.name; }

class Http2ClosedWindowLargeBody : public ::testing::TestWithParam<closed_window_case> {
 protected:
  // A long write timeout keeps the attackers connected while memory is
  // sampled (the cut-off itself is the test above).
  server_process server_{server_flags(
      {"--write-timeout", "30s", "--request-timeout", "30s", "--max-connections", "4000"})};
};

TEST_P(Http2ClosedWindowLargeBody, StreamsWaitingOnAClosedWindowHoldNoCopiesOfTheBody) {
  const closed_window_case& c = GetParam();
  constexpr std::size_t streams = 50;
  const std::size_t rss_before = resident_kib(server_.pid());
  std::atomic<bool> stop{false};
  std::vector<probe_result> probes;
  std::thread prober([&] {
    for (std::size_t i = 0; !stop.load(); ++i) {
      probes.push_back(probe(server_.port(), i % 2 == 0 ? probe_kind::http1 : probe_kind::http2));
      std::this_thread::sleep_for(20ms);  // pacing, not waiting for an event
    }
  });
  std::vector<std::unique_ptr<h2::client>> clients;
  for (std::size_t i = 0; i < c.connections; ++i) {
    clients.push_back(
        settled_client(server_.port(), {.settings = {{h2::setting::initial_window_size, 0}}}));
    for (std::size_t s = 0; s < streams; ++s) clients.back()->get("/openapi.json");
  }
  std::size_t answered = 0;
  std::size_t with_data = 0;
  for (auto& cl : clients) {
    cl->wait(
        [&] {
          std::size_t headers = 0;
          for (const auto& [id, st] : cl->streams()) headers += st.status() != 0;
          return headers == streams;
        },
        5s);
    for (const auto& [id, st] : cl->streams()) {
      answered += st.status() == 200;
      with_data += !st.body.empty();
    }
  }
  std::size_t rss_peak = std::max(rss_before, resident_kib(server_.pid()));
  const auto until = steady::now() + 1s;
  while (steady::now() < until) {
    rss_peak = std::max(rss_peak, resident_kib(server_.pid()));
    std::this_thread::sleep_for(50ms);  // sampling interval, not a wait for an event
  }
  stop = true;
  prober.join();
  std::size_t open = 0;
  for (auto& cl : clients) {
    cl->pump();
    open += !cl->closed();
  }
  steady::duration slowest{0};
  std::size_t probes_ok = 0;
  for (const auto& p : probes) {
    slowest = std::max(slowest, p.took);
    probes_ok += p.status == 200 && p.took < probe_bound;
  }
  report_measure("closed windows", std::to_string(c.connections) + " connections (" +
                                       std::to_string(open) + " still open), " +
                                       std::to_string(answered) + " streams answered 200");
  report_measure("closed-window RSS (KiB)",
                 "before " + std::to_string(rss_before) + ", peak " + std::to_string(rss_peak));
  report_measure("probes", std::to_string(probes.size()) + ", slowest " +
                               std::to_string(millis(slowest)) + " ms");
  EXPECT_EQ(answered, c.connections * streams) << "not every stream got its headers";
  EXPECT_EQ(with_data, 0u) << "DATA sent into a closed window";
  EXPECT_EQ(open, c.connections) << "the attackers were cut off before the memory was sampled";
  if (!sanitized_build) {
    if (c.growth_bound_kib != 0) {
      EXPECT_LT(rss_peak - rss_before, c.growth_bound_kib) << "the body was copied per stream";
    }
    if (c.total_bound_kib != 0) {
      EXPECT_LT(rss_peak, c.total_bound_kib);
    }
  }
  EXPECT_GE(probes.size(), 10u);
  EXPECT_EQ(probes_ok, probes.size()) << "a probe failed or took " << millis(slowest) << " ms";
  clients.clear();
  EXPECT_EQ(probe(server_.port(), probe_kind::http2).status, 200u);
}

INSTANTIATE_TEST_SUITE_P(Cases, Http2ClosedWindowLargeBody,
                         ::testing::Values(closed_window_case{"Twenty", 20, 8 * 1024, 0},
                                           closed_window_case{"Thousand", 1000, 0, 64 * 1024}),
                         [](const ::testing::TestParamInfo<closed_window_case>& param) {
                           return param.param.name;
                         });

// ---------------------------------------------------------------------------
// The preface followed by something that is not a valid HTTP/2 connection:
// a GOAWAY naming the error (or just a close), at once, and no answer.

struct broken_case {
  std::string name;
  std::string after_preface;
  /// The GOAWAY codes that fit the error; empty: a GOAWAY is optional.
  std::vector<error_code> codes;
};

void PrintTo(const broken_case& c, std::ostream* os) { *os << c.name; }

std::vector<broken_case> broken_cases() {
  using h2::frame_type;
  const std::string settings = h2::settings_frame();
  std::string noise;
  std::uint32_t x = 0x9e3779b9u;
  for (int i = 0; i < 512; ++i) {
    x = x * 1664525u + 1013904223u;
    noise.push_back(static_cast<char>(x >> 24));
  }
  h2::settings_list many;
  for (int i = 0; i < 40; ++i) many.emplace_back(h2::setting::enable_push, 0);
  const std::string request = h2::request_headers("GET", "/status").bytes();
  const std::vector<error_code> protocol{error_code::protocol_error};
  return {
      {"HttpOneRequest",
       "GET /status HTTP/1.1\r\nHost: localhost\r\n\r\n",
       {error_code::protocol_error, error_code::frame_size_error}},
      {"Noise", noise, {}},
      {"FirstFrameNotSettings", h2::ping_frame(1) + settings, protocol},
      {"OversizedFrame",
       settings + std::string("\xff\xff\xff\x00\x00\x00\x00\x00\x01", 9) + std::string(64, 'x'),
       {error_code::frame_size_error}},
      {"SettingsOnAStream", h2::frame(frame_type::settings, 0, 1, ""), protocol},
      {"SettingsOfBadLength",
       h2::frame(frame_type::settings, 0, 0, "12345"),
       {error_code::frame_size_error}},
      {"TooManySettingsEntries", h2::settings_frame(many), {error_code::enhance_your_calm}},
      {"DataOnStreamZero", settings + h2::data_frame(0, "x", true), protocol},
      {"HeadersOnAnEvenStream",
       settings + h2::headers_frame(2, request, h2::flags::end_headers | h2::flags::end_stream),
       protocol},
      {"UndecodableHeaderBlock",
       settings + h2::headers_frame(1, h2::header_block().indexed(300).bytes(),
                                    h2::flags::end_headers | h2::flags::end_stream),
       {error_code::compression_error}},
      {"ConnectionWindowOverflow",
       settings + h2::window_update_frame(0, 0x7fffffff) + h2::window_update_frame(0, 0x7fffffff),
       {error_code::flow_control_error}},
      {"ContinuationWithoutHeaders", settings + h2::continuation_frame(1, request, true), protocol},
  };
}

class Http2BrokenConnection : public ::testing::TestWithParam<broken_case> {
 protected:
  server_process server_{server_flags()};
};

TEST_P(Http2BrokenConnection, IsEndedWithGoawayAndOthersAreUnaffected) {
  const auto& param = GetParam();
  std::optional<h2::goaway_info> last_goaway;
  attack_watch watch(server_);
  repeat_for(300ms, [&] {
    h2::client c(server_.port(), {.preface = false, .ack_settings = false});
    ASSERT_TRUE(c.send(std::string(h2::preface) + param.after_preface));
    ASSERT_TRUE(c.wait_closed(2s)) << "the connection stayed open; " << describe(c.goaway());
    last_goaway = c.goaway();
    if (!param.codes.empty()) {
      ASSERT_TRUE(c.goaway().has_value()) << "closed without a GOAWAY";
      EXPECT_NE(std::find(param.codes.begin(), param.codes.end(), c.goaway()->code),
                param.codes.end())
          << describe(c.goaway());
    } else if (c.goaway()) {
      EXPECT_NE(c.goaway()->code, error_code::no_error);
    }
    for (const auto& [id, st] : c.streams()) EXPECT_EQ(st.status(), 0u) << "stream " << id;
    EXPECT_EQ(c.violation(), "");
  });
  report_measure("ended with", describe(last_goaway));
  EXPECT_TRUE(watch.finish());
}

INSTANTIATE_TEST_SUITE_P(, Http2BrokenConnection, ::testing::ValuesIn(broken_cases()),
                         [](const ::testing::TestParamInfo<broken_case>& param) {
                           return param.param.name;
                         });

// ---------------------------------------------------------------------------
// The preface dripped one byte per segment: the server waits for all 24
// bytes before choosing a protocol, then speaks HTTP/2.

class Http2SplitPreface : public ::testing::Test {
 protected:
  server_process server_{server_flags()};
};

TEST_F(Http2SplitPreface, PrefaceSentByteByByteStillSpeaksHttp2) {
  attack_watch watch(server_);
  repeat_for(300ms, [&] {
    // Acknowledged by hand below: the client's first frame must be its own
    // SETTINGS, and the server's may arrive before that is sent.
    h2::client c(server_.port(), {.preface = false, .ack_settings = false});
    const int on = 1;
    ::setsockopt(c.socket().fd(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    for (std::size_t i = 0; i < h2::preface.size(); ++i) {
      ASSERT_FALSE(c.pump()) << "closed after " << i << " bytes of the preface";
      ASSERT_EQ(c.frames_received(), 0u)
          << "the server spoke after " << i << " bytes of the preface";
      ASSERT_TRUE(c.send(h2::preface.substr(i, 1)));
      std::this_thread::sleep_for(2ms);  // pacing: one byte per segment
    }
    ASSERT_TRUE(c.send(h2::settings_frame()));
    ASSERT_TRUE(c.wait([&] { return c.settings_received() > 0; }, 2s)) << "no SETTINGS";
    ASSERT_TRUE(c.send(h2::settings_ack_frame()));
    EXPECT_TRUE(still_serves(c));
  });
  EXPECT_TRUE(watch.finish());
}

// ---------------------------------------------------------------------------
// A GET with a body, over HTTP/2 as over HTTP/1.1: 400 BODY_NOT_ALLOWED as
// the same JSON error; the connection goes on serving.

class Http2RequestBody : public ::testing::Test {
 protected:
  server_process server_{server_flags()};
};

TEST_F(Http2RequestBody, GetWithABodyIs400BodyNotAllowedAsOverHttp1) {
  const std::string body = R"({"x":1})";
  raw_client http1(server_.port());
  http1.send(request_bytes("GET", "/status", "Content-Length: 7\r\n") + body);
  const auto over_http1 = http1.read_response();
  ASSERT_TRUE(over_http1);
  ASSERT_TRUE(is_error_response(*over_http1, 400, "BODY_NOT_ALLOWED"));

  attack_watch watch(server_);
  repeat_for(300ms, [&] {
    auto c = settled_client(server_.port());
    const std::uint32_t id = c->open_stream(h2::request_headers("GET", "/status"), false);
    ASSERT_TRUE(c->send(h2::data_frame(id, body, true)));
    const auto* st = c->wait_for_stream(id, 2s);
    ASSERT_NE(st, nullptr) << describe(c->goaway());
    const auto res = h2::as_http_response(*st);
    EXPECT_TRUE(is_error_response(res, 400, "BODY_NOT_ALLOWED"));
    EXPECT_EQ(res.body(), over_http1->body()) << "not the error HTTP/1.1 gets";
    EXPECT_TRUE(still_serves(*c));
  });
  EXPECT_TRUE(watch.finish());
}

// A body that keeps coming: the answer goes out at its first DATA frame and
// the stream is then reset (NO_ERROR: stop sending), not read to its end.
TEST_F(Http2RequestBody, BodyThatKeepsComingIsAnsweredThenReset) {
  attack_watch watch(server_);
  repeat_for(300ms, [&] {
    auto c = settled_client(server_.port());
    const std::uint32_t id = c->open_stream(h2::request_headers("GET", "/status"), false);
    ASSERT_TRUE(c->send(h2::data_frame(id, std::string(1000, 'b'), false)));
    ASSERT_TRUE(c->wait(
        [&] {
          const auto* st = c->stream(id);
          return st != nullptr && st->ended && st->reset.has_value();
        },
        2s))
        << "no answer and reset; " << describe(c->goaway());
    const auto* st = c->stream(id);
    EXPECT_TRUE(is_error_response(h2::as_http_response(*st), 400, "BODY_NOT_ALLOWED"));
    EXPECT_EQ(*st->reset, error_code::no_error);
    EXPECT_TRUE(still_serves(*c));
  });
  EXPECT_TRUE(watch.finish());
}

}  // namespace hostile_http2
}  // namespace
}  // namespace badges_health::test
