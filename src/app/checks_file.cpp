// Validation of the checks file, field by field.
#include "badges_health/app/checks_file.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "badges_health/app/config.hpp"
#include "badges_health/app/http_url.hpp"
#include "badges_health/health/postgres_conninfo.hpp"

namespace badges_health::app {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw config_error(where + ": " + what);
}

std::string type_name(const json& v) { return v.type_name(); }

milliseconds read_duration(const json& v, const std::string& where) {
  std::optional<milliseconds> d;
  if (v.is_number() && v.get<double>() >= 0) {
    d = parse_duration(v.dump());
  } else if (v.is_string()) {
    d = parse_duration(v.get<std::string>());
  }
  if (!d)
    fail(where,
         "expected a duration such as \"250ms\", \"5s\" or a number of seconds, got " + v.dump());
  if (d->count() <= 0) fail(where, "must be greater than zero");
  return *d;
}

std::string read_string(const json& v, const std::string& where) {
  if (!v.is_string()) fail(where, "expected a string, got " + type_name(v));
  return v.get<std::string>();
}

// {"pointer": "/healthy", "equals": true}: a valid JSON Pointer and any
// JSON value, kept as text so that the spec stays plain data.
template <class Field>
health::check_spec::json_expectation read_expect_json(const json& v, const Field& field) {
  if (!v.is_object() || !v.contains("pointer") || !v.contains("equals") || v.size() != 2) {
    fail(field("expect_json"),
         "expected {\"pointer\": \"/member\", \"equals\": <JSON value>}, got " + v.dump());
  }
  const std::string pointer = read_string(v["pointer"], field("expect_json") + ".pointer");
  try {
    json::json_pointer{pointer};
  } catch (const json::exception&) {
    fail(field("expect_json") + ".pointer",
         "not a JSON Pointer (RFC 6901) such as \"/healthy\": \"" + pointer + "\"");
  }
  return {pointer, v["equals"].dump()};
}

bool read_bool(const json& v, const std::string& where) {
  if (!v.is_boolean()) fail(where, "expected true or false, got " + type_name(v));
  return v.get<bool>();
}

std::uint64_t read_uint(const json& v, const std::string& where, std::uint64_t min,
                        std::uint64_t max) {
  if (!v.is_number_integer() ||
      (v.is_number_integer() && !v.is_number_unsigned() && v.get<long long>() < 0)) {
    fail(where, "expected an integer between " + std::to_string(min) + " and " +
                    std::to_string(max) + ", got " + v.dump());
  }
  const auto n = v.get<std::uint64_t>();
  if (n < min || n > max) {
    fail(where, "expected an integer between " + std::to_string(min) + " and " +
                    std::to_string(max) + ", got " + v.dump());
  }
  return n;
}

bool variable_name_char(char c, bool first) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
         (!first && c >= '0' && c <= '9');
}

// `${NAME}` becomes the variable's value (not expanded again); `$${` is a
// literal `${`; any other `$` stays as it is.
std::string expand_variables(const std::string& text, const std::string& where,
                             const env_lookup& env) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text.compare(i, 3, "$${") == 0) {
      out.append("${");
      i += 2;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      out.push_back(text[i]);
      continue;
    }
    const std::size_t close = text.find('}', i + 2);
    const std::string name =
        close == std::string::npos ? std::string() : text.substr(i + 2, close - i - 2);
    bool valid = !name.empty();
    for (std::size_t k = 0; k < name.size(); ++k)
      valid = valid && variable_name_char(name[k], k == 0);
    if (!valid) {
      fail(where,
           "expected ${NAME} with NAME made of letters, digits and '_' (write $${ for a literal "
           "${)");
    }
    const char* value = env ? env(name.c_str()) : nullptr;
    if (value == nullptr) fail(where, "environment variable " + name + " is not set");
    out.append(value);
    i = close;
  }
  return out;
}

void expand_variables(json& v, const std::string& where, const env_lookup& env) {
  if (v.is_string()) {
    const auto& text = v.get_ref<const std::string&>();
    if (text.find("${") != std::string::npos) v = expand_variables(text, where, env);
  } else if (v.is_array()) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      expand_variables(v[i], where + "[" + std::to_string(i) + "]", env);
    }
  } else if (v.is_object()) {
    for (auto& [key, value] : v.items()) {
      expand_variables(value, where.empty() ? key : where + "." + key, env);
    }
  }
}

/// A port as a number, or as a string of digits (what `${PORT}` gives).
unsigned short read_port(const json& v, const std::string& where) {
  if (v.is_string()) {
    const auto& text = v.get_ref<const std::string&>();
    if (!text.empty() && text.size() <= 5 &&
        text.find_first_not_of("0123456789") == std::string::npos) {
      return static_cast<unsigned short>(read_uint(json(std::stoul(text)), where, 1, 65535));
    }
  }
  return static_cast<unsigned short>(read_uint(v, where, 1, 65535));
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

std::vector<health::status_range> read_expect_status(const json& v, const std::string& where) {
  // 200, [200, 204], "200-299", or a list mixing them.
  std::vector<health::status_range> out;
  auto one = [&](const json& item, const std::string& at) {
    if (item.is_number_integer()) {
      const auto c = static_cast<unsigned>(read_uint(item, at, 100, 599));
      out.push_back({c, c});
      return;
    }
    if (item.is_string()) {
      // "200" or "200-299": digits only, so "200x" or "2xx" are refused.
      const std::string s = item.get<std::string>();
      const auto dash = s.find('-');
      const auto digits = [](std::string_view t) {
        return !t.empty() && t.size() <= 3 &&
               t.find_first_not_of("0123456789") == std::string_view::npos;
      };
      const std::string_view first = std::string_view(s).substr(0, dash);
      const std::string_view second =
          dash == std::string::npos ? first : std::string_view(s).substr(dash + 1);
      if (!digits(first) || !digits(second)) {
        fail(at, "expected a status code or a range such as \"200-299\", got " + item.dump());
      }
      const auto lo = static_cast<unsigned>(std::stoul(std::string(first)));
      const auto hi = static_cast<unsigned>(std::stoul(std::string(second)));
      if (lo < 100 || hi > 599 || lo > hi)
        fail(at, "status range must lie within 100-599, got " + item.dump());
      out.push_back({lo, hi});
      return;
    }
    fail(at, "expected a status code or a range such as \"200-299\", got " + type_name(item));
  };
  if (v.is_array()) {
    if (v.empty()) fail(where, "must not be empty");
    for (std::size_t i = 0; i < v.size(); ++i) one(v[i], where + "[" + std::to_string(i) + "]");
  } else {
    one(v, where);
  }
  return out;
}

health::check_spec read_check(const json& c, const std::string& where) {
  if (!c.is_object()) fail(where, "expected an object, got " + type_name(c));
  health::check_spec spec;
  const auto field = [&](const char* name) { return where + "." + name; };

  if (!c.contains("name")) fail(where, "missing field 'name'");
  spec.name = read_string(c["name"], field("name"));
  if (!valid_name(spec.name)) {
    fail(field("name"),
         "must match [a-z0-9_-]+ (at most 64 characters), got \"" + spec.name + "\"");
  }
  if (!c.contains("type")) fail(where, "missing field 'type'");
  const std::string type = read_string(c["type"], field("type"));
  std::set<std::string> allowed = {"name",    "type", "critical", "interval",
                                   "timeout", "rise", "fall"};
  if (type == "tcp") {
    spec.type = health::check_type::tcp;
    allowed.insert({"host", "port"});
  } else if (type == "http") {
    spec.type = health::check_type::http;
    allowed.insert({"url", "expect_status", "expect_body", "expect_json", "ca_file", "insecure"});
  } else if (type == "file") {
    spec.type = health::check_type::file;
    allowed.insert({"path", "when"});
  } else if (type == "disk") {
    spec.type = health::check_type::disk;
    allowed.insert({"path", "min_free_bytes", "min_free_percent"});
  } else if (type == "postgres") {
    spec.type = health::check_type::postgres;
    allowed.insert({"conninfo", "query"});
  } else if (type == "redis") {
    spec.type = health::check_type::redis;
    allowed.insert({"host", "port", "username", "password"});
  } else {
    fail(field("type"),
         "unknown type \"" + type + "\" (expected tcp, http, file, disk, postgres or redis)");
  }
  for (const auto& [key, value] : c.items()) {
    if (!allowed.count(key)) fail(where, "unknown field '" + key + "' for a " + type + " check");
  }
  const auto require = [&](const char* name) {
    if (!c.contains(name))
      fail(where, std::string("missing field '") + name + "' for a " + type + " check");
    return c[name];
  };

  if (c.contains("critical")) spec.critical = read_bool(c["critical"], field("critical"));
  if (c.contains("interval")) spec.interval = read_duration(c["interval"], field("interval"));
  if (c.contains("timeout")) spec.timeout = read_duration(c["timeout"], field("timeout"));
  if (c.contains("rise"))
    spec.rise = static_cast<unsigned>(read_uint(c["rise"], field("rise"), 1, 100));
  if (c.contains("fall"))
    spec.fall = static_cast<unsigned>(read_uint(c["fall"], field("fall"), 1, 100));
  if (spec.timeout >= spec.interval) {
    fail(field("timeout"), "must be less than interval (" + format_duration(spec.interval) + ")");
  }

  switch (spec.type) {
    case health::check_type::tcp:
      spec.host = read_string(require("host"), field("host"));
      if (spec.host.empty()) fail(field("host"), "must not be empty");
      spec.port = read_port(require("port"), field("port"));
      break;
    case health::check_type::http:
      if (auto err = parse_http_url(read_string(require("url"), field("url")), spec);
          !err.empty()) {
        fail(field("url"), err);
      }
      if (c.contains("expect_status"))
        spec.expect_status = read_expect_status(c["expect_status"], field("expect_status"));
      if (c.contains("expect_body"))
        spec.expect_body = read_string(c["expect_body"], field("expect_body"));
      if (c.contains("expect_json")) spec.expect_json = read_expect_json(c["expect_json"], field);
      if (c.contains("ca_file")) {
        spec.ca_file = read_string(c["ca_file"], field("ca_file"));
        if (!spec.tls) fail(field("ca_file"), "only for https:// URLs");
        if (std::ifstream(spec.ca_file).fail()) {
          fail(field("ca_file"), "cannot read \"" + spec.ca_file + "\": " + std::strerror(errno));
        }
      }
      if (c.contains("insecure")) {
        spec.insecure = read_bool(c["insecure"], field("insecure"));
        if (!spec.tls) fail(field("insecure"), "only for https:// URLs");
        if (spec.insecure && !spec.ca_file.empty()) {
          fail(field("insecure"), "ca_file and insecure contradict each other");
        }
      }
      break;
    case health::check_type::postgres:
      spec.conninfo = read_string(require("conninfo"), field("conninfo"));
      if (spec.conninfo.empty()) fail(field("conninfo"), "must not be empty");
      // libpq's reason, with any password in it hidden.
      if (auto err = health::conninfo_error(spec.conninfo); !err.empty()) {
        fail(field("conninfo"), err);
      }
      if (c.contains("query")) {
        spec.query = read_string(c["query"], field("query"));
        if (spec.query.empty()) fail(field("query"), "must not be empty");
      }
      break;
    case health::check_type::redis:
      spec.host = read_string(require("host"), field("host"));
      if (spec.host.empty()) fail(field("host"), "must not be empty");
      spec.port = c.contains("port") ? read_port(c["port"], field("port")) : 6379;
      if (c.contains("password")) spec.password = read_string(c["password"], field("password"));
      if (c.contains("username")) {
        spec.username = read_string(c["username"], field("username"));
        if (spec.password.empty() && !spec.username.empty()) {
          fail(field("username"), "needs a password (AUTH username password)");
        }
      }
      break;
    case health::check_type::file: {
      spec.path = read_string(require("path"), field("path"));
      const std::string when = read_string(require("when"), field("when"));
      if (when != "present" && when != "absent") {
        fail(field("when"), "expected \"present\" or \"absent\", got \"" + when + "\"");
      }
      spec.pass_when_present = when == "present";
      break;
    }
    case health::check_type::disk:
      spec.path = read_string(require("path"), field("path"));
      if (c.contains("min_free_bytes")) {
        spec.min_free_bytes =
            read_uint(c["min_free_bytes"], field("min_free_bytes"), 0, UINT64_MAX);
      }
      if (c.contains("min_free_percent")) {
        const auto& v = c["min_free_percent"];
        if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > 100) {
          fail(field("min_free_percent"), "expected a number between 0 and 100, got " + v.dump());
        }
        spec.min_free_percent = v.get<double>();
      }
      if (!spec.min_free_bytes && !spec.min_free_percent) {
        fail(where, "a disk check needs min_free_bytes or min_free_percent");
      }
      break;
  }
  if (spec.path.empty() &&
      (spec.type == health::check_type::file || spec.type == health::check_type::disk)) {
    fail(field("path"), "must not be empty");
  }
  return spec;
}

}  // namespace

const env_lookup& process_environment() {
  static const env_lookup lookup = [](const char* name) -> const char* {
    return std::getenv(name);
  };
  return lookup;
}

std::vector<health::check_spec> parse_checks(std::string_view json_text, const env_lookup& env) {
  json doc;
  try {
    doc = json::parse(json_text);
  } catch (const json::parse_error& e) {
    // nlohmann's message names the byte offset of the problem.
    std::string what = e.what();
    if (const auto p = what.find("parse error"); p != std::string::npos) what = what.substr(p);
    throw config_error("invalid JSON: " + what);
  }
  if (!doc.is_object()) fail("(top level)", "expected an object with a \"checks\" array");
  for (const auto& [key, value] : doc.items()) {
    if (key != "checks") fail("(top level)", "unknown field '" + key + "'");
  }
  std::vector<health::check_spec> specs;
  if (!doc.contains("checks")) return specs;
  expand_variables(doc, "", env);
  const json& checks = doc["checks"];
  if (!checks.is_array()) fail("checks", "expected an array, got " + type_name(checks));
  std::set<std::string> names;
  for (std::size_t i = 0; i < checks.size(); ++i) {
    const std::string where = "checks[" + std::to_string(i) + "]";
    auto spec = read_check(checks[i], where);
    if (!names.insert(spec.name).second)
      fail(where + ".name", "duplicate name \"" + spec.name + "\"");
    specs.push_back(std::move(spec));
  }
  return specs;
}

std::vector<health::check_spec> load_checks_file(const std::string& path, const env_lookup& env) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config_error("config file " + path + ": cannot be read: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw config_error("config file " + path + ": cannot be read");
  try {
    return parse_checks(text.str(), env);
  } catch (const config_error& e) {
    throw config_error("config file " + path + ": " + e.what());
  }
}

}  // namespace badges_health::app
