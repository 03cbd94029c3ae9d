// The service behind a real HAProxy, checked the way a deployment uses it:
// HAProxy polls GET /status and must take an instance out when it is down
// or draining and put it back when it recovers, while requests through the
// frontend keep succeeding. The drain case is the one that shows whether
// the drain delay really lets a load balancer stop sending before the
// instance stops accepting. Two other ways of checking are covered too:
// HAProxy's agent check against --agent-port, and its bare `option httpchk`.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "support/dependency_servers.hpp"
#include "support/haproxy_process.hpp"
#include "support/health_service.hpp"
#include "support/raw_client.hpp"
#include "support/response_checks.hpp"
#include "support/temp_dir.hpp"

namespace badges_health::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// A file check that passes while `dir`/maint is absent: the switch an
// operator touches to take one instance out of rotation.
json maintenance_check(const temp_dir& dir) {
  return {{"name", "maintenance"},
          {"type", "file"},
          {"path", dir.file("maint")},
          {"when", "absent"},
          {"interval", "200ms"},
          {"timeout", "100ms"},
          {"rise", 1},
          {"fall", 1}};
}

// A non-critical TCP check of a port that refuses connections: it fails,
// and the instance reports degraded, which must still count as up.
json unreachable_optional_check(const closed_tcp_port& closed) {
  return {{"name", "cache"},       {"type", "tcp"},       {"host", "127.0.0.1"},
          {"port", closed.port()}, {"interval", "200ms"}, {"timeout", "100ms"},
          {"critical", false}};
}

// Requests `GET /` through the frontend from several threads until stopped
// or until `limit` passes, counting every answer that is not a 200 (refused
// or reset connection, no answer within 2 s, another status) as a failure.
// Even threads keep one connection alive; odd ones open one per request,
// so both ways HAProxy handles a client are covered.
class frontend_load {
 public:
  frontend_load(unsigned short port, int threads, std::chrono::milliseconds limit)
      : port_(port), deadline_(std::chrono::steady_clock::now() + limit) {
    for (int i = 0; i < threads; ++i) {
      workers_.emplace_back([this, i] { run(i % 2 == 0); });
    }
  }
  ~frontend_load() { stop(); }
  frontend_load(const frontend_load&) = delete;
  frontend_load& operator=(const frontend_load&) = delete;

  /// Stops the threads (each finishes its current request) and waits.
  void stop() {
    stopping_ = true;
    for (auto& w : workers_) {
      if (w.joinable()) w.join();
    }
  }
  /// Waits for the threads to reach the time limit.
  void join() {
    for (auto& w : workers_) {
      if (w.joinable()) w.join();
    }
  }

  std::size_t succeeded() const noexcept { return succeeded_.load(); }
  std::size_t failed() const noexcept { return failed_.load(); }
  /// The first failures, with how long after the start each happened.
  std::string failures() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& f : failures_) out += "  " + f + "\n";
    return out;
  }

 private:
  bool going() const { return !stopping_ && std::chrono::steady_clock::now() < deadline_; }

  void run(bool keep_alive) {
    std::unique_ptr<raw_client> client;
    while (going()) {
      if (!client) client = try_connect(port_);
      if (!client) {
        fail("connect refused or reset");
        continue;
      }
      std::optional<http_response> res;
      try {
        client->send(request_bytes("GET", "/"));
        res = client->read_response(false, 2s);
      } catch (const std::exception& e) {
        fail(std::string("send: ") + e.what());
        client.reset();
        continue;
      }
      if (!res) {
        fail("no response (closed, reset or 2 s timeout)");
        client.reset();
        continue;
      }
      if (res->result_int() != 200) {
        fail("status " + std::to_string(res->result_int()) + ": " + res->body());
      } else {
        ++succeeded_;
      }
      if (!keep_alive || !res->keep_alive()) client.reset();
    }
  }

  void fail(const std::string& what) {
    ++failed_;
    const auto at = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started_);
    std::lock_guard lock(mutex_);
    if (failures_.size() < 20) failures_.push_back(std::to_string(at.count()) + " ms: " + what);
    // A refused connect returns at once; do not spin on it.
    std::this_thread::sleep_for(5ms);
  }

  const unsigned short port_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  const std::chrono::steady_clock::time_point deadline_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> succeeded_{0};
  std::atomic<std::size_t> failed_{0};
  mutable std::mutex mutex_;
  std::vector<std::string> failures_;
  std::vector<std::thread> workers_;
};

// Two instances, each with its own scratch directory (and so its own
// maintenance file), behind one HAProxy. HAProxy's absence is a failure,
// not a skip: these tests are the only ones that show the service works
// with a load balancer.
class HAProxyBase : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::access(haproxy_binary().c_str(), X_OK), 0)
        << "HAProxy not found at " << haproxy_binary()
        << ": install the Debian package `haproxy` (or set HAPROXY_BINARY); these tests need it";
  }

  void start(const json& checks1, const json& checks2, const std::vector<std::string>& args,
             bool retry_elsewhere = false) {
    instance1_ = std::make_unique<health_service>(dir1_, checks1, args);
    instance2_ = std::make_unique<health_service>(dir2_, checks2, args);
    haproxy_process::options opts;
    opts.server_ports = {instance1_->port(), instance2_->port()};
    opts.retry_elsewhere = retry_elsewhere;
    haproxy_ = std::make_unique<haproxy_process>(haproxy_dir_, std::move(opts));
  }

  // One instance behind HAProxy, checked with `option httpchk <httpchk>`
  // (bare when empty).
  void start_one(const json& checks, const std::vector<std::string>& args,
                 const std::string& httpchk) {
    instance1_ = std::make_unique<health_service>(dir1_, checks, args);
    haproxy_process::options opts;
    opts.server_ports = {instance1_->port()};
    opts.httpchk = httpchk;
    haproxy_ = std::make_unique<haproxy_process>(haproxy_dir_, std::move(opts));
  }

  // True once column `column` of `show stat` for `server` reads `value`.
  bool stat_becomes(const std::string& server, const std::string& column, const std::string& value,
                    std::chrono::milliseconds timeout) const {
    return eventually([&] { return haproxy_->server_stat(server, column) == value; }, timeout);
  }

  // True once HAProxy shows `server` with status `status` exactly.
  bool server_becomes(const std::string& server, const std::string& status,
                      std::chrono::milliseconds timeout) const {
    return eventually([&] { return haproxy_->server_status(server) == status; }, timeout);
  }

  std::string describe() const {
    std::string out =
        "s1=" + haproxy_->server_status("s1") + " s2=" + haproxy_->server_status("s2") +
        " s1 weight=" + haproxy_->server_stat("s1", "weight") +
        " check=" + haproxy_->server_stat("s1", "check_status") +
        " agent=" + haproxy_->server_stat("s1", "agent_status") + " (" +
        haproxy_->server_stat("s1", "last_agt") + ")\nhaproxy output:\n" + haproxy_->log();
    if (instance1_) out += "\ninstance 1 log:\n" + instance1_->process().log();
    return out;
  }

  temp_dir dir1_;
  temp_dir dir2_;
  temp_dir haproxy_dir_;
  // Declared after what they use, so HAProxy is killed first and the
  // instances after it.
  std::unique_ptr<health_service> instance1_;
  std::unique_ptr<health_service> instance2_;
  std::unique_ptr<haproxy_process> haproxy_;
};

using HAProxyHealth = HAProxyBase;

TEST_F(HAProxyHealth, BothServersUpWhenBothAreOk) {
  start(json::array({maintenance_check(dir1_)}), json::array({maintenance_check(dir2_)}), {});
  ASSERT_TRUE(server_becomes("s1", "UP", 3s)) << describe();
  ASSERT_TRUE(server_becomes("s2", "UP", 3s)) << describe();
  const auto res = request(haproxy_->frontend_port(), "GET", "/status");
  ASSERT_TRUE(res) << "no answer through the frontend";
  EXPECT_EQ(res->result_int(), 200u) << res->body();
}

TEST_F(HAProxyHealth, BothServersUpWhenOneIsDegraded) {
  // Held for the whole test: a port found free and released could be
  // taken by another test's listener, and the check would then pass.
  const closed_tcp_port cache;
  start(json::array({maintenance_check(dir1_)}),
        json::array({maintenance_check(dir2_), unreachable_optional_check(cache)}), {});
  ASSERT_TRUE(instance2_->wait_for([](const json& b) {
    return b.value("status", "") == "degraded";
  })) << instance2_->verbose().dump();
  ASSERT_TRUE(server_becomes("s1", "UP", 3s)) << describe();
  ASSERT_TRUE(server_becomes("s2", "UP", 3s)) << describe();
  // Degraded must hold steady as UP, not flap: over five check intervals
  // HAProxy never sees a failed check ("UP 1/2") or takes s2 out.
  const bool left_up = eventually([&] { return haproxy_->server_status("s2") != "UP"; }, 1s);
  EXPECT_FALSE(left_up) << describe();
}

TEST_F(HAProxyHealth, MaintenanceFileTakesServerOutAndBackWithoutFailedRequests) {
  start(json::array({maintenance_check(dir1_)}), json::array({maintenance_check(dir2_)}), {});
  ASSERT_TRUE(server_becomes("s1", "UP", 3s)) << describe();
  ASSERT_TRUE(server_becomes("s2", "UP", 3s)) << describe();

  frontend_load load(haproxy_->frontend_port(), 2, 15s);
  dir1_.write("maint", "");
  // fall 2 x inter 200ms, plus up to one 200 ms check interval of the
  // service, is well under the 3 s allowed.
  EXPECT_TRUE(server_becomes("s1", "DOWN", 3s)) << describe();
  EXPECT_EQ(haproxy_->server_status("s2"), "UP") << describe();
  dir1_.remove("maint");
  EXPECT_TRUE(server_becomes("s1", "UP", 3s)) << describe();
  load.stop();

  EXPECT_GT(load.succeeded(), 0u);
  EXPECT_EQ(load.failed(), 0u) << load.failures();
}

// --drain-delay 2s: SIGTERM makes /status report 503 at once while the
// instance keeps serving for 2 s, which is more than the ~0.4-0.6 s HAProxy
// needs (fall 2 x inter 200ms) to stop sending it requests.
class HAProxyDrain : public HAProxyBase, public ::testing::WithParamInterface<bool> {};

TEST_P(HAProxyDrain, SigtermUnderLoadLosesNoRequests) {
  start(json::array({maintenance_check(dir1_)}), json::array({maintenance_check(dir2_)}),
        {"--drain-delay", "2s"}, GetParam());
  ASSERT_TRUE(server_becomes("s1", "UP", 3s)) << describe();
  ASSERT_TRUE(server_becomes("s2", "UP", 3s)) << describe();

  const auto load_start = std::chrono::steady_clock::now();
  frontend_load load(haproxy_->frontend_port(), 4, 4s);
  // A fixed point in the load, not a wait for an event: the signal must
  // land while both servers are taking traffic.
  std::this_thread::sleep_until(load_start + 1s);
  const std::string s1_requests_before = haproxy_->server_stat("s1", "stot");
  auto& process1 = instance1_->process();
  const auto signalled = std::chrono::steady_clock::now();
  process1.signal(SIGTERM);
  ASSERT_TRUE(process1.wait_for_log("draining", 2s)) << process1.log();

  // The point of the drain delay: HAProxy takes s1 out while it still
  // serves, that is well before the 2 s are up.
  EXPECT_TRUE(server_becomes("s1", "DOWN", 1500ms)) << describe();
  const auto out_after = std::chrono::steady_clock::now() - signalled;

  EXPECT_EQ(process1.wait(10s), 0) << process1.log();
  load.join();

  EXPECT_GT(std::stoul(s1_requests_before.empty() ? "0" : s1_requests_before), 0u)
      << "s1 took no traffic before SIGTERM, so the test proves nothing";
  EXPECT_GT(load.succeeded(), 0u);
  EXPECT_EQ(load.failed(), 0u)
      << "of " << load.succeeded() + load.failed() << " requests; s1 out after "
      << std::chrono::duration_cast<std::chrono::milliseconds>(out_after).count() << " ms:\n"
      << load.failures();
  EXPECT_EQ(haproxy_->server_status("s1"), "DOWN") << describe();
}

INSTANTIATE_TEST_SUITE_P(HAProxy, HAProxyDrain, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& param_info) {
                           return param_info.param ? std::string("RetriesAndRedispatch")
                                                   : std::string("NoRetries");
                         });

// A non-critical file check that fails while `dir`/degraded exists: the
// instance then reports degraded.
json degraded_switch(const temp_dir& dir) {
  return {{"name", "cache"},  {"type", "file"},      {"path", dir.file("degraded")},
          {"when", "absent"}, {"interval", "200ms"}, {"timeout", "100ms"},
          {"rise", 1},        {"fall", 1},           {"critical", false}};
}

// HAProxy's agent check against --agent-port, with `weight 100` on the
// server line (the default weight of 1 cannot be scaled to 50%). The HTTP
// check asks /livez, which passes whenever the process answers, so only
// the agent can take the server out or weigh it.
class HAProxyAgent : public HAProxyBase {
 protected:
  void start_with_agent(const std::vector<std::string>& args) {
    std::vector<std::string> all{"--agent-port", "0"};
    all.insert(all.end(), args.begin(), args.end());
    instance1_ = std::make_unique<health_service>(
        dir1_, json::array({maintenance_check(dir1_), degraded_switch(dir1_)}), all);
    const unsigned short agent_port = announced_agent_port(instance1_->process());
    ASSERT_NE(agent_port, 0) << instance1_->process().log();
    haproxy_process::options opts;
    opts.server_ports = {instance1_->port()};
    opts.httpchk = "GET /livez";
    opts.agent_ports = {agent_port};
    opts.weight = 100;
    haproxy_ = std::make_unique<haproxy_process>(haproxy_dir_, std::move(opts));
    ASSERT_TRUE(server_becomes("s1", "UP", 3s)) << describe();
    ASSERT_TRUE(stat_becomes("s1", "weight", "100", 3s)) << describe();
  }
};

TEST_F(HAProxyAgent, DownWhileTheHttpCheckPassesThenUpAgain) {
  start_with_agent({});
  dir1_.write("maint", "");
  // HAProxy 2.6 says "DOWN (agent)" when the agent alone took the server
  // out; the HTTP check still passes (L7OK), and the agent's reason shows.
  EXPECT_TRUE(server_becomes("s1", "DOWN (agent)", 3s)) << describe();
  EXPECT_EQ(haproxy_->server_stat("s1", "check_status"), "L7OK") << describe();
  EXPECT_EQ(haproxy_->server_stat("s1", "agent_status"), "L7STS") << describe();
  EXPECT_EQ(haproxy_->server_stat("s1", "last_agt"),
            "via agent : down (critical check failing: maintenance)")
      << describe();

  dir1_.remove("maint");
  EXPECT_TRUE(server_becomes("s1", "UP", 3s)) << describe();
  EXPECT_TRUE(stat_becomes("s1", "weight", "100", 3s)) << describe();
}

TEST_F(HAProxyAgent, DegradedHalvesTheWeightAndStaysUp) {
  start_with_agent({});
  dir1_.write("degraded", "");
  EXPECT_TRUE(stat_becomes("s1", "weight", "50", 3s)) << describe();
  EXPECT_EQ(haproxy_->server_status("s1"), "UP") << describe();
  dir1_.remove("degraded");
  EXPECT_TRUE(stat_becomes("s1", "weight", "100", 3s)) << describe();
}

TEST_F(HAProxyAgent, SigtermDrainsTheServer) {
  // The drain delay is longer than HAProxy needs to see the agent's
  // `drain`, and /livez keeps passing meanwhile, so DRAIN is the agent's.
  start_with_agent({"--drain-delay", "3s"});
  auto& process = instance1_->process();
  process.signal(SIGTERM);
  ASSERT_TRUE(process.wait_for_log("draining", 2s)) << process.log();
  // HAProxy 2.6 shows an agent's drain as "DRAIN (agent)" in the status
  // column; the weight column keeps the configured 100 (a drained server
  // takes no new traffic whatever its weight).
  EXPECT_TRUE(server_becomes("s1", "DRAIN (agent)", 1500ms)) << describe();
  EXPECT_EQ(haproxy_->server_stat("s1", "check_status"), "L7OK") << describe();
  EXPECT_EQ(process.wait(10s), 0) << process.log();
  // Once the process is gone the HTTP check fails too.
  EXPECT_TRUE(server_becomes("s1", "DOWN", 3s)) << describe();
}

// HAProxy's bare `option httpchk` sends `OPTIONS / HTTP/1.0` and passes
// any 2xx or 3xx, so the answer to that OPTIONS must turn into a 503 when
// the service is down or draining for HAProxy to notice.
using HAProxyBareHttpchk = HAProxyBase;

TEST_F(HAProxyBareHttpchk, DownWhenTheServiceIsDownThenUpAgain) {
  start_one(json::array({maintenance_check(dir1_)}), {}, "");
  ASSERT_TRUE(server_becomes("s1", "UP", 3s)) << describe();
  dir1_.write("maint", "");
  EXPECT_TRUE(server_becomes("s1", "DOWN", 3s)) << describe();
  dir1_.remove("maint");
  EXPECT_TRUE(server_becomes("s1", "UP", 3s)) << describe();
}

TEST_F(HAProxyBareHttpchk, DownOnSigtermWhileStillServing) {
  start_one(json::array({maintenance_check(dir1_)}), {"--drain-delay", "3s"}, "");
  ASSERT_TRUE(server_becomes("s1", "UP", 3s)) << describe();
  auto& process = instance1_->process();
  process.signal(SIGTERM);
  ASSERT_TRUE(process.wait_for_log("draining", 2s)) << process.log();
  // Well within the drain delay, so it is the check's answer, not a
  // refused connection, that takes the server out.
  EXPECT_TRUE(server_becomes("s1", "DOWN", 1500ms)) << describe();
  EXPECT_EQ(process.wait(10s), 0) << process.log();
}

}  // namespace
}  // namespace badges_health::test
