// The checks file as a whole: JSON, the top level, `${NAME}`, unique names.
// Each check is read by health::read_check and its type's reader.
#include "badges_health/app/checks_file.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace badges_health::app {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw config_error(where + ": " + what);
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

}  // namespace

const env_lookup& process_environment() {
  static const env_lookup lookup = [](const char* name) -> const char* {
    return std::getenv(name);
  };
  return lookup;
}

std::vector<health::check_spec> parse_checks(std::string_view json_text, const env_lookup& env,
                                             const health::read_options& options) {
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
    // `$schema` names the JSON Schema an editor validates the file with.
    if (key != "checks" && key != "$schema") fail("(top level)", "unknown field '" + key + "'");
  }
  if (doc.contains("$schema") && !doc["$schema"].is_string()) {
    fail("$schema", std::string("expected a string, got ") + doc["$schema"].type_name());
  }
  // An empty list is a choice; a file without one is a mistake.
  if (!doc.contains("checks"))
    fail("(top level)", "missing field 'checks' (an array, may be empty)");
  json& checks = doc["checks"];
  if (!checks.is_array())
    fail("checks", std::string("expected an array, got ") + checks.type_name());
  expand_variables(checks, "checks", env);
  std::vector<health::check_spec> specs;
  std::set<std::string> names;
  for (std::size_t i = 0; i < checks.size(); ++i) {
    const std::string where = "checks[" + std::to_string(i) + "]";
    auto spec = health::read_check(checks[i], where, options);
    if (!names.insert(spec.name).second) {
      fail(where + ".name", "duplicate name \"" + spec.name + "\"");
    }
    specs.push_back(std::move(spec));
  }
  return specs;
}

std::vector<health::check_spec> load_checks_file(const std::string& path, const env_lookup& env,
                                                 const health::read_options& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config_error("config file " + path + ": cannot be read: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw config_error("config file " + path + ": cannot be read");
  try {
    return parse_checks(text.str(), env, options);
  } catch (const config_error& e) {
    throw config_error("config file " + path + ": " + e.what());
  }
}

}  // namespace badges_health::app
