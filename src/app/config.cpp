// Flag table, environment fallbacks and validation.
#include "badges_health/app/config.hpp"

#include "badges_health/app/checks_file.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

namespace badges_health::app {
namespace {

using std::chrono::milliseconds;

// A setter validates and stores one value; it returns an error text (what
// was expected) or an empty string.
using setter = std::function<std::string(config&, std::string_view)>;

struct flag {
  std::string_view name;  // without "--"
  std::string_view env;   // empty: no environment variable
  std::string_view value_hint;
  std::string_view help;
  bool is_switch;  // takes no value (may take =true/=false)
  setter set;
};

template <typename Int>
std::optional<Int> parse_int(std::string_view s) {
  Int v{};
  if (s.empty()) return std::nullopt;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc{} || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<bool> parse_bool(std::string_view s) {
  if (s == "true" || s == "1" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "0" || s == "no" || s == "off") return false;
  return std::nullopt;
}

std::string quoted(std::string_view v) { return "'" + std::string(v) + "'"; }

setter duration_setter(milliseconds config::*member, milliseconds min) {
  return [member, min](config& c, std::string_view v) -> std::string {
    auto d = parse_duration(v);
    if (!d) return "expected a duration such as 250ms, 5s or 2m, got " + quoted(v);
    if (*d < min) return "must be at least " + format_duration(min) + ", got " + quoted(v);
    c.*member = *d;
    return {};
  };
}

setter server_duration_setter(milliseconds http::server_options::*member) {
  return [member](config& c, std::string_view v) -> std::string {
    auto d = parse_duration(v);
    if (!d) return "expected a duration such as 250ms, 5s or 2m, got " + quoted(v);
    if (d->count() <= 0) return "must be greater than zero, got " + quoted(v);
    c.server.*member = *d;
    return {};
  };
}

setter size_setter(std::size_t http::server_options::*member, std::size_t min, std::size_t max) {
  return [member, min, max](config& c, std::string_view v) -> std::string {
    auto n = parse_int<std::size_t>(v);
    if (!n || *n < min || *n > max) {
      return "expected an integer between " + std::to_string(min) + " and " + std::to_string(max) +
             ", got " + quoted(v);
    }
    c.server.*member = *n;
    return {};
  };
}

setter string_setter(std::string config::*member) {
  return [member](config& c, std::string_view v) -> std::string {
    if (v.empty()) return "must not be empty";
    c.*member = std::string(v);
    return {};
  };
}

const std::vector<flag>& flags() {
  static const std::vector<flag> table = {
      {"host", "HTTP_SERVER_HOST", "ADDR", "address to listen on (IPv4, IPv6 or a name)", false,
       [](config& c, std::string_view v) -> std::string {
         if (v.empty()) return "must not be empty";
         c.server.host = std::string(v);
         return {};
       }},
      {"port", "HTTP_SERVER_PORT", "PORT", "TCP port; 0 picks a free one (the log says which)",
       false,
       [](config& c, std::string_view v) -> std::string {
         auto n = parse_int<unsigned>(v);
         if (!n || *n > 65535) return "expected an integer between 0 and 65535, got " + quoted(v);
         c.server.port = static_cast<unsigned short>(*n);
         return {};
       }},
      {"threads", "THREADS", "N", "worker threads (default: number of CPUs)", false,
       [](config& c, std::string_view v) -> std::string {
         auto n = parse_int<unsigned>(v);
         if (!n || *n < 1 || *n > 256)
           return "expected an integer between 1 and 256, got " + quoted(v);
         c.server.threads = *n;
         return {};
       }},
      {"log-level", "LOG_LEVEL", "LEVEL", "trace, debug, info, warn, error, critical or off", false,
       [](config& c, std::string_view v) -> std::string {
         static const std::vector<std::string_view> levels = {"trace", "debug",    "info", "warn",
                                                              "error", "critical", "off"};
         if (std::find(levels.begin(), levels.end(), v) == levels.end()) {
           return "expected one of trace, debug, info, warn, error, critical, off, got " +
                  quoted(v);
         }
         c.log_level = std::string(v);
         return {};
       }},
      {"log-format", "LOG_FORMAT", "FORMAT", "text or json (one JSON object per line)", false,
       [](config& c, std::string_view v) -> std::string {
         if (v == "text") {
           c.format = log_format::text;
         } else if (v == "json") {
           c.format = log_format::json;
         } else {
           return "expected text or json, got " + quoted(v);
         }
         return {};
       }},
      {"access-log", "ACCESS_LOG", "", "log every request (off by default)", true,
       [](config& c, std::string_view v) -> std::string {
         auto b = parse_bool(v);
         if (!b) return "expected true or false, got " + quoted(v);
         c.server.access_log = *b;
         return {};
       }},
      {"drain-delay", "DRAIN_DELAY", "DURATION",
       "after SIGTERM, keep serving (reporting down) this long before closing", false,
       duration_setter(&config::drain_delay, milliseconds{0})},
      {"shutdown-timeout", "SHUTDOWN_TIMEOUT", "DURATION",
       "upper bound on the whole shutdown, drain delay included", false,
       duration_setter(&config::shutdown_timeout, milliseconds{1})},
      {"request-timeout", "REQUEST_TIMEOUT", "DURATION", "budget for receiving one whole request",
       false, server_duration_setter(&http::server_options::request_timeout)},
      {"idle-timeout", "IDLE_TIMEOUT", "DURATION",
       "how long a keep-alive connection may wait for its next request", false,
       server_duration_setter(&http::server_options::idle_timeout)},
      {"write-timeout", "WRITE_TIMEOUT", "DURATION",
       "budget for writing one batch of responses to a client", false,
       server_duration_setter(&http::server_options::write_timeout)},
      {"max-header-bytes", "MAX_HEADER_BYTES", "BYTES",
       "largest request line plus header block (431 above it)", false,
       size_setter(&http::server_options::max_header_bytes, 256, 1024 * 1024)},
      {"max-target-bytes", "MAX_TARGET_BYTES", "BYTES", "longest request target (414 above it)",
       false, size_setter(&http::server_options::max_target_bytes, 16, 1024 * 1024)},
      {"max-connections", "MAX_CONNECTIONS", "N",
       "open connections above which new ones are refused", false,
       size_setter(&http::server_options::max_connections, 1, 10'000'000)},
      {"config", "CONFIG_FILE", "PATH",
       "JSON file declaring dependency checks (SIGHUP re-reads it)", false,
       string_setter(&config::config_file)},
      {"details-token", "DETAILS_TOKEN", "TOKEN", "bearer token required for /status?verbose=true",
       false, string_setter(&config::details_token)},
      {"metrics-token", "METRICS_TOKEN", "TOKEN", "bearer token required for /metrics", false,
       string_setter(&config::metrics_token)},
  };
  return table;
}

const flag* find_flag(std::string_view name) {
  for (const auto& f : flags()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

}  // namespace

std::string load_config_file(config& cfg) {
  if (cfg.config_file.empty()) return {};
  try {
    cfg.checks = load_checks_file(cfg.config_file);
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
    std::string left = "  --" + std::string(f.name);
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
  result.cfg.server.threads = std::max(1u, std::thread::hardware_concurrency());
  const auto fail = [&](std::string message) {
    result.what = parse_result::action::error;
    result.message = std::move(message);
    return result;
  };

  if (env) {
    if (const char* v = env("CURRENT_VERSION"); v != nullptr && *v != '\0') result.cfg.version = v;
    if (const char* v = env("COMMIT_HASH"); v != nullptr && *v != '\0') result.cfg.commit_hash = v;
  }

  // Read the command line first: --help and --version win over anything,
  // and a flag replaces its environment variable (even a malformed one).
  std::vector<std::pair<const flag*, std::string>> given;
  bool print_config = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    if (arg == "--print-config") {
      print_config = true;
      continue;
    }
    if (arg == "--help" || arg == "-h") {
      result.what = parse_result::action::help;
      return result;
    }
    if (arg == "--version") {
      result.what = parse_result::action::version;
      return result;
    }
    if (arg.substr(0, 2) != "--") return fail("unexpected argument " + quoted(arg));
    arg.remove_prefix(2);
    std::optional<std::string_view> value;
    if (const auto eq = arg.find('='); eq != std::string_view::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
    }
    const flag* f = find_flag(arg);
    if (f == nullptr) return fail("unknown flag --" + std::string(arg) + " (see --help)");
    if (!value) {
      if (f->is_switch) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return fail("--" + std::string(f->name) + ": missing value");
      }
    }
    given.emplace_back(f, std::string(*value));
  }

  for (const auto& f : flags()) {
    if (f.env.empty() || !env) continue;
    const bool overridden =
        std::any_of(given.begin(), given.end(), [&](const auto& g) { return g.first == &f; });
    const char* value = overridden ? nullptr : env(std::string(f.env).c_str());
    if (value == nullptr) continue;
    if (auto err = f.set(result.cfg, value); !err.empty()) {
      return fail(std::string(f.env) + " (environment): " + err);
    }
  }
  for (const auto& [f, value] : given) {
    if (auto err = f->set(result.cfg, value); !err.empty()) {
      return fail("--" + std::string(f->name) + ": " + err);
    }
  }

  config& c = result.cfg;
  // A lowered header limit bounds the default target limit; a target limit
  // the operator set above the header limit is a contradiction.
  const bool target_set =
      std::any_of(given.begin(), given.end(),
                  [](const auto& g) { return g.first->name == "max-target-bytes"; }) ||
      (env && env("MAX_TARGET_BYTES") != nullptr);
  if (!target_set)
    c.server.max_target_bytes = std::min(c.server.max_target_bytes, c.server.max_header_bytes);
  if (c.server.max_target_bytes > c.server.max_header_bytes) {
    return fail("--max-target-bytes: must not exceed --max-header-bytes (" +
                std::to_string(c.server.max_header_bytes) + ")");
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
  nlohmann::ordered_json checks = nlohmann::ordered_json::array();
  for (const auto& check : c.checks) {
    checks.push_back({{"name", check.name},
                      {"critical", check.critical},
                      {"intervalMs", ms(check.interval)},
                      {"timeoutMs", ms(check.timeout)}});
  }
  const nlohmann::ordered_json out = {{"host", c.server.host},
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
                                      {"configFile", c.config_file},
                                      {"checks", std::move(checks)},
                                      // Whether a token is set, never the token itself.
                                      {"detailsTokenSet", !c.details_token.empty()},
                                      {"metricsTokenSet", !c.metrics_token.empty()},
                                      {"version", c.version},
                                      {"commitHash", c.commit_hash},
                                      {"routes", routes}};
  return out.dump(2) + "\n";
}

}  // namespace badges_health::app
