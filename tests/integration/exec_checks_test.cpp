// exec checks against the real Nagios plugins (Debian
// monitoring-plugins-basic) and scripts that misbehave: the exit code as
// pass, warn or fail, the first line and first performance datum, the
// timeout killing the whole process group (a grandchild too), the child's
// environment, descriptors and stdin, the output limit, --max-exec-checks,
// and the trust flag.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/dependency_servers.hpp"
#include "support/health_service.hpp"
#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace badges_health::test {
// Named, so that unity batches never merge these helpers with another
// file's.
namespace exec_checks {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const std::string plugins = "/usr/lib/nagios/plugins";

json exec_check(const std::string& name, std::vector<std::string> command,
                json extra = json::object()) {
  json c = {{"name", name},       {"type", "exec"}, {"command", command}, {"interval", "300ms"},
            {"timeout", "250ms"}, {"rise", 1},      {"fall", 1}};
  c.update(extra);
  return c;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

bool process_gone(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

class ExecChecks : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::access((plugins + "/check_dummy").c_str(), X_OK) != 0) {
      GTEST_FAIL() << "no Nagios plugins: scripts/install-deps --test installs "
                      "monitoring-plugins-basic";
    }
  }

  // A shell script in the scratch directory, executable.
  std::string script(const std::string& name, const std::string& body) {
    const std::string path = dir_.write(name, "#!/bin/sh\n" + body);
    ::chmod(path.c_str(), 0755);
    return path;
  }

  health_service start(const json& checks, std::vector<std::string> args = {},
                       std::vector<std::string> env = {}) {
    args.insert(args.begin(), "--allow-exec-checks");
    return health_service(dir_, checks, std::move(args), std::move(env));
  }

  json result_of(const health_service& svc, const std::string& name) {
    const auto body = svc.wait_for_result(name);
    if (!body) {
      ADD_FAILURE() << "check " << name << " produced no result within 5 s";
      return json::object();
    }
    return json_at(*body, "/checks/" + name);
  }

  temp_dir dir_;
};

// ---- the plugin contract: exit code and first line ----

struct dummy_case {
  const char* name;
  const char* code;
  const char* status;
  const char* output;
};

class ExecDummy : public ExecChecks, public ::testing::WithParamInterface<dummy_case> {};

TEST_P(ExecDummy, ExitCodeIsTheStateAndTheFirstLineTheReason) {
  const auto& c = GetParam();
  auto svc =
      start(json::array({exec_check("dummy", {plugins + "/check_dummy", c.code, "said so"})}));
  const json check = result_of(svc, "dummy");
  EXPECT_EQ(check.value("status", ""), c.status) << check.dump();
  const std::string reason = json_at(check, "/transitions/0/reason").get<std::string>();
  EXPECT_EQ(reason, c.output) << check.dump();
  if (std::string(c.status) != "pass") {
    EXPECT_EQ(check.value("output", ""), c.output);
  }
}

INSTANTIATE_TEST_SUITE_P(Plugins, ExecDummy,
                         ::testing::Values(dummy_case{"Ok", "0", "pass", "OK: said so"},
                                           dummy_case{"Warning", "1", "warn", "WARNING: said so"},
                                           dummy_case{"Critical", "2", "fail", "CRITICAL: said so"},
                                           dummy_case{"Unknown", "3", "fail", "UNKNOWN: said so"}),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

TEST_F(ExecChecks, ExitCodesBeyondThreeAndSignalsFail) {
  const std::string four = script("four.sh", "echo 'odd | x=1'\nexit 4\n");
  const std::string killed = script("killed.sh", "echo 'about to go'\nkill -TERM $$\n");
  auto svc = start(json::array({exec_check("four", {four}), exec_check("killed", {killed})}));
  EXPECT_EQ(result_of(svc, "four").value("output", ""), "exit 4: odd");
  EXPECT_EQ(result_of(svc, "killed").value("output", ""), "killed by SIGTERM: about to go");
}

// ---- performance data ----

TEST_F(ExecChecks, CheckTcpPassesAgainstAListenerAndReportsItsTime) {
  tcp_dependency port;
  auto svc = start(
      json::array({exec_check("tcp", {plugins + "/check_tcp", "-H", "127.0.0.1", "-p",
                                      std::to_string(port.port())}),
                   exec_check("closed", {plugins + "/check_tcp", "-H", "127.0.0.1", "-p", "1"})}));
  const json tcp = result_of(svc, "tcp");
  EXPECT_EQ(tcp.value("status", ""), "pass") << tcp.dump();
  // check_tcp's first datum: time=0.000123s;...
  EXPECT_EQ(tcp.value("observedUnit", ""), "s") << tcp.dump();
  EXPECT_GE(tcp.value("observedValue", -1.0), 0.0) << tcp.dump();
  const json closed = result_of(svc, "closed");
  EXPECT_EQ(closed.value("status", ""), "fail");
  EXPECT_NE(closed.value("output", "").find("Connection refused"), std::string::npos)
      << closed.dump();
}

TEST_F(ExecChecks, CheckDiskReportsItsFirstDatumAsTheObservedValue) {
  auto svc = start(
      json::array({exec_check("disk", {plugins + "/check_disk", "-w", "0%", "-c", "0%", "-p", "/"},
                              {{"timeout", "2s"}, {"interval", "3s"}})}));
  const json disk = result_of(svc, "disk");
  EXPECT_EQ(disk.value("status", ""), "pass") << disk.dump();
  // `/=<used>B;<warn>;<crit>;0;<total>`: the space used, in bytes.
  EXPECT_EQ(disk.value("observedUnit", ""), "B") << disk.dump();
  EXPECT_GT(disk.value("observedValue", 0.0), 0.0) << disk.dump();
  const std::string reason = json_at(disk, "/transitions/0/reason").get<std::string>();
  EXPECT_EQ(reason.rfind("DISK OK", 0), 0u) << reason;
  EXPECT_EQ(reason.find('|'), std::string::npos) << "perfdata is not part of the reason";
}

// ---- the process group at the timeout ----

TEST_F(ExecChecks, TheTimeoutKillsTheCommandAndItsGrandchildrenAndReapsThem) {
  const std::string pids = dir_.file("pids");
  const std::string hang =
      script("hang.sh", "echo $$ > " + pids + ".tmp\nsleep 600 &\necho $! >> " + pids +
                            ".tmp\nmv " + pids + ".tmp " + pids + "\nsleep 600\n");
  auto svc =
      start(json::array({exec_check("hang", {hang}, {{"interval", "10s"}, {"timeout", "300ms"}})}));
  const json check = result_of(svc, "hang");
  EXPECT_EQ(check.value("output", ""), "timed out after 300ms") << check.dump();
  ASSERT_TRUE(eventually([&] { return !read_file(pids).empty(); }, 2s));
  std::istringstream in(read_file(pids));
  pid_t script_pid = 0;
  pid_t sleeper_pid = 0;
  in >> script_pid >> sleeper_pid;
  ASSERT_GT(script_pid, 0);
  ASSERT_GT(sleeper_pid, 0);
  // Killed and reaped: no process left, not even a zombie.
  EXPECT_TRUE(eventually([&] { return process_gone(script_pid) && process_gone(sleeper_pid); }, 3s))
      << "script " << script_pid << " or its child " << sleeper_pid << " survived the timeout";
  EXPECT_TRUE(svc.process().running());
}

TEST_F(ExecChecks, WhatACommandLeavesBehindGoesWithIt) {
  const std::string pids = dir_.file("left");
  const std::string leave =
      script("leave.sh", "sleep 600 &\necho $! > " + pids + "\necho 'OK: done'\nexit 0\n");
  auto svc = start(json::array({exec_check("leave", {leave}, {{"interval", "10s"}})}));
  EXPECT_EQ(result_of(svc, "leave").value("status", ""), "pass");
  ASSERT_TRUE(eventually([&] { return !read_file(pids).empty(); }, 2s));
  const pid_t left = std::stoi(read_file(pids));
  EXPECT_TRUE(eventually([&] { return process_gone(left); }, 3s))
      << "the background child " << left << " outlived its command";
}

// ---- what the child gets ----

TEST_F(ExecChecks, TheCommandGetsAMinimalEnvironmentNoDescriptorsAndNoStdin) {
  const std::string env_out = dir_.file("env");
  const std::string fds_out = dir_.file("fds");
  const std::string stdin_out = dir_.file("stdin");
  const std::string probe = script(
      "probe.sh", "env > " + env_out + ".tmp && mv " + env_out + ".tmp " + env_out +
                      "\nfor f in /proc/$$/fd/*; do readlink $f; done > " + fds_out + ".tmp; mv " +
                      fds_out + ".tmp " + fds_out + "\nif read line; then echo got > " + stdin_out +
                      "; else echo eof > " + stdin_out + "; fi\necho 'OK: probed'\n");
  auto svc = start(json::array({exec_check("probe", {probe}, {{"env", {{"REGION", "eu-west"}}}})}),
                   {}, {"BADGES_TEST_SECRET=hunter2"});
  EXPECT_EQ(result_of(svc, "probe").value("status", ""), "pass");
  ASSERT_TRUE(eventually([&] { return !read_file(stdin_out).empty(); }, 2s));
  const std::string env = read_file(env_out);
  EXPECT_NE(env.find("REGION=eu-west\n"), std::string::npos) << env;
  EXPECT_NE(env.find("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"),
            std::string::npos)
      << env;
  EXPECT_EQ(env.find("BADGES_TEST_SECRET"), std::string::npos)
      << "the service's environment leaked:\n"
      << env;
  const std::string fds = read_file(fds_out);
  EXPECT_EQ(fds.find("socket:"), std::string::npos) << "a socket of the service leaked:\n" << fds;
  EXPECT_EQ(fds.rfind("/dev/null\n", 0), 0u) << "stdin is /dev/null:\n" << fds;
  EXPECT_EQ(read_file(stdin_out), "eof\n");
}

TEST_F(ExecChecks, OutputIsReadUpTo4KiBAndTheRestDiscarded) {
  // 100 KB on one line, more than a pipe holds: the command must not block.
  const std::string loud =
      script("loud.sh", "head -c 100000 /dev/zero | tr '\\0' x\necho\necho second line\n");
  auto svc =
      start(json::array({exec_check("loud", {loud}, {{"interval", "2s"}, {"timeout", "1s"}})}));
  const json check = result_of(svc, "loud");
  EXPECT_EQ(check.value("status", ""), "pass") << check.dump().substr(0, 300);
  const std::string reason = json_at(check, "/transitions/0/reason").get<std::string>();
  EXPECT_EQ(reason, std::string(4096, 'x'));
}

// ---- limits and trust ----

TEST_F(ExecChecks, AttemptsBeyondMaxExecChecksFailAtOnceSayingWhy) {
  const std::string slow = script("slow.sh", "sleep 2\necho 'OK: slow'\n");
  auto svc =
      start(json::array({exec_check("one", {slow}, {{"interval", "5s"}, {"timeout", "4s"}}),
                         exec_check("two", {slow}, {{"interval", "5s"}, {"timeout", "4s"}})}),
            {"--max-exec-checks", "1"});
  const auto body = svc.wait_for(
      [](const json& b) {
        return json_at(b, "/checks/one/status") == "fail" ||
               json_at(b, "/checks/two/status") == "fail";
      },
      3s);
  ASSERT_TRUE(body) << svc.verbose().dump();
  const std::string one = json_at(*body, "/checks/one/output").is_string()
                              ? json_at(*body, "/checks/one/output").get<std::string>()
                              : json_at(*body, "/checks/two/output").get<std::string>();
  EXPECT_EQ(one, "1 exec checks are running already (--max-exec-checks 1)");
}

TEST_F(ExecChecks, WithoutTheTrustFlagAnExecCheckStopsStartUpNamingTheCheckAndTheFlag) {
  const std::string path = dir_.write(
      "checks.json",
      json{{"checks", json::array({exec_check("dns", {plugins + "/check_dummy", "0"})})}}.dump());
  const auto r = run_binary({"--host", "127.0.0.1", "--port", "0", "--config", path});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.err, "badges-health: config file " + path +
                       ": checks[0]: check \"dns\" runs a command, which needs "
                       "--allow-exec-checks (BADGES_HEALTH_ALLOW_EXEC_CHECKS=true)\n");
  // The variable allows it as the flag does.
  const auto allowed =
      run_binary({"--config", path, "--print-config"}, {"BADGES_HEALTH_ALLOW_EXEC_CHECKS=true"});
  EXPECT_EQ(allowed.exit_code, 0) << allowed.err;
}

TEST_F(ExecChecks, WithoutTheTrustFlagAReloadThatAddsAnExecCheckIsRefused) {
  const json file = {{"name", "flag"},   {"type", "file"},      {"path", dir_.file("none")},
                     {"when", "absent"}, {"interval", "300ms"}, {"timeout", "100ms"}};
  health_service svc(dir_, json::array({file}));
  ASSERT_TRUE(svc.wait_for_result("flag"));
  svc.write_checks(json::array({file, exec_check("dns", {plugins + "/check_dummy", "0"})}));
  svc.process().signal(SIGHUP);
  EXPECT_TRUE(svc.process().wait_for_log("reload failed, keeping the 1 running checks"))
      << svc.process().log();
  EXPECT_NE(svc.process().log().find("needs --allow-exec-checks"), std::string::npos);
  const json body = svc.verbose();
  EXPECT_EQ(body["checks"].size(), 1u) << body.dump();
}

}  // namespace
}  // namespace exec_checks
}  // namespace badges_health::test
