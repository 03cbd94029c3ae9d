// The exec check: runs a command (a Nagios plugin) and reads its exit code
// as Nagios does: 0 pass, 1 warn, 2 fail, 3 (UNKNOWN), any other code, a
// signal or the timeout fail. The first line of output up to `|` is the
// reason, the first performance datum the observed value.
//
// posix_spawn, in a process group of its own, with a minimal environment,
// stdin on /dev/null, stdout and stderr on one pipe and no other
// descriptor; the exit is watched through a pidfd on Asio, so no thread
// waits in waitpid and no SIGCHLD handler is needed. At the timeout, and
// after the command exits, the whole group is killed, so nothing it
// started outlives it, and every process of it is reaped (the service is
// the child subreaper of what exec checks start, as it is PID 1 in a
// container).
//
// Not Boost.Process v2: its vfork launcher calls the io_context's
// notify_fork(fork_child) in the vforked child, which recreates the epoll
// reactor in memory the parent shares, and its fork launcher copies the
// whole process per attempt.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <array>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "../plugin_output.hpp"
#include "badges_health/health/check_reader.hpp"
#include "badges_health/health/checker.hpp"

namespace badges_health::health {

namespace checks {
extern const check_type exec;
}  // namespace checks

namespace exec_check {
namespace {

namespace asio = boost::asio;
using asio::posix::stream_descriptor;

/// The most of a command's output read; the rest is read and discarded.
constexpr std::size_t output_limit = 4096;
/// The PATH of a command whose check sets none.
constexpr std::string_view default_path =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct exec_fields {
  std::vector<std::string> command;
  // Variables the check sets for the command, on top of PATH.
  std::map<std::string, std::string> env;
  bool operator==(const exec_fields&) const = default;
};

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev != nullptr ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

// The verdict on a command that exited (or was killed) with `status`.
check_result judge(int status, std::string_view output) {
  const plugin_output out = parse_plugin_output(output);
  const std::string text = out.text.empty() ? std::string("(no output)") : out.text;
  if (WIFSIGNALED(status)) {
    return {check_status::fail, "killed by " + signal_name(WTERMSIG(status)) + ": " + text};
  }
  const int code = WEXITSTATUS(status);
  switch (code) {
    case 0:
      return {check_status::pass, text, out.first_datum};
    case 1:
      return {check_status::warn, text, out.first_datum};
    case 2:
      return {check_status::fail, text, out.first_datum};
    case 3:
      // Plugins say UNKNOWN themselves; a command that is not one may not.
      return {check_status::fail,
              text.find("UNKNOWN") == std::string::npos ? "UNKNOWN: " + text : text,
              out.first_datum};
    default:
      return {check_status::fail, "exit " + std::to_string(code) + ": " + text, out.first_datum};
  }
}

// One run of the command, from spawn to the reaping of its whole group.
class run : public std::enable_shared_from_this<run> {
 public:
  run(asio::any_io_executor ex, std::shared_ptr<child_process_limit> limit)
      : ex_(ex), limit_(std::move(limit)), output_(ex), exit_(ex), retry_(std::move(ex)) {}

  ~run() {
    // Only when the spawn failed: a started run is kept until it is reaped.
    if (holds_slot_) limit_->release();
  }

  /// True once every process of the run has been reaped.
  bool gone() const noexcept { return gone_; }

  /// Spawns the command; false (and `why`) when it could not be started.
  bool start(const std::vector<char*>& argv, const std::vector<char*>& envp,
             checker::completion done, std::string& why) {
    holds_slot_ = true;
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return fail_to_start("pipe", errno, why);
    const int read_end = pipe_fds[0];
    const int write_end = pipe_fds[1];

    posix_spawn_file_actions_t files;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&files);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&files, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&files, write_end, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&files, write_end, STDERR_FILENO);
    // Nothing else of the service's: sockets, the epoll descriptor, files.
    posix_spawn_file_actions_addclosefrom_np(&files, STDERR_FILENO + 1);
    // A group of its own, to be killed as one; the signals as a fresh
    // process has them (the service ignores SIGPIPE).
    sigset_t none;
    sigset_t defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    const int spawned = ::posix_spawn(&pid_, argv[0], &files, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&files);
    posix_spawnattr_destroy(&attr);
    ::close(write_end);
    if (spawned != 0) {
      ::close(read_end);
      return fail_to_start("cannot run " + std::string(argv[0]), spawned, why);
    }
    // glibc 2.36's <sys/pidfd.h> lacks extern "C" for C++: the system call.
    const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid_, 0));
    if (pidfd < 0) {
      // Without a pidfd the exit cannot be waited for without blocking:
      // kill it now and reap it.
      const int err = errno;
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      ::close(read_end);
      return fail_to_start("pidfd_open", err, why);
    }
    done_ = std::move(done);
    output_.assign(read_end);
    exit_.assign(pidfd);
    read_output();
    exit_.async_wait(stream_descriptor::wait_read,
                     [self = shared_from_this()](boost::system::error_code ec) {
                       // Aborted only when the io_context goes (the service stops).
                       if (ec != asio::error::operation_aborted) self->on_exit();
                     });
    return true;
  }

  /// The timeout: the group is killed; its completion is not called.
  void cancel() noexcept {
    done_ = nullptr;
    if (pid_ > 0 && !exited_) ::kill(-pid_, SIGKILL);
  }

 private:
  bool fail_to_start(const std::string& what, int err, std::string& why) {
    why = what + ": " + std::strerror(err);
    return false;
  }

  void read_output() {
    const std::size_t room = output_limit - size_;
    const auto buffer =
        room > 0 ? asio::buffer(output_data_.data() + size_, room) : asio::buffer(discard_);
    output_.async_read_some(
        buffer, [self = shared_from_this(), room](boost::system::error_code ec, std::size_t n) {
          if (room > 0) self->size_ += n;
          if (ec) {
            // End of file: every process holding the pipe has exited.
            self->eof_ = true;
            return self->maybe_finish();
          }
          self->read_output();
        });
  }

  void on_exit() {
    int status = 0;
    // The pidfd says the command exited: this does not wait.
    if (::waitpid(pid_, &status, WNOHANG) != pid_) status = W_EXITCODE(0, SIGKILL);
    exited_ = true;
    status_ = status;
    boost::system::error_code ignored;
    exit_.close(ignored);
    // What the command left running would hold the pipe open and outlive
    // the check: it goes with the command.
    ::kill(-pid_, SIGKILL);
    maybe_finish();
    reap_group();
  }

  void maybe_finish() {
    if (!exited_ || !eof_) return;
    boost::system::error_code ignored;
    output_.close(ignored);
    if (auto done = std::exchange(done_, nullptr)) {
      done(judge(status_, std::string_view(output_data_.data(), size_)));
    }
  }

  // Reaps what is left of the group (children of the command reparented
  // to the service), then frees the slot. Members still exiting are
  // waited for, briefly.
  void reap_group() {
    for (;;) {
      const pid_t reaped = ::waitpid(-pid_, nullptr, WNOHANG);
      if (reaped > 0) continue;
      if (reaped < 0 && errno == ECHILD && ::kill(-pid_, 0) != 0 && errno == ESRCH) {
        return release();
      }
      break;
    }
    if (++reap_tries_ > 500) {
      spdlog::warn("exec check: processes of group {} are still there a second after SIGKILL",
                   pid_);
      return release();
    }
    retry_.expires_after(std::chrono::milliseconds(2));
    retry_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec) self->reap_group();
    });
  }

  void release() {
    gone_ = true;
    holds_slot_ = false;
    limit_->release();
  }

  asio::any_io_executor ex_;
  std::shared_ptr<child_process_limit> limit_;
  bool holds_slot_ = false;
  pid_t pid_ = -1;
  stream_descriptor output_;
  stream_descriptor exit_;
  asio::steady_timer retry_;
  std::array<char, output_limit> output_data_{};
  std::array<char, 512> discard_{};
  std::size_t size_ = 0;
  bool exited_ = false;
  bool eof_ = false;
  bool gone_ = false;
  int status_ = 0;
  int reap_tries_ = 0;
  checker::completion done_;
};

class exec_checker final : public checker {
 public:
  exec_checker(const exec_fields& f, const checker_context& context)
      : ex_(context.executor), limit_(context.child_processes) {
    if (!limit_) limit_ = std::make_shared<child_process_limit>(8);
    // Orphans of the commands (a plugin's own children) are reparented to
    // this process, which reaps them with their group.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    command_ = f.command;
    env_.push_back("PATH=" + std::string(default_path));
    for (const auto& [name, value] : f.env) {
      if (name == "PATH") {
        env_.front() = "PATH=" + value;
      } else {
        env_.push_back(name + "=" + value);
      }
    }
    for (auto& a : command_) argv_.push_back(a.data());
    argv_.push_back(nullptr);
    for (auto& e : env_) envp_.push_back(e.data());
    envp_.push_back(nullptr);
  }

  void start(completion done) override {
    const auto fail_now = [&](std::string why) {
      asio::post(ex_, [done = std::move(done), why = std::move(why)] {
        done({check_status::fail, why});
      });
    };
    if (current_ && !current_->gone()) {
      return fail_now("the previous run of " + command_.front() + " has not exited yet");
    }
    if (!limit_->try_acquire()) {
      return fail_now(std::to_string(limit_->running()) +
                      " exec checks are running already (--max-exec-checks " +
                      std::to_string(limit_->max()) + ")");
    }
    current_ = std::make_shared<run>(ex_, limit_);
    std::string why;
    if (!current_->start(argv_, envp_, done, why)) {
      current_.reset();
      fail_now(why);
    }
  }

  void cancel() noexcept override {
    if (current_) current_->cancel();
  }

 private:
  asio::any_io_executor ex_;
  std::shared_ptr<child_process_limit> limit_;
  std::vector<std::string> command_;
  std::vector<std::string> env_;
  std::vector<char*> argv_;
  std::vector<char*> envp_;
  std::shared_ptr<run> current_;
};

class exec_settings final : public typed_settings<exec_fields> {
 public:
  using typed_settings::typed_settings;
  const check_type& type() const noexcept override { return checks::exec; }
  void describe(nlohmann::ordered_json& out) const override {
    out["command"] = fields_.command;
    // Values may be secrets: names only.
    nlohmann::ordered_json names = nlohmann::ordered_json::array();
    for (const auto& [name, value] : fields_.env) names.push_back(name);
    out["env"] = std::move(names);
  }
  std::shared_ptr<checker> make_checker(const check_spec&,
                                        const checker_context& context) const override {
    return std::make_shared<exec_checker>(fields_, context);
  }
};

bool variable_name(const std::string& name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
  for (const char c : name) {
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

std::shared_ptr<const check_settings> read(const check_reader& in, check_spec& spec) {
  if (!in.options().allow_exec) {
    in.fail_check("check \"" + spec.name +
                  "\" runs a command, which needs --allow-exec-checks "
                  "(BADGES_HEALTH_ALLOW_EXEC_CHECKS=true)");
  }
  exec_fields f;
  const auto& command = in.require("command");
  if (!command.is_array() || command.empty()) {
    in.fail("command",
            "expected the program and its arguments as an array of strings, such as "
            "[\"/usr/lib/nagios/plugins/check_dummy\", \"0\"]");
  }
  for (std::size_t i = 0; i < command.size(); ++i) {
    const std::string where = "command[" + std::to_string(i) + "]";
    if (!command[i].is_string()) {
      in.fail(where, std::string("expected a string, got ") + command[i].type_name());
    }
    f.command.push_back(command[i].get<std::string>());
    if (f.command.back().find('\0') != std::string::npos) in.fail(where, "must not hold NUL");
  }
  const std::string& program = f.command.front();
  if (program.empty() || program.front() != '/') {
    in.fail(
        "command[0]",
        "must be an absolute path (there is no shell and no PATH lookup), got \"" + program + "\"");
  }
  if (::access(program.c_str(), X_OK) != 0) {
    in.fail("command[0]", "cannot execute \"" + program + "\": " + std::strerror(errno));
  }
  if (in.has("env")) {
    const auto& env = in.at("env");
    if (!env.is_object()) in.fail("env", "expected an object of variable names and values");
    for (const auto& [name, value] : env.items()) {
      const std::string where = "env." + name;
      if (!variable_name(name)) in.fail(where, "not a variable name ([A-Za-z_][A-Za-z0-9_]*)");
      if (!value.is_string())
        in.fail(where, std::string("expected a string, got ") + value.type_name());
      f.env.emplace(name, value.get<std::string>());
    }
  }
  return std::make_shared<exec_settings>(std::move(f));
}

constexpr std::string_view fields[] = {"command", "env"};

}  // namespace
}  // namespace exec_check

const check_type checks::exec{"exec", "component", exec_check::fields, false, &exec_check::read};

}  // namespace badges_health::health
