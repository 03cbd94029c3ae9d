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

// A value rule: the validator, which says what was expected in the words
// --help uses and may rewrite the text into what CLI11 then converts to the
// field's type, and the range or choices as --help and the reference show
// them.
struct value_rule {
  CLI::Validator validator;
  std::string range;
};

value_rule non_empty() {
  return {
      {[](std::string& v) { return v.empty() ? std::string("must not be empty") : std::string(); },
       "TEXT"},
      {}};
}

// Rewritten as plain decimal: CLI11 converts with strtoull in base 0, which
// would read a leading 0 as octal.
value_rule integer_between(std::uint64_t min, std::uint64_t max) {
  const std::string range = std::to_string(min) + " to " + std::to_string(max);
  return {{[min, max, range](std::string& v) -> std::string {
             std::uint64_t n = 0;
             const auto r = std::from_chars(v.data(), v.data() + v.size(), n);
             if (r.ec != std::errc{} || r.ptr != v.data() + v.size() || n < min || n > max) {
               return "expected an integer between " + std::to_string(min) + " and " +
                      std::to_string(max) + ", got " + single_quoted(v);
             }
             v = std::to_string(n);
             return {};
           },
           "INT"},
          range};
}

std::string joined(const std::vector<std::string_view>& words, std::string_view last_separator) {
  std::string out;
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (i != 0) out += i + 1 == words.size() ? last_separator : ", ";
    out += words[i];
  }
  return out;
}

value_rule log_level_name() {
  static const std::vector<std::string_view> levels = {"trace", "debug",    "info", "warn",
                                                       "error", "critical", "off"};
  const std::string choices = joined(levels, " or ");
  return {{[choices](std::string& v) -> std::string {
             if (std::find(levels.begin(), levels.end(), v) != levels.end()) return {};
             return "expected one of " + joined(levels, ", ") + ", got " + single_quoted(v);
           },
           "LEVEL"},
          choices};
}

// Rewritten as the enum's number, which is how CLI11 converts an enum.
value_rule log_format_name() {
  return {{[](std::string& v) -> std::string {
             if (v == "text") {
               v = std::to_string(static_cast<int>(log_format::text));
             } else if (v == "json") {
               v = std::to_string(static_cast<int>(log_format::json));
             } else {
               return "expected text or json, got " + single_quoted(v);
             }
             return {};
           },
           "FORMAT"},
          "text or json"};
}

// A weight in percent, 0 to 100, with or without the `%` HAProxy writes;
// rewritten as the bare number.
value_rule percent() {
  return {{[](std::string& v) -> std::string {
             std::string digits = v;
             if (!digits.empty() && digits.back() == '%') digits.pop_back();
             unsigned n = 0;
             const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), n);
             if (digits.empty() || r.ec != std::errc{} || r.ptr != digits.data() + digits.size() ||
                 n > 100) {
               return "expected a percentage between 0 and 100 (50 or 50%), got " +
                      single_quoted(v);
             }
             v = std::to_string(n);
             return {};
           },
           "PERCENT"},
          "0 to 100 (percent, with or without %)"};
}

// CLI11 converts these words itself; it would also take others (`enable`,
// `t`, `2`) that the reference does not promise.
value_rule switch_value() {
  return {{[](std::string& v) -> std::string {
             static const std::vector<std::string_view> words = {"true",  "1", "yes", "on",
                                                                 "false", "0", "no",  "off"};
             if (std::find(words.begin(), words.end(), v) != words.end()) return {};
             return "expected true or false, got " + single_quoted(v);
           },
           "BOOL"},
          "true or false (also 1/0, yes/no, on/off)"};
}

// Rewritten as a number of milliseconds, which CLI11 converts.
value_rule duration(milliseconds min, std::string too_small, std::string range) {
  return {{[min, too_small = std::move(too_small)](std::string& v) -> std::string {
             const auto d = parse_duration(v);
             if (!d) return "expected a duration such as 250ms, 5s or 2m, got " + single_quoted(v);
             if (*d < min) return too_small + ", got " + single_quoted(v);
             v = std::to_string(d->count());
             return {};
           },
           "DURATION"},
          std::move(range)};
}

value_rule duration_at_least(milliseconds min) {
  return duration(min, "must be at least " + format_duration(min),
                  "at least " + format_duration(min));
}

value_rule positive_duration() {
  return duration(milliseconds{1}, "must be greater than zero", "above 0");
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
  } else if constexpr (std::is_same_v<T, secret>) {
    return app.add_option_function<std::string>(name,
                                                [&field](const std::string& v) { field = v; });
  } else if constexpr (is_optional<T>) {
    // Unset until given (a feature that is off by default).
    using value_type = typename T::value_type;
    return app.add_option_function<value_type>(name, [&field](const value_type& v) { field = v; });
  } else {
    return app.add_option(name, field);
  }
}

// A field's value in the words of --help and the reference.
template <typename T>
std::string shown(const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    return v ? "on" : "off";
  } else if constexpr (std::is_same_v<T, milliseconds>) {
    return format_duration(v);
  } else if constexpr (std::is_same_v<T, secret>) {
    return v.empty() ? "none" : "set";
  } else if constexpr (std::is_same_v<T, log_format>) {
    return v == log_format::json ? "json" : "text";
  } else if constexpr (is_optional<T>) {
    return v ? shown(*v) : "off";
  } else if constexpr (std::is_same_v<T, std::string>) {
    return v.empty() ? "none" : v;
  } else {
    return std::to_string(v);
  }
}

// How a row reaches its field of the config: CLI11's option, the value
// shown as the default, and the secret when the field is one.
struct binding {
  CLI::Option* (*bind)(CLI::App&, const std::string& name, config&);
  std::string (*show)(const config&);
  secret* (*secret_of)(config&);
};

template <class Field>
binding make_binding() {
  using T = std::remove_cvref_t<decltype(Field::get(std::declval<config&>()))>;
  secret* (*secret_of)(config&) = nullptr;
  if constexpr (std::is_same_v<T, secret>) {
    secret_of = [](config& c) { return &Field::get(c); };
  }
  return {[](CLI::App& app, const std::string& name, config& c) {
            return add_field(app, name, Field::get(c));
          },
          [](const config& c) { return shown(Field::get(c)); }, secret_of};
}

template <auto member>
struct config_member {
  static auto& get(config& c) { return c.*member; }
  static const auto& get(const config& c) { return c.*member; }
};

template <auto member>
struct server_member {
  static auto& get(config& c) { return c.server.*member; }
  static const auto& get(const config& c) { return c.server.*member; }
};

template <auto member>
binding config_field() {
  return make_binding<config_member<member>>();
}

template <auto member>
binding server_field() {
  return make_binding<server_member<member>>();
}

struct flag {
  std::string_view name;        // as typed: "--port"
  std::string_view value_hint;  // empty: a switch
  std::string_view help;
  value_rule rule;
  binding field;
  // The variable, when it is not BADGES_HEALTH_ and the flag's name
  // (Decentraland's own names).
  std::string_view env_override = {};
  // The default in words, when the default config's value depends on the
  // machine.
  std::string_view default_override = {};

  std::string env() const {
    if (!env_override.empty()) return std::string(env_override);
    std::string out = "BADGES_HEALTH_";
    for (char ch : name.substr(2)) {
      out.push_back(ch == '-' ? '_'
                              : static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
    }
    return out;
  }
  bool secret() const noexcept { return field.secret_of != nullptr; }
};

using http::server_options;

// The one list of flags: the parser, the environment fallbacks, --help and
// docs/configuration.md. A flag whose field is a `secret` also reads
// <variable>_FILE, which SIGHUP reads again.
const std::vector<flag>& flags() {
  static const std::vector<flag> table = {
      {"--host", "ADDR", "address to listen on (IPv4, IPv6 or a name)", non_empty(),
       server_field<&server_options::host>(), "HTTP_SERVER_HOST"},
      {"--port", "PORT", "TCP port; 0 picks a free one (the log says which)",
       integer_between(0, 65535), server_field<&server_options::port>(), "HTTP_SERVER_PORT"},
      {"--threads",
       "N",
       "worker threads, each with its own event loop and acceptor",
       integer_between(1, 256),
       server_field<&server_options::threads>(),
       {},
       "number of CPUs"},
      {"--log-level", "LEVEL", "least severe level logged", log_level_name(),
       config_field<&config::log_level>()},
      {"--log-format", "FORMAT", "text, or json for one JSON object per line", log_format_name(),
       config_field<&config::format>()},
      {"--access-log", "", "log every request (probes come every few seconds from every balancer)",
       switch_value(), server_field<&server_options::access_log>()},
      {"--drain-delay", "DURATION",
       "after SIGTERM, keep serving (reporting down) this long before closing",
       duration_at_least(milliseconds{0}), config_field<&config::drain_delay>()},
      {"--shutdown-timeout", "DURATION",
       "upper bound on the whole shutdown, drain delay included; above --drain-delay",
       duration_at_least(milliseconds{1}), config_field<&config::shutdown_timeout>()},
      {"--request-timeout", "DURATION", "budget for receiving one whole request",
       positive_duration(), server_field<&server_options::request_timeout>()},
      {"--idle-timeout", "DURATION",
       "how long a keep-alive connection may wait for its next request; keep it above the "
       "balancer's own idle timeout",
       positive_duration(), server_field<&server_options::idle_timeout>()},
      {"--write-timeout", "DURATION", "budget for writing one batch of responses to a client",
       positive_duration(), server_field<&server_options::write_timeout>()},
      {"--max-header-bytes", "BYTES", "largest request line plus header block (431 above it)",
       integer_between(256, 1024 * 1024), server_field<&server_options::max_header_bytes>()},
      {"--max-target-bytes", "BYTES",
       "longest request target (414 above it); at most --max-header-bytes",
       integer_between(16, 1024 * 1024), server_field<&server_options::max_target_bytes>()},
      {"--max-connections", "N", "open connections above which new ones get a 503 and are closed",
       integer_between(1, 10'000'000), server_field<&server_options::max_connections>()},
      {"--max-concurrent-streams", "N", "HTTP/2 streams a client may have open on one connection",
       integer_between(1, 10'000), server_field<&server_options::max_concurrent_streams>()},
      {"--config", "PATH", "JSON file declaring dependency checks (SIGHUP re-reads it)",
       non_empty(), config_field<&config::config_file>()},
      {"--details-token", "TOKEN", "bearer token required for /status?verbose=true", non_empty(),
       config_field<&config::details_token>()},
      {"--metrics-token", "TOKEN", "bearer token required for /metrics", non_empty(),
       config_field<&config::metrics_token>()},
      {"--agent-port", "PORT",
       "HAProxy agent-check port on the same host (off by default; 0 picks a free one)",
       integer_between(0, 65535), config_field<&config::agent_port>()},
      {"--agent-degraded-weight", "PERCENT", "weight the agent reports while degraded", percent(),
       config_field<&config::agent_degraded_weight>()},
      {"--grpc-unavailable-when-not-serving", "",
       "gRPC health: answer NOT_SERVING as grpc-status 14 UNAVAILABLE (for AWS ALB)",
       switch_value(), server_field<&server_options::grpc_unavailable_when_not_serving>()},
      {"--address-file", "PATH",
       "write the address the server listens on to PATH, where `badges-health probe` reads it "
       "(the image sets /tmp/badges-health.address)",
       non_empty(), config_field<&config::address_file>()},
      // The check engine's trust flags (see docs/checks.md).
      {"--admin-token", "TOKEN",
       "bearer token for reports to ttl checks (PUT /checks/{name}) and for /maintenance",
       non_empty(), config_field<&config::admin_token>()},
      {"--max-maintenance", "DURATION",
       "the longest maintenance PUT /maintenance may ask for (its \"for\")", positive_duration(),
       config_field<&config::max_maintenance>()},
      {"--allow-exec-checks", "", "let the checks file run commands (exec checks)", switch_value(),
       config_field<&config::allow_exec_checks>()},
      {"--max-exec-checks", "N", "commands exec checks may run at once", integer_between(1, 1024),
       config_field<&config::max_exec_checks>()},
  };
  return table;
}

// Kubernetes gives a pod <SERVICE>_PORT=tcp://ip:port for every Service in
// its namespace (unless enableServiceLinks is false); a refused value of
// that form says so.
std::string service_link_hint(std::string_view variable, std::string_view value) {
  constexpr std::string_view suffix = "_PORT";
  if (!value.starts_with("tcp://") || !variable.ends_with(suffix)) return {};
  std::string service;
  for (char ch : variable.substr(0, variable.size() - suffix.size())) {
    service.push_back(ch == '_' ? '-'
                                : static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
  }
  return " (Kubernetes sets " + std::string(variable) + " for a Service named " + service +
         "; set enableServiceLinks: false in the pod spec)";
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

boost::system::result<void, std::string> load_config_file(config& cfg) {
  if (cfg.config_file.empty()) return {};
  try {
    cfg.checks = load_checks_file(cfg.config_file, process_environment(), check_read_options(cfg));
  } catch (const config_error& e) {
    return std::string(e.what());
  }
  return {};
}

std::vector<flag_description> server_flags() {
  config defaults;
  std::vector<flag_description> out;
  for (const flag& f : flags()) {
    out.push_back(
        {std::string(f.name), f.env(), std::string(f.value_hint), std::string(f.help),
         f.default_override.empty() ? f.field.show(defaults) : std::string(f.default_override),
         f.rule.range, f.secret()});
  }
  return out;
}

std::vector<note_description> action_flags() {
  return {{"--print-config",
           "check the flags, environment, secret files and checks file as start-up would, print "
           "the effective configuration as JSON (tokens only as set or not) and exit"},
          {"--print-flag-reference",
           "print the configuration reference as Markdown (docs/configuration.md) and exit"},
          {"--help", "print the flags and exit"},
          {"--version", "print the version and exit"}};
}

std::vector<note_description> identity_variables() {
  return {{"CURRENT_VERSION",
           "version reported by verbose /status, / and badges_health_build_info (default: the "
           "build's version)"},
          {"COMMIT_HASH", "commit reported the same way (default: unknown)"}};
}

std::vector<secret> secrets_of(config& cfg) {
  std::vector<secret> out;
  for (const flag& f : flags()) {
    if (f.secret()) out.push_back(*f.field.secret_of(cfg));
  }
  return out;
}

parse_result parse_config(const std::vector<std::string>& args, const env_lookup& env) {
  parse_result result;
  config& c = result.cfg;
  c.server.threads = std::max(1u, std::thread::hardware_concurrency());
  const auto fail = [&](std::string message) {
    result.what = parse_result::action::error;
    result.message = std::move(message);
    result.warnings.clear();
    return result;
  };

  if (env) {
    if (const char* v = env("CURRENT_VERSION"); v != nullptr && *v != '\0') c.version = v;
    if (const char* v = env("COMMIT_HASH"); v != nullptr && *v != '\0') c.commit_hash = v;
  }

  CLI::App app;
  bool print_config = false;
  bool print_reference = false;
  app.add_flag("--print-config", print_config);
  app.add_flag("--print-flag-reference", print_reference);
  app.set_version_flag("--version", std::string(BADGES_HEALTH_VERSION));
  std::vector<CLI::Option*> options;
  for (const flag& f : flags()) {
    options.push_back(f.field.bind(app, std::string(f.name), c)->transform(f.rule.validator));
  }
  // --help and --version win over anything, even a malformed variable.
  if (command_line read = read_command_line(app, args); read.what != parse_result::action::run) {
    result.what = read.what;
    result.message = std::move(read.message);
    return result;
  }
  if (print_reference) {
    result.what = parse_result::action::print_flag_reference;
    return result;
  }

  // A variable stands in for a flag not given; a given flag replaces it,
  // even a malformed one.
  for (std::size_t i = 0; i < options.size(); ++i) {
    const flag& f = flags()[i];
    const std::string variable = f.env();
    if (options[i]->count() > 0) {
      if (f.secret()) {
        result.warnings.push_back(std::string(f.name) +
                                  " given on the command line is visible to other users of "
                                  "this machine (ps, /proc); set " +
                                  variable + " or " + variable + "_FILE instead");
      }
      continue;
    }
    if (!env) continue;
    const char* value = env(variable.c_str());
    const std::string file_variable = variable + "_FILE";
    const char* file = f.secret() ? env(file_variable.c_str()) : nullptr;
    if (file != nullptr) {
      if (value != nullptr) {
        return fail(variable + " and " + file_variable + " are both set (environment); set one");
      }
      auto read = secret::from_file(file, file_variable);
      if (!read) return fail(read.error().message);
      *f.field.secret_of(c) = std::move(*read);
      continue;
    }
    if (value == nullptr) continue;
    const std::string label = variable + " (environment): ";
    if (auto err = f.rule.validator(std::string(value)); !err.empty()) {
      return fail(label + err + service_link_hint(variable, value));
    }
    try {
      options[i]->add_result(value);
      options[i]->run_callback();
    } catch (const CLI::Error& e) {
      return fail(label + e.what());
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
  const auto optional_text = [](const std::string& v) {
    return v.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(v);
  };
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
      // Whether a token is set (and from which file), never the token itself.
      {"detailsTokenSet", !c.details_token.empty()},
      {"detailsTokenFile", optional_text(c.details_token.file())},
      {"metricsTokenSet", !c.metrics_token.empty()},
      {"metricsTokenFile", optional_text(c.metrics_token.file())},
      {"addressFile", optional_text(c.address_file)},
      {"adminTokenSet", !c.admin_token.empty()},
      {"adminTokenFile", optional_text(c.admin_token.file())},
      {"maxMaintenanceMs", ms(c.max_maintenance)},
      {"allowExecChecks", c.allow_exec_checks},
      {"maxExecChecks", c.max_exec_checks},
      {"version", c.version},
      {"commitHash", c.commit_hash},
      {"routes", routes}};
  return out.dump(2) + "\n";
}

}  // namespace badges_health::app
