// Command-line flags with environment fallbacks, parsed and validated once
// at start-up into an immutable struct. A bad value names its flag.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "badges_health/health/check_reader.hpp"
#include "badges_health/health/check_spec.hpp"
#include "badges_health/http/server_options.hpp"
#include "badges_health/util/duration.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace badges_health::app {

enum class log_format { text, json };

struct config {
  http::server_options server;
  std::string log_level = "info";
  log_format format = log_format::text;
  std::chrono::milliseconds drain_delay{5'000};
  std::chrono::milliseconds shutdown_timeout{20'000};
  /// Checks file (--config); empty: no checks, status is ok.
  std::string config_file;
  /// Bearer tokens guarding verbose /status and /metrics; empty: open.
  std::string details_token;
  std::string metrics_token;
  /// HAProxy agent port (--agent-port) on the server's host; unset: off.
  std::optional<unsigned short> agent_port;
  /// The weight, in percent, the agent gives HAProxy while degraded.
  unsigned agent_degraded_weight = 50;
  /// Build identity reported in verbose output and metrics
  /// (CURRENT_VERSION and COMMIT_HASH, as other Decentraland services).
  std::string version = BADGES_HEALTH_VERSION;
  std::string commit_hash = "unknown";
  /// Bearer token for reports to ttl checks (PUT /checks/{name}); empty:
  /// no reports, and ttl checks are a configuration error.
  std::string admin_token;
  /// Exec checks may run commands (--allow-exec-checks).
  bool allow_exec_checks = false;
  /// Child processes exec checks may run at once.
  unsigned max_exec_checks = 8;
  /// The checks loaded from config_file (filled by load_config_file).
  std::vector<health::check_spec> checks;
};

/// What the flags allow the checks file to declare.
health::read_options check_read_options(const config& cfg);

/// What the command line asks for.
struct parse_result {
  enum class action { run, help, version, print_config, error };
  action what = action::run;
  config cfg;
  /// For `error`: one line naming the flag (or variable) and the problem.
  std::string message;
};

/// Looks up an environment variable; nullptr when unset.
using env_lookup = std::function<const char*(const char*)>;

/// Parses `args` (without the program name). Flags win over environment.
parse_result parse_config(const std::vector<std::string>& args, const env_lookup& env);

/// What a command line read by CLI11 asks for: run (the options are set),
/// help, version, or error with one line naming the flag and the problem.
struct command_line {
  parse_result::action what = parse_result::action::run;
  std::string message;
};

/// Reads `args` (without the program name) into the options of `app`, as
/// every badges-health command line reads: -h/--help (and --version, if
/// `app` has one) answer as soon as they are read, the last of a repeated
/// flag wins, `--flag=` is an empty value, and an unknown flag or a stray
/// argument is an error.
command_line read_command_line(CLI::App& app, const std::vector<std::string>& args);

/// Loads cfg.config_file into cfg.checks. Returns an error message naming
/// the file and field, or an empty string.
std::string load_config_file(config& cfg);

/// The effective configuration as indented JSON (tokens only as set or
/// not), for `--print-config`: what an operator or a manifest test checks.
std::string effective_config_json(const config& cfg, const std::vector<std::string>& routes);

using util::format_duration;
using util::parse_duration;

/// The --help text.
std::string usage();

}  // namespace badges_health::app
