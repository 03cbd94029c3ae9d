// The common fields of a check and the typed accessors every type's reader
// uses.
#include "badges_health/health/check_reader.hpp"

#include <algorithm>
#include <cstdio>

#include "badges_health/health/check_registry.hpp"
#include "badges_health/util/duration.hpp"

namespace badges_health::health {

namespace {

using nlohmann::json;
using std::chrono::milliseconds;

// Below this an interval would be a busy loop rather than a check.
constexpr milliseconds min_interval{100};
constexpr milliseconds default_timeout{2'000};

constexpr std::string_view common_fields[] = {"name",    "type", "critical", "interval",
                                              "timeout", "rise", "fall"};

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

bool known_field(const check_type& type, std::string_view field) {
  const auto in = [&](auto&& list) {
    return std::find(std::begin(list), std::end(list), field) != std::end(list);
  };
  return in(common_fields) || in(type.fields);
}

}  // namespace

check_reader::check_reader(const json& object, std::string where, std::string type,
                           const read_options& options)
    : object_(object), where_(std::move(where)), type_(std::move(type)), options_(options) {}

std::string check_reader::path(std::string_view field) const {
  return where_ + "." + std::string(field);
}

bool check_reader::has(std::string_view field) const { return object_.contains(field); }

const json& check_reader::at(std::string_view field) const { return object_.at(field); }

const json& check_reader::require(std::string_view field) const {
  if (!has(field)) {
    fail_check("missing field '" + std::string(field) + "' for a " + type_ + " check");
  }
  return at(field);
}

void check_reader::fail(std::string_view field, const std::string& what) const {
  throw config_error(path(field) + ": " + what);
}

void check_reader::fail_check(const std::string& what) const {
  throw config_error(where_ + ": " + what);
}

std::string check_reader::string(std::string_view field) const {
  const json& v = require(field);
  if (!v.is_string()) fail(field, std::string("expected a string, got ") + v.type_name());
  return v.get<std::string>();
}

std::string check_reader::non_empty_string(std::string_view field) const {
  std::string s = string(field);
  if (s.empty()) fail(field, "must not be empty");
  return s;
}

bool check_reader::boolean(std::string_view field) const {
  const json& v = require(field);
  if (!v.is_boolean()) fail(field, std::string("expected true or false, got ") + v.type_name());
  return v.get<bool>();
}

std::uint64_t check_reader::integer(std::string_view field, std::uint64_t min,
                                    std::uint64_t max) const {
  const json& v = require(field);
  const bool negative = v.is_number_integer() && !v.is_number_unsigned() && v.get<long long>() < 0;
  if (!v.is_number_integer() || negative || v.get<std::uint64_t>() < min ||
      v.get<std::uint64_t>() > max) {
    fail(field, "expected an integer between " + std::to_string(min) + " and " +
                    std::to_string(max) + ", got " + v.dump());
  }
  return v.get<std::uint64_t>();
}

double check_reader::number(std::string_view field, double min, double max) const {
  const json& v = require(field);
  if (!v.is_number() || v.get<double>() < min || v.get<double>() > max) {
    char range[64];
    std::snprintf(range, sizeof range, "between %g and %g", min, max);
    fail(field, std::string("expected a number ") + range + ", got " + v.dump());
  }
  return v.get<double>();
}

milliseconds check_reader::duration(std::string_view field) const {
  const json& v = require(field);
  std::optional<milliseconds> d;
  if (v.is_number() && v.get<double>() >= 0) {
    d = util::parse_duration(v.dump());
  } else if (v.is_string()) {
    d = util::parse_duration(v.get<std::string>());
  }
  if (!d) {
    fail(field,
         "expected a duration such as \"250ms\", \"5s\" or a number of seconds, got " + v.dump());
  }
  if (d->count() <= 0) fail(field, "must be greater than zero");
  return *d;
}

unsigned short check_reader::port(std::string_view field) const {
  const json& v = require(field);
  if (v.is_string()) {
    const auto& text = v.get_ref<const std::string&>();
    if (!text.empty() && text.size() <= 5 &&
        text.find_first_not_of("0123456789") == std::string::npos) {
      json as_object = json::object();
      as_object[std::string(field)] = std::stoul(text);
      const check_reader as_number(as_object, where_, type_, options_);
      return static_cast<unsigned short>(as_number.integer(field, 1, 65535));
    }
  }
  return static_cast<unsigned short>(integer(field, 1, 65535));
}

std::string unknown_type_message(std::string_view type) {
  std::string names;
  const auto types = check_types();
  for (std::size_t i = 0; i < types.size(); ++i) {
    if (i > 0) names += i + 1 == types.size() ? " or " : ", ";
    names += types[i]->name;
  }
  return "unknown type \"" + std::string(type) + "\" (expected " + names + ")";
}

check_spec read_check(const json& c, const std::string& where, const read_options& options) {
  if (!c.is_object()) throw config_error(where + ": expected an object, got " + c.type_name());
  const check_reader names(c, where, "", options);
  if (!c.contains("name")) names.fail_check("missing field 'name'");
  check_spec spec;
  spec.name = names.string("name");
  if (!valid_name(spec.name)) {
    names.fail("name", "must match [a-z0-9_-]+ (at most 64 characters), got \"" + spec.name + "\"");
  }
  if (!c.contains("type")) names.fail_check("missing field 'type'");
  const std::string type_name = names.string("type");
  const check_type* type = find_check_type(type_name);
  if (type == nullptr) names.fail("type", unknown_type_message(type_name));
  const check_reader in(c, where, type_name, options);
  for (const auto& [key, value] : c.items()) {
    if (!known_field(*type, key)) {
      in.fail_check("unknown field '" + key + "' for a " + type_name + " check");
    }
  }

  if (in.has("critical")) spec.critical = in.boolean("critical");
  if (in.has("rise")) spec.rise = static_cast<unsigned>(in.integer("rise", 1, 100));
  if (in.has("fall")) spec.fall = static_cast<unsigned>(in.integer("fall", 1, 100));
  if (type->reported) {
    for (const std::string_view field : {"interval", "timeout"}) {
      if (in.has(field)) {
        in.fail(field, "a " + type_name + " check has no " + std::string(field) +
                           ": its reports come when the watched process sends them");
      }
    }
  } else {
    if (in.has("interval")) {
      spec.interval = in.duration("interval");
      if (spec.interval < min_interval) {
        in.fail("interval", "must be at least " + util::format_duration(min_interval));
      }
    }
    if (in.has("timeout")) {
      spec.timeout = in.duration("timeout");
      if (spec.timeout >= spec.interval) {
        in.fail("timeout",
                "must be less than interval (" + util::format_duration(spec.interval) + ")");
      }
    } else {
      // A default that does not fit a short interval is fitted to it,
      // rather than reported as an error in a field nobody wrote.
      spec.timeout = std::min(default_timeout, spec.interval / 2);
    }
  }
  spec.settings = type->read(in, spec);
  return spec;
}

bool check_spec::operator==(const check_spec& other) const noexcept {
  const bool same_settings = settings == other.settings ||
                             (settings && other.settings && settings->equals(*other.settings));
  return name == other.name && critical == other.critical && interval == other.interval &&
         timeout == other.timeout && rise == other.rise && fall == other.fall && same_settings;
}

}  // namespace badges_health::health
