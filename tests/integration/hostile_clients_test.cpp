// Hostile clients over real sockets: slowloris drips, clients that never
// read their responses, connection floods past the cap, a process out of
// file descriptors, malformed and smuggling-shaped requests, and a million
// pipelined probes. Each test shows the server cuts the attacker off (or
// refuses it), keeps answering probes meanwhile and afterwards, and does
// not grow its memory or burn CPU doing so.
#include <gtest/gtest.h>
#include <poll.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "support/health_service.hpp"
#include "support/hostile_client.hpp"
#include "support/process_usage.hpp"
#include "support/raw_client.hpp"
#include "support/response_checks.hpp"
#include "support/server_process.hpp"

namespace badges_health::test {
namespace {

using namespace std::chrono_literals;
using namespace std::string_literals;
using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

double millis(steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// 200 to 300 ms between two bytes of a slowloris drip, varied per connection.
milliseconds drip_gap(std::size_t connection) {
  return 200ms + 25ms * static_cast<int>(connection % 5);
}

// A measured value, printed for whoever reads the test log and recorded in
// the XML report.
void report_measure(const std::string& what, const std::string& value) {
  ::testing::Test::RecordProperty(what, value);
  std::printf("[ measured ] %s: %s\n", what.c_str(), value.c_str());
}

// One GET /status on a fresh connection, timed; status 0 when no answer
// came (refused, reset, closed or timed out).
struct probe_result {
  unsigned status;
  steady::duration took;
};

probe_result probe_status(unsigned short port) {
  const auto start = steady::now();
  unsigned status = 0;
  try {
    const auto res = request(port, "GET", "/status");
    if (res) status = res->result_int();
  } catch (const std::exception&) {
    // connect failed: no answer
  }
  return {status, steady::now() - start};
}

// Probes GET /status on fresh connections, one every `interval`, on its own
// thread, for as long as an attack runs.
class background_prober {
 public:
  background_prober(unsigned short port, milliseconds interval)
      : thread_([this, port, interval] {
          while (!stop_.load()) {
            results_.push_back(probe_status(port));
            std::this_thread::sleep_for(interval);  // pacing, not waiting for an event
          }
        }) {}
  ~background_prober() { finish(); }
  background_prober(const background_prober&) = delete;
  background_prober& operator=(const background_prober&) = delete;

  /// Stops probing; the results, in order.
  const std::vector<probe_result>& finish() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return results_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::vector<probe_result> results_;  // touched by the thread until joined
  std::thread thread_;                 // last: starts once the rest exists
};

// At least `at_least` probes, every one answered 200 within `bound`.
::testing::AssertionResult probes_all_fast(const std::vector<probe_result>& probes,
                                           std::size_t at_least, steady::duration bound) {
  std::size_t not_200 = 0;
  std::size_t slow = 0;
  steady::duration slowest{0};
  for (const auto& p : probes) {
    not_200 += p.status != 200;
    slow += p.took >= bound;
    slowest = std::max(slowest, p.took);
  }
  report_measure("probes", std::to_string(probes.size()) + ", slowest " +
                               std::to_string(millis(slowest)) + " ms");
  if (probes.size() >= at_least && not_200 == 0 && slow == 0) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << probes.size() << " probes (wanted at least " << at_least << "), " << not_200
         << " not answered 200, " << slow << " slower than " << millis(bound)
         << " ms; slowest took " << millis(slowest) << " ms";
}

// ---------------------------------------------------------------------------
// Slowloris: hundreds of connections sending a header byte every 200-300 ms
// and never finishing. The request timeout budgets the whole request, so
// each is closed one budget after it connected, however it drips.

class HostileSlowloris : public ::testing::Test {
 protected:
  server_process server_{
      {"--drain-delay", "0", "--threads", "2", "--request-timeout", "1s", "--idle-timeout", "30s"}};
};

TEST_F(HostileSlowloris, DrippingClientsAreClosedAtTheRequestTimeoutWhileProbesStayFast) {
  constexpr std::size_t attackers = 300;
  // For this long every connection the server closes is replaced by a new
  // one, so probes run against a steady 300 drippers.
  constexpr auto attack_for = 3s;
  constexpr auto close_bound = 5s;
  constexpr auto budget = 1s;
  const std::string header = "GET /status HTTP/1.1\r\nHost: localhost\r\nX-Slow: ";

  struct dripper {
    plain_connection conn;
    steady::time_point opened;
    steady::time_point next_drip;
    std::size_t sent = 0;
    bool done = false;
  };
  std::vector<dripper> drippers;
  std::size_t connect_failures = 0;
  std::size_t opened = 0;
  const auto open_one = [&] {
    try {
      const auto now = steady::now();
      plain_connection conn(server_.port());
      drippers.push_back({std::move(conn), now, now + drip_gap(opened)});
      ++opened;
    } catch (const std::system_error&) {
      ++connect_failures;
    }
  };

  std::size_t closed = 0;
  std::size_t answered = 0;
  steady::duration shortest = steady::duration::max();
  steady::duration longest{0};
  background_prober prober(server_.port(), 100ms);
  const auto start = steady::now();
  for (std::size_t i = 0; i < attackers; ++i) open_one();
  const auto attack_end = start + attack_for;
  const auto give_up = attack_end + close_bound + 1s;
  std::vector<pollfd> fds;
  while (!drippers.empty() && steady::now() < give_up) {
    fds.clear();
    auto wake = steady::now() + 50ms;
    for (const auto& d : drippers) {
      fds.push_back({d.conn.fd(), POLLIN | POLLRDHUP, 0});
      wake = std::min(wake, d.next_drip);
    }
    const auto wait = std::chrono::duration_cast<milliseconds>(wake - steady::now());
    ::poll(fds.data(), fds.size(), static_cast<int>(std::max<milliseconds::rep>(wait.count(), 0)));
    const auto now = steady::now();
    std::size_t replace = 0;
    for (std::size_t i = 0; i < drippers.size(); ++i) {
      auto& d = drippers[i];
      bool ended = false;
      if (fds[i].revents != 0) {
        ended = d.conn.read_available();
      } else if (now >= d.next_drip) {
        const char byte = d.sent < header.size() ? header[d.sent] : 'a';
        const auto sent = d.conn.send_some(std::string_view(&byte, 1));
        ended = !sent;  // reset by the server
        if (sent) d.sent += *sent;
        d.next_drip = now + drip_gap(i);
      }
      if (!ended) continue;
      d.done = true;
      ++closed;
      answered += !d.conn.received().empty();
      shortest = std::min(shortest, now - d.opened);
      longest = std::max(longest, now - d.opened);
      if (now < attack_end) ++replace;
    }
    std::erase_if(drippers, [](const dripper& d) { return d.done; });
    for (; replace > 0; --replace) open_one();
  }
  const auto& probes = prober.finish();

  report_measure("slowloris connections", std::to_string(opened) + " opened, " +
                                              std::to_string(closed) + " closed by the server");
  if (closed > 0) {
    report_measure("slowloris connection lifetime", std::to_string(millis(shortest)) + " to " +
                                                        std::to_string(millis(longest)) + " ms");
  }
  EXPECT_EQ(connect_failures, 0u);
  EXPECT_GE(opened, attackers);
  EXPECT_TRUE(drippers.empty()) << drippers.size() << " dripping connections still open "
                                << millis(close_bound) << " ms after the attack ended";
  EXPECT_EQ(closed, opened);
  EXPECT_EQ(answered, 0u) << "dripping connections are closed quietly, without a response";
  EXPECT_LT(longest, close_bound) << "a dripping connection outlived the request timeout";
  EXPECT_GE(shortest, budget - 50ms) << "a dripping connection was closed before its budget";
  EXPECT_TRUE(probes_all_fast(probes, 10, 500ms));
  EXPECT_EQ(probe_status(server_.port()).status, 200u) << "not serving after the attack";
}

// ---------------------------------------------------------------------------
// Slow readers: clients that pipeline megabytes of requests and never read
// a response. The server stops reading a connection while its answers are
// unwritten, so its memory stays flat; the write timeout drops it.

class HostileSlowReader : public ::testing::Test {
 protected:
  server_process server_{{"--drain-delay", "0", "--threads", "2", "--write-timeout", "1s",
                          "--request-timeout", "30s", "--idle-timeout", "30s"}};
};

TEST_F(HostileSlowReader, ClientsThatNeverReadAreCutOffWithoutGrowingMemory) {
  // Eight readers, so that a server buffering what they send would grow by
  // far more than the bound below.
  constexpr std::size_t readers = 8;
  constexpr std::size_t per_reader = 4u << 20;
  constexpr std::size_t rss_bound_kib = 16 * 1024;
  constexpr auto give_up = 20s;
  std::string payload;  // whole requests only, so resending it keeps the framing
  while (payload.size() < 64 * 1024) payload += request_bytes("GET", "/status");

  for (int i = 0; i < 20; ++i) ASSERT_EQ(probe_status(server_.port()).status, 200u);
  const std::size_t rss_before = resident_kib(server_.pid());

  struct reader {
    plain_connection conn;
    std::size_t sent = 0;
    steady::time_point last_progress;
    std::optional<steady::time_point> closed_at = std::nullopt;
  };
  std::vector<reader> rs;
  for (std::size_t i = 0; i < readers; ++i) {
    rs.push_back({plain_connection(server_.port(), /*receive_buffer=*/4096), 0, steady::now()});
  }
  background_prober prober(server_.port(), 100ms);
  std::size_t rss_peak = rss_before;
  const auto start = steady::now();
  auto next_sample = start;
  std::vector<pollfd> fds(readers);
  for (;;) {
    std::size_t connected = 0;
    for (std::size_t i = 0; i < readers; ++i) {
      const auto& r = rs[i];
      // Only ask for writability while there is more to send: a writable
      // socket with nothing to write would spin this loop.
      const short events = r.sent < per_reader ? (POLLOUT | POLLRDHUP) : POLLRDHUP;
      fds[i] = {r.closed_at ? -1 : r.conn.fd(), events, 0};
      connected += !r.closed_at;
    }
    if (connected == 0 || steady::now() - start > give_up) break;
    ::poll(fds.data(), fds.size(), 50);
    const auto now = steady::now();
    for (std::size_t i = 0; i < readers; ++i) {
      auto& r = rs[i];
      if (r.closed_at || fds[i].revents == 0) continue;
      if ((fds[i].revents & (POLLERR | POLLHUP | POLLRDHUP)) != 0) {
        r.closed_at = now;
        continue;
      }
      const auto sent = r.conn.send_some(std::string_view(payload).substr(r.sent % payload.size()));
      if (!sent) {
        r.closed_at = now;
      } else if (*sent > 0) {
        r.sent += *sent;
        r.last_progress = now;
      }
    }
    if (now >= next_sample) {
      rss_peak = std::max(rss_peak, resident_kib(server_.pid()));
      next_sample = now + 50ms;
    }
  }
  const auto& probes = prober.finish();
  const std::size_t rss_after = resident_kib(server_.pid());

  std::size_t closed = 0;
  std::size_t sent_total = 0;
  steady::duration slowest_close{0};
  // How long the kernel took no more of a reader's requests (the server had
  // stopped reading them) before the server closed it.
  steady::duration shortest_stall = steady::duration::max();
  for (const auto& r : rs) {
    closed += r.closed_at.has_value();
    sent_total += r.sent;
    if (!r.closed_at) continue;
    slowest_close = std::max(slowest_close, *r.closed_at - start);
    shortest_stall = std::min(shortest_stall, *r.closed_at - r.last_progress);
  }
  report_measure("slow readers",
                 std::to_string(readers) + " sent " + std::to_string(sent_total >> 10) +
                     " KiB of requests; " + std::to_string(closed) + " closed, the last after " +
                     std::to_string(millis(slowest_close)) + " ms, each stalled at least " +
                     std::to_string(closed > 0 ? millis(shortest_stall) : 0.0) +
                     " ms before its close");
  report_measure("slow reader RSS (KiB)", "before " + std::to_string(rss_before) + ", peak " +
                                              std::to_string(rss_peak) + ", after " +
                                              std::to_string(rss_after));
  EXPECT_EQ(closed, readers) << "clients that never read were still connected after "
                             << millis(give_up) << " ms";
  if (!sanitized_build) {
    EXPECT_LT(rss_peak - rss_before, rss_bound_kib) << "the server buffered what it could not send";
  }
  EXPECT_TRUE(probes_all_fast(probes, 5, 500ms));
  EXPECT_EQ(probe_status(server_.port()).status, 200u) << "not serving after the attack";
}

// ---------------------------------------------------------------------------
// A flood of connections past --max-connections: the ones over the cap are
// turned away (a 503 TOO_MANY_CONNECTIONS, or just a close), the ones under
// it, and keep-alive connections opened before, keep working.

class HostileConnectionFlood : public ::testing::Test {
 protected:
  static constexpr std::size_t cap = 50;
  server_process server_{{"--drain-delay", "0", "--threads", "2", "--max-connections", "50",
                          "--request-timeout", "30s", "--idle-timeout", "30s"}};
};

// The answer of a connection turned away at the cap: a complete 503
// TOO_MANY_CONNECTIONS, or nothing at all.
::testing::AssertionResult turned_away(const std::string& received) {
  if (received.empty()) return ::testing::AssertionSuccess();
  const auto parsed = parse_responses(received);
  if (parsed.responses.size() != 1 || !parsed.rest.empty()) {
    return ::testing::AssertionFailure() << "unexpected bytes: " << received;
  }
  return is_error_response(parsed.responses.front(), 503, "TOO_MANY_CONNECTIONS");
}

TEST_F(HostileConnectionFlood, ConnectionsPastTheCapAreTurnedAwayAndOpenOnesKeepWorking) {
  constexpr std::size_t held_count = 10;
  constexpr std::size_t flood_count = 300;
  constexpr std::size_t room = cap - held_count;

  std::vector<std::unique_ptr<raw_client>> held;
  const auto served_on_held = [&held] {
    for (std::size_t i = 0; i < held.size(); ++i) {
      SCOPED_TRACE(i);
      held[i]->send(request_bytes("GET", "/status"));
      const auto res = held[i]->read_response();
      ASSERT_TRUE(res) << "a keep-alive connection opened before the flood was not answered";
      ASSERT_EQ(res->result_int(), 200);
    }
  };
  for (std::size_t i = 0; i < held_count; ++i) {
    held.push_back(std::make_unique<raw_client>(server_.port()));
  }
  ASSERT_NO_FATAL_FAILURE(served_on_held());

  std::vector<plain_connection> flood;
  std::size_t refused_at_connect = 0;
  for (std::size_t i = 0; i < flood_count; ++i) {
    try {
      flood.emplace_back(server_.port());
    } catch (const std::system_error&) {
      ++refused_at_connect;
    }
  }
  // Nothing is sent on the flood connections, so a 503 the server writes
  // before closing cannot be lost to a reset.
  const auto closed_count = [&] {
    std::size_t n = refused_at_connect;
    for (auto& c : flood) n += c.read_available();
    return n;
  };
  eventually([&] { return closed_count() >= flood_count - room; }, 5s);
  std::size_t with_503 = 0;
  std::size_t silent = refused_at_connect;
  std::size_t still_open = 0;
  for (auto& c : flood) {
    if (!c.peer_closed()) {
      ++still_open;
      continue;
    }
    EXPECT_TRUE(turned_away(c.received()));
    ++(c.received().empty() ? silent : with_503);
  }
  report_measure("flood turned away", std::to_string(with_503) + " with a 503, " +
                                          std::to_string(silent) + " closed silently; " +
                                          std::to_string(still_open) + " accepted");
  EXPECT_EQ(with_503 + silent, flood_count - room) << "connections over the cap not turned away";
  EXPECT_EQ(still_open, room);

  // Flood connections that got in under the cap are served.
  std::size_t flood_served = 0;
  for (auto& c : flood) {
    if (c.peer_closed()) continue;
    c.send_all(request_bytes("GET", "/status"), 5s);
    const auto res = c.wait_for_responses(1, 5s);
    flood_served += res.size() == 1 && res.front().result_int() == 200;
  }
  EXPECT_EQ(flood_served, still_open) << "a connection under the cap was not served";
  ASSERT_NO_FATAL_FAILURE(served_on_held());

  // At the cap a new connection is turned away, not served.
  {
    plain_connection extra(server_.port());
    EXPECT_TRUE(extra.wait_closed(5s)) << "a connection over the cap was left open";
    EXPECT_TRUE(turned_away(extra.received()));
  }

  flood.clear();
  EXPECT_TRUE(eventually([&] { return probe_status(server_.port()).status == 200; }, 5s))
      << "no new connection served after the flood closed";
  ASSERT_NO_FATAL_FAILURE(served_on_held());
  EXPECT_TRUE(server_.running());
}

// ---------------------------------------------------------------------------
// Out of file descriptors: accept fails with EMFILE. The listener must back
// off rather than spin on the always-readable listening socket, keep
// serving the connections it has, and accept again once descriptors free.

class HostileDescriptorExhaustion : public ::testing::Test {
 protected:
  static constexpr rlim_t limit = 64;
  server_process server_{{"--drain-delay", "0", "--threads", "2", "--request-timeout", "30s",
                          "--idle-timeout", "30s"}};
};

TEST_F(HostileDescriptorExhaustion, AcceptBacksOffWithoutSpinningAndRecovers) {
  // Plain build only: with no descriptor free, UBSan's vptr check gives
  // false reports. To check a vtable it has not seen before it writes the
  // memory through a pipe (sanitizer_common's IsAccessibleMemoryRange), and
  // when pipe() fails it calls the vptr invalid and, with recovery off,
  // kills the process. That is what closed the recovery probe unanswered
  // in the sanitized runs: an error_code::message() call on the
  // end-of-stream path, since removed, met its category's vtable for the
  // first time while the server was out of descriptors (a report on stderr
  // said "object has invalid vptr"; the log_path file could not be opened).
  if (sanitized_build) GTEST_SKIP() << "descriptor limits; see the comment";
  constexpr auto hold = 2s;
  constexpr double cpu_share_bound = 0.30;
  const pid_t pid = server_.pid();
  // The server raises its soft limit to the hard one at start-up, so both
  // are lowered, on the running process (server_process execs the binary
  // directly; prlimit(2) needs no wrapper).
  limit_descriptors(pid, limit);
  const auto applied = descriptor_limit(pid);
  ASSERT_EQ(applied.rlim_cur, limit);
  ASSERT_EQ(applied.rlim_max, limit);
  const std::size_t at_start = open_descriptors(pid);
  ASSERT_LT(at_start + 16, limit) << "the server starts with too many descriptors for this test";

  std::vector<std::unique_ptr<raw_client>> held;
  for (int i = 0; i < 5; ++i) {
    held.push_back(std::make_unique<raw_client>(server_.port()));
    held.back()->send(request_bytes("GET", "/status"));
    const auto res = held.back()->read_response();
    ASSERT_TRUE(res);
    ASSERT_EQ(res->result_int(), 200);
  }

  // Twice the limit: the kernel completes every handshake into the listen
  // backlog, the server accepts until its descriptors run out.
  std::vector<plain_connection> flood;
  for (rlim_t i = 0; i < 2 * limit; ++i) flood.emplace_back(server_.port());
  ASSERT_TRUE(
      eventually([&] { return lowest_free_descriptor(pid) >= static_cast<int>(limit); }, 5s))
      << "the server never ran out of descriptors; it has " << open_descriptors(pid);

  const auto cpu_before = cpu_time(pid);
  const auto hold_start = steady::now();
  std::this_thread::sleep_for(hold);  // the measuring window; the server is left alone in it
  const std::chrono::duration<double> wall = steady::now() - hold_start;
  const double share = (cpu_time(pid) - cpu_before) / wall;
  report_measure("descriptors", std::to_string(at_start) + " open at start, limit " +
                                    std::to_string(limit) + ", lowest free during the hold " +
                                    std::to_string(lowest_free_descriptor(pid)));
  report_measure("CPU share while out of descriptors", std::to_string(share * 100) + " %");
  EXPECT_LT(share, cpu_share_bound) << "accept is spinning while out of descriptors";
  ASSERT_TRUE(server_.running());

  for (std::size_t i = 0; i < held.size(); ++i) {
    SCOPED_TRACE(i);
    held[i]->send(request_bytes("GET", "/status"));
    const auto res = held[i]->read_response();
    ASSERT_TRUE(res) << "an open connection was not served while out of descriptors";
    EXPECT_EQ(res->result_int(), 200);
  }

  // Recovery: once the flood closes, a new connection (queued in the
  // backlog until accept retries, at most 1 s later) is served.
  flood.clear();
  const auto released = steady::now();
  raw_client probe(server_.port());
  probe.send(request_bytes("GET", "/status", "Connection: close\r\n"));
  const auto res = probe.read_response(false, 5s);
  report_measure("recovery", std::to_string(millis(steady::now() - released)) +
                                 " ms from releasing the flood to a served probe");
  ASSERT_TRUE(res) << "not accepting again after descriptors were released";
  EXPECT_EQ(res->result_int(), 200);
  EXPECT_TRUE(server_.running());
}

// ---------------------------------------------------------------------------
// Malformed and smuggling-shaped requests, each on its own connection and
// followed in the same write by a well-formed request. A request the server
// refuses ends the connection: the follow-up is never answered (nothing the
// server did not understand can frame what follows). A request it answers
// normally leaves the connection in step: the follow-up is the next answer.

// Sent after every case; answered with the index (which names "endpoints").
const std::string follow_up = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";

enum class expect {
  refused,         // a 4xx JSON error
  served,          // a 200, as for a well-formed request
  closed_quietly,  // no response at all
};

struct hostile_request {
  std::string name;
  std::string bytes;
  expect outcome;
  std::vector<unsigned> statuses = {};  // refused: the acceptable statuses
  std::vector<std::string> codes = {};  // refused: the acceptable "code" values
  /// refused: the request was well framed, so the connection stays usable.
  bool keeps_connection = false;
  /// The client shuts down its sending side after `bytes` (no follow-up).
  bool half_close = false;
};

void PrintTo(const hostile_request& r, std::ostream* os) { *os << r.name; }

hostile_request refused(std::string name, std::string bytes, unsigned status,
                        std::vector<std::string> codes, bool keeps_connection = false) {
  return {std::move(name), std::move(bytes), expect::refused,
          {status},        std::move(codes), keeps_connection};
}

// Bytes, escaped where they are not printable, for failure messages.
std::string escaped(std::string_view bytes) {
  std::string out;
  for (const char c : bytes) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n\n";
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
      out += buf;
    } else {
      out += c;
    }
  }
  return out;
}

std::string client_hello() {
  // TLS record (handshake, record version 1.0, 59 bytes) holding a
  // ClientHello for TLS 1.2 with two cipher suites and SNI "a".
  const unsigned char bytes[] = {
      0x16, 0x03, 0x01, 0x00, 0x3b, 0x01, 0x00, 0x00, 0x37, 0x03, 0x03,  // headers, version
      0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
      0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
      0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,  // random
      0x00,                                                        // session id
      0x00, 0x04, 0x13, 0x01, 0xc0, 0x2f,                          // cipher suites
      0x01, 0x00,                                                  // compression: null
      0x00, 0x0a, 0x00, 0x00, 0x00, 0x06, 0x00,                    // extensions: server_name
      0x04, 0x00, 0x00, 0x01, 'a'};
  return std::string(reinterpret_cast<const char*>(bytes), sizeof bytes);
}

std::string many_small_fields(std::size_t count) {
  std::string out = "GET /status HTTP/1.1\r\nHost: localhost\r\n";
  for (std::size_t i = 0; i < count; ++i) out += "X-" + std::to_string(i) + ": v\r\n";
  return out + "\r\n";
}

const std::string get_status = "GET /status HTTP/1.1\r\nHost: localhost\r\n";

std::vector<hostile_request> hostile_requests() {
  const std::vector<std::string> body_codes = {"BODY_NOT_ALLOWED", "BAD_REQUEST"};
  const std::vector<std::string> bad_request = {"BAD_REQUEST"};
  std::vector<hostile_request> cases = {
      // Request smuggling shapes: whatever framing a proxy in front chose,
      // this server never reads a body, so it refuses them all.
      refused("ContentLengthWithChunked",
              get_status + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
              body_codes),
      refused("ChunkedWithContentLength",
              get_status + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 400,
              body_codes),
      refused("TwoDifferentContentLengths",
              get_status + "Content-Length: 0\r\nContent-Length: 5\r\n\r\nhello", 400, body_codes),
      refused("ContentLengthList", get_status + "Content-Length: 0, 5\r\n\r\nhello", 400,
              body_codes),
      refused("SignedContentLength", get_status + "Content-Length: +0\r\n\r\n", 400, body_codes),
      refused("TransferEncodingOnHttp10",
              "GET /status HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400,
              body_codes),
      refused("SpaceBeforeColonInTransferEncoding",
              get_status + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400, body_codes),
      refused("FoldedTransferEncoding",
              get_status + "Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", 400, body_codes),
      refused("PipelinedSmuggling",
              "GET /status HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: "
              "chunked\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\n\r\n",
              400, body_codes),
      // Obsolete line folding in an ordinary field: RFC 9112 section 5.2
      // lets a server either refuse it (400) or replace the fold with a
      // space; this one refuses it, since proxies disagree on unfolding.
      refused("ObsoleteLineFolding", get_status + "X-Folded: one\r\n two\r\n\r\n", 400,
              bad_request),
      refused("ObsoleteLineFoldingWithTab", get_status + "X-Folded: one\r\n\ttwo\r\n\r\n", 400,
              bad_request),
      refused("FoldBeforeAnyField", "GET /status HTTP/1.1\r\n folded\r\nHost: a\r\n\r\n", 400,
              bad_request),
      // Bare LF: RFC 9112 section 2.2 allows accepting it; this server's
      // parser refuses it, in the request line and in a field alike.
      refused("BareLfLineEndings", "GET /status HTTP/1.1\nHost: localhost\n\n", 400, bad_request),
      refused("BareLfAfterAField", get_status + "X-A: b\nX-B: c\r\n\r\n", 400, bad_request),
      refused("BareCrInAValue", get_status + "X-A: b\rc\r\n\r\n", 400, bad_request),
      refused("NulInAFieldName", get_status + "X-\x00"s + "A: b\r\n\r\n", 400, bad_request),
      refused("NulInAFieldValue", get_status + "X-A: b\x00"s + "c\r\n\r\n", 400, bad_request),
      refused("ControlByteInAFieldValue", get_status + "X-A: b\x01" + "c\r\n\r\n", 400,
              bad_request),
      refused("DelInAFieldValue", get_status + "X-A: b\x7f" + "c\r\n\r\n", 400, bad_request),
      refused("EscapeInAFieldName", get_status + "X\x1b" + "A: b\r\n\r\n", 400, bad_request),
      refused("FieldWithoutColon", get_status + "NoColonHere\r\n\r\n", 400, bad_request),
      refused("MethodWithParenthesis", "G(T /status HTTP/1.1\r\nHost: a\r\n\r\n", 400, bad_request),
      refused("MethodWithControlByte", "GET\x01 /status HTTP/1.1\r\nHost: a\r\n\r\n", 400,
              bad_request),
      refused("NulInTheTarget", "GET /status\x00"s + " HTTP/1.1\r\nHost: a\r\n\r\n", 400,
              bad_request),
      // RFC 9112 section 3.2.2: absolute-form must be accepted.
      {"AbsoluteFormTarget", "GET http://host/status HTTP/1.1\r\nHost: host\r\n\r\n",
       expect::served},
      // Authority-form is for CONNECT only; well framed, so the connection
      // stays in step after the 400.
      refused("AuthorityFormTarget", "GET host:80 HTTP/1.1\r\nHost: host\r\n\r\n", 400, bad_request,
              /*keeps_connection=*/true),
      refused("ThousandsOfSmallFields", many_small_fields(2000), 431, {"HEADER_TOO_LARGE"}),
      refused("RequestLineOverTheLimit",
              "GET /" + std::string(9000, 't') + " HTTP/1.1\r\nHost: a\r\n\r\n", 414,
              {"TARGET_TOO_LONG"}),
      {"MethodOverTheLimit",
       std::string(9000, 'G') + " /status HTTP/1.1\r\nHost: a\r\n\r\n",
       expect::refused,
       {414, 431},
       {"TARGET_TOO_LONG", "HEADER_TOO_LARGE"}},
      {"TruncatedThenClosed",
       get_status + "X-Part",
       expect::closed_quietly,
       {},
       {},
       false,
       /*half_close=*/true},
      // Not the HTTP/2 preface (which switches the connection to HTTP/2),
      // but its request line: an HTTP/1 request for version 2.0.
      refused("Http2PrefaceLookalike", "PRI * HTTP/2.0\r\nHost: a\r\n\r\n", 505,
              {"HTTP_VERSION_NOT_SUPPORTED"}),
      refused("TlsClientHello", client_hello(), 400, bad_request),
  };
  return cases;
}

// A refusal as `r` expects: one of its statuses, and the JSON error body
// with one of its codes.
::testing::AssertionResult is_refusal(const http_response& res, const hostile_request& r) {
  const auto& st = r.statuses;
  if (std::find(st.begin(), st.end(), res.result_int()) == st.end()) {
    return ::testing::AssertionFailure()
           << "status " << res.result_int() << "; body: " << escaped(res.body());
  }
  const auto body = json_body(res);
  const std::string code = body.is_object() && body.contains("code") && body["code"].is_string()
                               ? body["code"].get<std::string>()
                               : std::string();
  if (std::find(r.codes.begin(), r.codes.end(), code) == r.codes.end()) {
    return ::testing::AssertionFailure() << "unexpected error body: " << escaped(res.body());
  }
  return is_error_response(res, res.result_int(), code);
}

::testing::AssertionResult answers_follow_up(const http_response& res) {
  const auto body = json_body(res);
  if (res.result_int() == 200 && body.is_object() && body.contains("endpoints")) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure()
         << "the follow-up request got " << res.result_int() << " " << escaped(res.body());
}

// One server for the whole table, so that every case also shows the ones
// before it left nothing behind.
class HostileRequests : public ::testing::TestWithParam<hostile_request> {
 protected:
  static void SetUpTestSuite() {
    server_ = std::make_unique<server_process>(std::vector<std::string>{
        "--drain-delay", "0", "--threads", "2", "--request-timeout", "1s"});
  }
  static void TearDownTestSuite() { server_.reset(); }

  static std::unique_ptr<server_process> server_;
};

std::unique_ptr<server_process> HostileRequests::server_;

TEST_P(HostileRequests, AreAnsweredWithoutDesyncAndTheServerKeepsServing) {
  const auto& r = GetParam();
  ASSERT_TRUE(server_ && server_->running());
  const unsigned short port = server_->port();
  {
    plain_connection conn(port);
    // The server may stop reading (and close) before taking every byte;
    // what it answered is what counts.
    conn.send_all(r.half_close ? r.bytes : r.bytes + follow_up, 5s);
    if (r.half_close) conn.shutdown_send();
    ASSERT_TRUE(conn.wait_closed(5s)) << "connection still open 5 s later";
    const auto parsed = parse_responses(conn.received());
    EXPECT_FALSE(parsed.malformed) << "not HTTP: " << escaped(conn.received());
    EXPECT_EQ(parsed.rest, "") << "an incomplete response";
    const auto& got = parsed.responses;
    for (const auto& res : got) EXPECT_NE(res.result_int(), 404) << "a smuggled request answered";
    switch (r.outcome) {
      case expect::refused:
        ASSERT_FALSE(got.empty()) << "no response; received: " << escaped(conn.received());
        EXPECT_TRUE(is_refusal(got.front(), r));
        if (r.keeps_connection) {
          ASSERT_EQ(got.size(), 2u);
          EXPECT_TRUE(answers_follow_up(got[1]));
        } else {
          EXPECT_EQ(got.size(), 1u) << "bytes after a refused request were answered";
          EXPECT_FALSE(got.front().keep_alive()) << "a refusal must say Connection: close";
        }
        break;
      case expect::served:
        ASSERT_EQ(got.size(), 2u) << "received: " << escaped(conn.received());
        EXPECT_EQ(got.front().result_int(), 200);
        EXPECT_EQ(json_body(got.front()).value("status", ""), "ok");
        EXPECT_TRUE(answers_follow_up(got[1]));
        break;
      case expect::closed_quietly:
        EXPECT_EQ(conn.received(), "") << "expected a close without a response";
        break;
    }
  }
  EXPECT_TRUE(server_->running()) << "the server died";
  EXPECT_EQ(probe_status(port).status, 200u) << "a fresh GET /status after this request";
}

// No instantiation prefix, so the names start with the suite's: HostileRequests.*
INSTANTIATE_TEST_SUITE_P(, HostileRequests, ::testing::ValuesIn(hostile_requests()),
                         [](const ::testing::TestParamInfo<hostile_request>& param) {
                           return param.param.name;
                         });

// ---------------------------------------------------------------------------
// Clients that pipeline requests for the largest document the service has
// (GET /openapi.json, about 180 KB) and read nothing. The body is one
// shared copy, and a connection parses no further requests while its
// output is not draining, so what they make the server hold does not grow
// with the requests: 20 of them add less than 8 MB of resident memory, and
// 1,000 keep the whole process under 64 MB. Probes stay fast meanwhile.

struct large_body_case {
  std::string name;
  std::size_t connections;
  /// Bound on the growth of resident memory (KiB), or 0.
  std::size_t growth_bound_kib;
  /// Bound on the whole process's resident memory (KiB), or 0.
  std::size_t total_bound_kib;
};

void PrintTo(const large_body_case& c, std::ostream* os) { *os << c.name; }

class HostileLargeBodyPipeline : public ::testing::TestWithParam<large_body_case> {
 protected:
  // A long write timeout: the attackers stay connected while memory is
  // sampled (the timeout that cuts them off is tested above).
  server_process server_{{"--drain-delay", "0", "--threads", "2", "--write-timeout", "30s",
                          "--request-timeout", "30s", "--idle-timeout", "30s", "--max-connections",
                          "4000"}};
};

TEST_P(HostileLargeBodyPipeline, ClientsThatNeverReadHoldNoCopiesOfTheBody) {
  const large_body_case& c = GetParam();
  constexpr std::size_t pipelined = 200;
  std::string burst;
  for (std::size_t i = 0; i < pipelined; ++i) burst += request_bytes("GET", "/openapi.json");

  for (int i = 0; i < 20; ++i) ASSERT_EQ(probe_status(server_.port()).status, 200u);
  const std::size_t rss_before = resident_kib(server_.pid());
  background_prober prober(server_.port(), 20ms);
  std::vector<plain_connection> attackers;
  attackers.reserve(c.connections);
  for (std::size_t i = 0; i < c.connections; ++i) {
    attackers.emplace_back(server_.port(), /*receive_buffer=*/4096);
    ASSERT_TRUE(attackers.back().send_all(burst, 5s)) << "attacker " << i;
  }
  // The server answers until every attacker's socket is full, then waits;
  // sample its memory over a second and a half of that.
  std::size_t rss_peak = rss_before;
  const auto until = steady::now() + 1500ms;
  while (steady::now() < until) {
    rss_peak = std::max(rss_peak, resident_kib(server_.pid()));
    std::this_thread::sleep_for(50ms);  // sampling interval, not a wait for an event
  }
  const auto& probes = prober.finish();
  std::size_t open = 0;
  for (auto& a : attackers) open += !a.read_available();
  report_measure("large-body readers", std::to_string(c.connections) + " connections, " +
                                           std::to_string(open) + " still open, each sent " +
                                           std::to_string(pipelined) + " GET /openapi.json");
  report_measure("large-body RSS (KiB)",
                 "before " + std::to_string(rss_before) + ", peak " + std::to_string(rss_peak));
  EXPECT_EQ(open, c.connections) << "the attackers were cut off before the memory was sampled";
  if (!sanitized_build) {
    if (c.growth_bound_kib != 0) {
      EXPECT_LT(rss_peak - rss_before, c.growth_bound_kib) << "the body was copied per request";
    }
    if (c.total_bound_kib != 0) {
      EXPECT_LT(rss_peak, c.total_bound_kib);
    }
  }
  EXPECT_TRUE(probes_all_fast(probes, 20, sanitized_build ? 500ms : 100ms));
  attackers.clear();
  EXPECT_EQ(probe_status(server_.port()).status, 200u) << "not serving after the attack";
}

INSTANTIATE_TEST_SUITE_P(Cases, HostileLargeBodyPipeline,
                         ::testing::Values(large_body_case{"Twenty", 20, 8 * 1024, 0},
                                           large_body_case{"Thousand", 1000, 0, 64 * 1024}),
                         [](const ::testing::TestParamInfo<large_body_case>& param) {
                           return param.param.name;
                         });

// ---------------------------------------------------------------------------
// A million pipelined probes on keep-alive connections: nothing per request
// may stay allocated.

class HostileKeepAliveMemory : public ::testing::Test {
 protected:
  server_process server_{{"--drain-delay", "0", "--threads", "2"}};
};

TEST_F(HostileKeepAliveMemory, AMillionPipelinedProbesLeaveResidentMemoryFlat) {
  if (sanitized_build) GTEST_SKIP() << "an RSS bound; see sanitized_build";
  constexpr std::size_t connections = 4;
  constexpr std::size_t depth = 16;
  constexpr std::size_t warm_up = 50'000;
  constexpr std::size_t total = 1'000'000;
  constexpr std::size_t rss_bound_kib = 1024;
  std::vector<plain_connection> conns;
  for (std::size_t i = 0; i < connections; ++i) conns.emplace_back(server_.port());
  const std::string req = request_bytes("GET", "/status");

  // `count` requests spread over the connections, one thread each; every
  // one must be answered 200.
  const auto load = [&](std::size_t count) {
    std::vector<pipeline_tally> tallies(connections);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < connections; ++i) {
      threads.emplace_back(
          [&, i] { tallies[i] = run_pipelined(conns[i], req, count / connections, depth, 10s); });
    }
    for (auto& t : threads) t.join();
    for (std::size_t i = 0; i < connections; ++i) {
      SCOPED_TRACE(i);
      EXPECT_EQ(tallies[i].failure, "");
      EXPECT_EQ(tallies[i].ok, count / connections);
      EXPECT_EQ(tallies[i].other, 0u) << "responses other than 200";
    }
  };

  load(warm_up);
  ASSERT_FALSE(HasFailure());
  const std::size_t rss_warm = resident_kib(server_.pid());
  const auto start = steady::now();
  load(total);
  const auto took = steady::now() - start;
  const std::size_t rss_after = resident_kib(server_.pid());

  report_measure("keep-alive load",
                 std::to_string(total) + " requests in " + std::to_string(millis(took)) + " ms");
  report_measure("keep-alive RSS (KiB)", "after warm-up " + std::to_string(rss_warm) +
                                             ", after the million " + std::to_string(rss_after));
  EXPECT_LE(rss_after, rss_warm + rss_bound_kib) << "memory grew with the number of requests";
  EXPECT_TRUE(server_.running());
}

}  // namespace
}  // namespace badges_health::test
