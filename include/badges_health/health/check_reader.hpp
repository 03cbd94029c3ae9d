// Reading one check of the checks file: the common fields here, the type's
// own through its registry row. Every error names its place
// (`checks[2].timeout: must be less than interval (10s)`) and never repeats
// a password.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "badges_health/health/check_spec.hpp"

namespace badges_health::health {

/// A checks file (or one of its checks) that cannot be used; what() names
/// the field.
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What the operator allows checks to do, from the flags.
struct read_options {
  /// --allow-exec-checks: exec checks may run commands.
  bool allow_exec = false;
  /// --admin-token is set: ttl checks can be reported to.
  bool accept_reports = false;
};

/// One check object of the checks file, at `where` ("checks[2]"), with
/// typed accessors that name the field in every error.
class check_reader {
 public:
  check_reader(const nlohmann::json& object, std::string where, std::string type,
               const read_options& options);

  const read_options& options() const noexcept { return options_; }
  /// "checks[2]"
  const std::string& where() const noexcept { return where_; }
  /// "checks[2].port"
  std::string path(std::string_view field) const;
  /// The check's type, as written.
  const std::string& type_name() const noexcept { return type_; }

  bool has(std::string_view field) const;
  /// The raw value of a field that is there.
  const nlohmann::json& at(std::string_view field) const;
  /// Throws `missing field 'host' for a tcp check` unless the field is there.
  const nlohmann::json& require(std::string_view field) const;

  std::string string(std::string_view field) const;
  /// A string that must not be empty.
  std::string non_empty_string(std::string_view field) const;
  bool boolean(std::string_view field) const;
  std::uint64_t integer(std::string_view field, std::uint64_t min, std::uint64_t max) const;
  /// A number between min and max, integer or not.
  double number(std::string_view field, double min, double max) const;
  /// "250ms", "5s" or a number of seconds; greater than zero.
  std::chrono::milliseconds duration(std::string_view field) const;
  /// A port as a number, or as a string of digits (what `${PORT}` gives).
  unsigned short port(std::string_view field) const;

  /// Throws config_error "<where>.<field>: <what>".
  [[noreturn]] void fail(std::string_view field, const std::string& what) const;
  /// Throws config_error "<where>: <what>", for what is about the whole check.
  [[noreturn]] void fail_check(const std::string& what) const;

 private:
  const nlohmann::json& object_;
  std::string where_;
  std::string type_;
  const read_options& options_;
};

/// Reads the check at `where` of a checks file (variables already
/// expanded). Throws config_error.
check_spec read_check(const nlohmann::json& object, const std::string& where,
                      const read_options& options);

/// The "type" field's message for an unknown type, listing the registry.
std::string unknown_type_message(std::string_view type);

}  // namespace badges_health::health
