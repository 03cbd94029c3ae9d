// Command-line flags with environment fallbacks, parsed and validated once
// at start-up into an immutable struct. A bad value names its flag. The
// secrets in it are handles whose files SIGHUP reads again (secret.hpp).
#pragma once

#include <boost/system/result.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "badges_health/app/secret.hpp"
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
  secret details_token;
  secret metrics_token;
  /// Where to write the listening address for `badges-health probe`
  /// (--address-file); empty: nowhere.
  std::string address_file;
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
  secret admin_token;
  /// The longest maintenance PUT /maintenance may ask for.
  std::chrono::milliseconds max_maintenance{std::chrono::hours{24}};
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
  enum class action { run, help, version, print_config, print_flag_reference, error };
  action what = action::run;
  config cfg;
  /// For `error`: one line naming the flag (or variable) and the problem.
  std::string message;
  /// For `run`: what to log as warnings once logging is set up (a token
  /// given on the command line, visible to other users).
  std::vector<std::string> warnings;
};

/// The process exit codes, named where main returns them and listed by
/// --help and docs/configuration.md.
namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int cannot_serve = 1;
inline constexpr int bad_configuration = 2;
}  // namespace exit_code

/// Looks up an environment variable; nullptr when unset.
using env_lookup = std::function<const char*(const char*)>;

/// Parses `args` (without the program name). Flags win over environment.
parse_result parse_config(const std::vector<std::string>& args, const env_lookup& env);

/// The secrets of `cfg` (every flag of the table that holds one), for
/// SIGHUP to read their files again; copies share their values with `cfg`.
std::vector<secret> secrets_of(config& cfg);

/// What the flag table says about one flag, in words: the source of
/// --help, `probe --help` and docs/configuration.md.
struct flag_description {
  std::string name;        // "--port"
  std::string env;         // "HTTP_SERVER_PORT"; empty: none
  std::string value_hint;  // "PORT"; empty: a switch
  std::string help;
  std::string default_value;  // "8080", "none", "number of CPUs"
  std::string range;          // "0 to 65535"; empty: any value but an empty one
  bool secret = false;        // also read from the file named by <env>_FILE
};

/// The server's flags, in the table's order.
std::vector<flag_description> server_flags();

/// Flags that print something and exit, and variables that are no flag's.
struct note_description {
  std::string name;
  std::string help;
};
std::vector<note_description> action_flags();
std::vector<note_description> identity_variables();

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

/// Loads cfg.config_file into cfg.checks; the error names the file and
/// the field.
boost::system::result<void, std::string> load_config_file(config& cfg);

/// The effective configuration as indented JSON (tokens only as set or
/// not), for `--print-config`: what an operator or a manifest test checks.
std::string effective_config_json(const config& cfg, const std::vector<std::string>& routes);

using util::format_duration;
using util::parse_duration;

}  // namespace badges_health::app
