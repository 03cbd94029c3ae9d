// Flag table, environment fallbacks and validation. CLI11 reads the command
// line; each flag's validator gives a bad value the same one-line message
// whether it came from the flag or from its environment variable.
#include "badges_health/app/config.hpp"

#include "badges_health/app/checks_file.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <thread>
#include <type_traits>

namespace badges_health::app {
namespace {

using std::chrono::milliseconds;

std::string single_quoted(std::string_view v) { return "'" + std::string(v) + "'"; }

// Validators say what was expected in the words the README quotes, and may
// rewrite the text into what CLI11 then converts to the field's type.

CLI::Validator non_empty() {
  return {
      [](std::string& v) { return v.empty() ? std::string("must not be empty") : std::string(); },
      "TEXT"};
}

// Rewritten as plain decimal: CLI11 converts with strtoull in base 0, which
// would read a leading 0 as octal.
CLI::Validator integer_between(std::uint64_t min, std::uint64_t max) {
  return {[min, max](std::string& v) -> std::string {
            std::uint64_t n = 0;
            const auto r = std::from_chars(v.data(), v.data() + v.size(), n);
            if (r.ec != std::errc{} || r.ptr != v.data() + v.size() || n < min || n > max) {
              return "expected an integer between " + std::to_string(min) + " and " +
                     std::to_string(max) + ", got " + single_quoted(v);
            }
            v = std::to_string(n);
            return {};
          },
          "INT"};
}

CLI::Validator log_level_name() {
  return {[](std::string& v) -> std::string {
            static const std::vector<std::string_view> levels = {
                "trace", "debug", "info", "warn", "error", "critical", "off"};
            if (std::find(levels.begin(), levels.end(), v) != levels.end()) return {};
            return "expected one of trace, debug, info, warn, error, critical, off, got " +
                   single_quoted(v);
          },
          "LEVEL"};
}

// Rewritten as the enum's number, which is how CLI11 converts an enum.
CLI::Validator log_format_name() {
  return {[](std::string& v) -> std::string {
            if (v == "text") {
              v = std::to_string(static_cast<int>(log_format::text));
            } else if (v == "json") {
              v = std::to_string(static_cast<int>(log_format::json));
            } else {
              return "expected text or json, got " + single_quoted(v);
            }
            return {};
          },
          "FORMAT"};
}

// A weight in percent, 0 to 100, with or without the `%` HAProxy writes;
// rewritten as the bare number.
CLI::Validator percent() {
  return {[](std::string& v) -> std::string {
            std::string digits = v;
            if (!digits.empty() && digits.back() == '%') digits.pop_back();
            unsigned n = 0;
            const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), n);
            if (digits.empty() || r.ec != std::errc{} || r.ptr != digits.data() + digits.size() ||
                n > 100) {
              return "expected a percentage between 0 and 100 (50 or 50%), got " + single_quoted(v);
            }
            v = std::to_string(n);
            return {};
          },
          "PERCENT"};
}

// CLI11 converts these words itself; it would also take others (`enable`,
// `t`, `2`) that the README does not promise.
CLI::Validator switch_value() {
  return {[](std::string& v) -> std::string {
            static const std::vector<std::string_view> words = {"true",  "1", "yes", "on",
                                                                "false", "0", "no",  "off"};
            if (std::find(words.begin(), words.end(), v) != words.end()) return {};
            return "expected true or false, got " + single_quoted(v);
          },
          "BOOL"};
}

// Rewritten as a number of milliseconds, which CLI11 converts.
CLI::Validator duration(milliseconds min, std::string too_small) {
  return {[min, too_small = std::move(too_small)](std::string& v) -> std::string {
            const auto d = parse_duration(v);
            if (!d) return "expected a duration such as 250ms, 5s or 2m, got " + single_quoted(v);
            if (*d < min) return too_small + ", got " + single_quoted(v);
            v = std::to_string(d->count());
            return {};
          },
          "DURATION"};
}

CLI::Validator duration_at_least(milliseconds min) {
  return duration(min, "must be at least " + format_duration(min));
}

CLI::Validator positive_duration() {
  return duration(milliseconds{1}, "must be greater than zero");
}

template <typename T>
constexpr bool is_optional = false;
template <typename T>
constexpr bool is_optional<std::optional<T>> = true;

// Adds the CLI11 option that converts into `field`.
template <typename T>
CLI::Option* add_field(CLI::App& app, const std::string& name, T& field) {
  if constexpr (std::is_same_v<T, bool>) {
    return app.add_flag(name, field);
  } else if constexpr (std::is_same_v<T, milliseconds>) {
    return app.add_option<milliseconds, milliseconds::rep>(name, field);
  } else if constexpr (is_optional<T>) {
    // Unset until given (a feature that is off by default).
    using value_type = typename T::value_type;
    return app.add_option_function<value_type>(name, [&field](const value_type& v) { field = v; });
  } else {
    return app.add_option(name, field);
  }
}

template <auto member>
CLI::Option* config_field(CLI::App& app, const std::string& name, config& c) {
  return add_field(app, name, c.*member);
}

template <auto member>
CLI::Option* server_field(CLI::App& app, const std::string& name, config& c) {
  return add_field(app, name, c.server.*member);
}

struct flag {
  std::string_view name;        // as typed: "--port"
  std::string_view env;         // empty: no environment variable
  std::string_view value_hint;  // empty: a switch
  std::string_view help;
  CLI::Validator validator;
  // Adds the option bound to its field of the config.
  CLI::Option* (*bind)(CLI::App&, const std::string& name, config&);
};

using http::server_options;

// The one list of flags: the parser, the environment fallbacks and --help.
const std::vector<flag>& flags() {
  static const std::vector<flag> table = {
      {"--host", "HTTP_SERVER_HOST", "ADDR", "address to listen on (IPv4, IPv6 or a name)",
       non_empty(), server_field<&server_options::host>},
      {"--port", "HTTP_SERVER_PORT", "PORT", "TCP port; 0 picks a free one (the log says which)",
       integer_between(0, 65535), server_field<&server_options::port>},
      {"--threads", "THREADS", "N", "worker threads (default: number of CPUs)",
       integer_between(1, 256), server_field<&server_options::threads>},
      {"--log-level", "LOG_LEVEL", "LEVEL", "trace, debug, info, warn, error, critical or off",
       log_level_name(), config_field<&config::log_level>},
      {"--log-format", "LOG_FORMAT", "FORMAT", "text or json (one JSON object per line)",
       log_format_name(), config_field<&config::format>},
      {"--access-log", "ACCESS_LOG", "", "log every request (off by default)", switch_value(),
       server_field<&server_options::access_log>},
      {"--drain-delay", "DRAIN_DELAY", "DURATION",
       "after SIGTERM, keep serving (reporting down) this long before closing",
       duration_at_least(milliseconds{0}), config_field<&config::drain_delay>},
      {"--shutdown-timeout", "SHUTDOWN_TIMEOUT", "DURATION",
       "upper bound on the whole shutdown, drain delay included",
       duration_at_least(milliseconds{1}), config_field<&config::shutdown_timeout>},
      {"--request-timeout", "REQUEST_TIMEOUT", "DURATION", "budget for receiving one whole request",
       positive_duration(), server_field<&server_options::request_timeout>},
      {"--idle-timeout", "IDLE_TIMEOUT", "DURATION",
       "how long a keep-alive connection may wait for its next request", positive_duration(),
       server_field<&server_options::idle_timeout>},
      {"--write-timeout", "WRITE_TIMEOUT", "DURATION",
       "budget for writing one batch of responses to a client", positive_duration(),
       server_field<&server_options::write_timeout>},
      {"--max-header-bytes", "MAX_HEADER_BYTES", "BYTES",
       "largest request line plus header block (431 above it)", integer_between(256, 1024 * 1024),
       server_field<&server_options::max_header_bytes>},
      {"--max-target-bytes", "MAX_TARGET_BYTES", "BYTES", "longest request target (414 above it)",
       integer_between(16, 1024 * 1024), server_field<&server_options::max_target_bytes>},
      {"--max-connections", "MAX_CONNECTIONS", "N",
       "open connections above which new ones are refused", integer_between(1, 10'000'000),
       server_field<&server_options::max_connections>},
      {"--max-concurrent-streams", "MAX_CONCURRENT_STREAMS", "N",
       "HTTP/2 streams a client may have open on one connection", integer_between(1, 10'000),
       server_field<&server_options::max_concurrent_streams>},
      {"--config", "CONFIG_FILE", "PATH",
       "JSON file declaring dependency checks (SIGHUP re-reads it)", non_empty(),
       config_field<&config::config_file>},
      {"--details-token", "DETAILS_TOKEN", "TOKEN",
       "bearer token required for /status?verbose=true", non_empty(),
       config_field<&config::details_token>},
      {"--metrics-token", "METRICS_TOKEN", "TOKEN", "bearer token required for /metrics",
       non_empty(), config_field<&config::metrics_token>},
      {"--agent-port", "AGENT_PORT", "PORT",
       "HAProxy agent-check port on the same host (off by default; 0 picks a free one)",
       integer_between(0, 65535), config_field<&config::agent_port>},
      {"--agent-degraded-weight", "AGENT_DEGRADED_WEIGHT", "PERCENT",
       "weight the agent reports while degraded (default 50%)", percent(),
       config_field<&config::agent_degraded_weight>},
      {"--grpc-unavailable-when-not-serving", "GRPC_UNAVAILABLE_WHEN_NOT_SERVING", "",
       "gRPC health: answer NOT_SERVING as grpc-status 14 UNAVAILABLE (for AWS ALB)",
       switch_value(), server_field<&server_options::grpc_unavailable_when_not_serving>},
      // The check engine's trust flags (see docs/checks.md).
      {"--admin-token", "BADGES_HEALTH_ADMIN_TOKEN", "TOKEN",
       "bearer token for reports to ttl checks (PUT /checks/{name}); also read from the file "
       "named by BADGES_HEALTH_ADMIN_TOKEN_FILE",
       non_empty(), config_field<&config::admin_token>},
      {"--allow-exec-checks", "BADGES_HEALTH_ALLOW_EXEC_CHECKS", "",
       "let the checks file run commands (exec checks)", switch_value(),
       config_field<&config::allow_exec_checks>},
      {"--max-exec-checks", "BADGES_HEALTH_MAX_EXEC_CHECKS", "N",
       "commands exec checks may run at once (default 8)", integer_between(1, 1024),
       config_field<&config::max_exec_checks>},
  };
  return table;
}

}  // namespace

command_line read_command_line(CLI::App& app, const std::vector<std::string>& args) {
  using action = parse_result::action;
  // CLI11's own help flag is acted on only after every value has been
  // checked; ours answers as soon as it is read, so a bad value elsewhere
  // does not hide the help.
  app.set_help_flag();
  app.add_flag_callback("-h,--help", [] { throw CLI::CallForHelp(); });
  for (CLI::Option* opt : app.get_options()) {
    opt->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    if (opt->check_name("--help") || opt == app.get_version_ptr()) opt->trigger_on_parse();
  }
  // Reported below in our words, naming the first.
  app.allow_extras();

  // CLI11 reads `--name=` as `--name` and takes the next argument as its
  // value (`--details-token= --access-log` would make "--access-log" the
  // token); passed as an empty value, the flag's validator rejects it by name.
  std::vector<std::string> reversed;  // CLI11 consumes its arguments from the back
  reversed.reserve(args.size());
  for (auto it = args.rbegin(); it != args.rend(); ++it) {
    const std::string& arg = *it;
    if (arg.size() < 4 || !arg.starts_with("--") || arg.find('=') != arg.size() - 1) {
      reversed.push_back(arg);
      continue;
    }
    std::string name = arg.substr(0, arg.size() - 1);
    const CLI::Option* opt = app.get_option_no_throw(name);
    if (opt != nullptr && opt->get_items_expected_max() == 0) {
      // A switch has no value to pass empty (CLI11 would read it as on).
      return {action::error, name + ": expected true or false, got ''"};
    }
    reversed.emplace_back();
    reversed.push_back(std::move(name));
  }

  try {
    app.parse(std::move(reversed));
  } catch (const CLI::CallForHelp&) {
    return {action::help, {}};
  } catch (const CLI::CallForVersion&) {
    return {action::version, {}};
  } catch (const CLI::ArgumentMismatch& e) {
    // A flag that takes a value came last: CLI11's message opens with its name.
    const std::string what = e.what();
    return {action::error, what.substr(0, what.find(':')) + ": missing value"};
  } catch (const CLI::ParseError& e) {
    // A validator's refusal, already "--flag: problem".
    return {action::error, e.what()};
  }

  if (const auto extra = app.remaining(); !extra.empty()) {
    const std::string& first = extra.front();
    if (first.starts_with("--")) {
      return {action::error, "unknown flag " + first.substr(0, first.find('=')) + " (see --help)"};
    }
    return {action::error, "unexpected argument " + single_quoted(first)};
  }
  return {};
}

health::read_options check_read_options(const config& cfg) {
  return {.allow_exec = cfg.allow_exec_checks, .accept_reports = !cfg.admin_token.empty()};
}

std::string load_config_file(config& cfg) {
  if (cfg.config_file.empty()) return {};
  try {
    cfg.checks = load_checks_file(cfg.config_file, process_environment(), check_read_options(cfg));
  } catch (const config_error& e) {
    return e.what();
  }
  return {};
}

std::string usage() {
  std::ostringstream out;
  out << "Usage: badges-health [FLAGS]\n"
         "       badges-health probe [--url URL] [--timeout DURATION]\n"
         "\n"
         "Answers the health probes of the Decentraland Badges API:\n"
         "GET /status, /livez, /readyz. Every flag also reads the named\n"
         "environment variable; the flag wins. Durations: 250ms, 5s, 2m, or\n"
         "a number of seconds.\n"
         "\n"
         "Flags:\n";
  for (const auto& f : flags()) {
    std::string left = "  " + std::string(f.name);
    if (!f.value_hint.empty()) left += " " + std::string(f.value_hint);
    if (left.size() < 30) left.resize(30, ' ');
    out << left << f.help;
    if (!f.env.empty()) out << " [" << f.env << "]";
    out << "\n";
  }
  out << "  --print-config              check the flags, environment and checks file, print the\n"
         "                              effective configuration as JSON and exit\n"
         "  --help                      print this text and exit\n"
         "  --version                   print the version and exit\n"
         "\n"
         "Exit codes: 0 after a clean stop (SIGTERM, SIGINT), 1 when it cannot\n"
         "listen, 2 for a bad flag or environment value.\n";
  return out.str();
}

parse_result parse_config(const std::vector<std::string>& args, const env_lookup& env) {
  parse_result result;
  config& c = result.cfg;
  c.server.threads = std::max(1u, std::thread::hardware_concurrency());
  const auto fail = [&](std::string message) {
    result.what = parse_result::action::error;
    result.message = std::move(message);
    return result;
  };

  if (env) {
    if (const char* v = env("CURRENT_VERSION"); v != nullptr && *v != '\0') c.version = v;
    if (const char* v = env("COMMIT_HASH"); v != nullptr && *v != '\0') c.commit_hash = v;
  }

  CLI::App app;
  bool print_config = false;
  app.add_flag("--print-config", print_config);
  app.set_version_flag("--version", std::string(BADGES_HEALTH_VERSION));
  std::vector<CLI::Option*> options;
  for (const flag& f : flags()) {
    options.push_back(f.bind(app, std::string(f.name), c)->transform(f.validator));
  }
  // --help and --version win over anything, even a malformed variable.
  if (command_line read = read_command_line(app, args); read.what != parse_result::action::run) {
    result.what = read.what;
    result.message = std::move(read.message);
    return result;
  }

  // A variable stands in for a flag not given; a given flag replaces it,
  // even a malformed one.
  for (std::size_t i = 0; i < options.size(); ++i) {
    const flag& f = flags()[i];
    if (f.env.empty() || !env || options[i]->count() > 0) continue;
    const char* value = env(std::string(f.env).c_str());
    if (value == nullptr) continue;
    const std::string label = std::string(f.env) + " (environment): ";
    if (auto err = f.validator(std::string(value)); !err.empty()) return fail(label + err);
    try {
      options[i]->add_result(value);
      options[i]->run_callback();
    } catch (const CLI::Error& e) {
      return fail(label + e.what());
    }
  }

  // The admin token from a file (a mounted secret) when neither the flag
  // nor its variable gave one.
  if (c.admin_token.empty() && env) {
    if (const char* file = env("BADGES_HEALTH_ADMIN_TOKEN_FILE"); file != nullptr) {
      const std::string label = "BADGES_HEALTH_ADMIN_TOKEN_FILE (environment): ";
      std::ifstream in(file);
      if (!in) return fail(label + "cannot read '" + file + "'");
      std::getline(in, c.admin_token);
      if (!c.admin_token.empty() && c.admin_token.back() == '\r') c.admin_token.pop_back();
      if (c.admin_token.empty()) return fail(label + "'" + file + "' holds no token");
    }
  }

  // A lowered header limit bounds the default target limit; a target limit
  // the operator set (by flag or variable: both are results of the option)
  // above the header limit is a contradiction.
  const bool target_set = app.get_option("--max-target-bytes")->count() > 0;
  if (!target_set)
    c.server.max_target_bytes = std::min(c.server.max_target_bytes, c.server.max_header_bytes);
  if (c.server.max_target_bytes > c.server.max_header_bytes) {
    return fail("--max-target-bytes: must not exceed --max-header-bytes (" +
                std::to_string(c.server.max_header_bytes) + ")");
  }
  if (c.agent_port && *c.agent_port != 0 && *c.agent_port == c.server.port) {
    return fail("--agent-port: must differ from --port (" + std::to_string(c.server.port) + ")");
  }
  if (c.drain_delay >= c.shutdown_timeout) {
    return fail("--drain-delay: must be less than --shutdown-timeout (" +
                format_duration(c.shutdown_timeout) + ")");
  }
  if (print_config) result.what = parse_result::action::print_config;
  return result;
}

std::string effective_config_json(const config& c, const std::vector<std::string>& routes) {
  const auto ms = [](std::chrono::milliseconds d) { return d.count(); };
  const nlohmann::ordered_json agent_port =
      c.agent_port ? nlohmann::ordered_json(*c.agent_port) : nlohmann::ordered_json(nullptr);
  nlohmann::ordered_json checks = nlohmann::ordered_json::array();
  for (const auto& check : c.checks) {
    nlohmann::ordered_json entry = {{"name", check.name},
                                    {"type", check.type().name},
                                    {"critical", check.critical},
                                    {"intervalMs", ms(check.interval)},
                                    {"timeoutMs", ms(check.timeout)}};
    // The type's own fields, secrets never shown.
    check.settings->describe(entry);
    checks.push_back(std::move(entry));
  }
  const nlohmann::ordered_json out = {
      {"host", c.server.host},
      {"port", c.server.port},
      {"threads", c.server.threads},
      {"logLevel", c.log_level},
      {"logFormat", c.format == log_format::json ? "json" : "text"},
      {"accessLog", c.server.access_log},
      {"drainDelayMs", ms(c.drain_delay)},
      {"shutdownTimeoutMs", ms(c.shutdown_timeout)},
      {"requestTimeoutMs", ms(c.server.request_timeout)},
      {"idleTimeoutMs", ms(c.server.idle_timeout)},
      {"writeTimeoutMs", ms(c.server.write_timeout)},
      {"maxHeaderBytes", c.server.max_header_bytes},
      {"maxTargetBytes", c.server.max_target_bytes},
      {"maxConnections", c.server.max_connections},
      {"maxConcurrentStreams", c.server.max_concurrent_streams},
      {"grpcUnavailableWhenNotServing", c.server.grpc_unavailable_when_not_serving},
      // null when the agent port is off.
      {"agentPort", agent_port},
      {"agentDegradedWeight", c.agent_degraded_weight},
      {"configFile", c.config_file},
      {"checks", std::move(checks)},
      // Whether a token is set, never the token itself.
      {"detailsTokenSet", !c.details_token.empty()},
      {"metricsTokenSet", !c.metrics_token.empty()},
      {"adminTokenSet", !c.admin_token.empty()},
      {"allowExecChecks", c.allow_exec_checks},
      {"maxExecChecks", c.max_exec_checks},
      {"version", c.version},
      {"commitHash", c.commit_hash},
      {"routes", routes}};
  return out.dump(2) + "\n";
}

}  // namespace badges_health::app
