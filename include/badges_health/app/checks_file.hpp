// The checks file (--config): JSON declaring dependency checks, validated
// into check specs. Every error names its place, e.g.
// `checks[2].timeout: must be less than interval (10s)`.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "badges_health/health/check_spec.hpp"

namespace badges_health::app {

/// A checks file that cannot be used; what() names the file and the field.
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Parses and validates checks from JSON text. Throws config_error with a
/// message that starts with the field path.
std::vector<health::check_spec> parse_checks(std::string_view json_text);

/// Reads and parses a checks file. Throws config_error whose message starts
/// with the file path.
std::vector<health::check_spec> load_checks_file(const std::string& path);

}  // namespace badges_health::app
