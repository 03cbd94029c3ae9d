// The checks file (--config): JSON declaring dependency checks, validated
// into check specs (each check by its type's reader, health/check_reader).
// Every error names its place, e.g. `checks[2].timeout: must be less than
// interval (10s)`. `${NAME}` in any string is replaced by environment
// variable NAME when the file is loaded (at start-up and on every SIGHUP);
// `$${` stands for a literal `${`. schema/checks.schema.json describes the
// same shape for editors and CI.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "badges_health/app/config.hpp"
#include "badges_health/health/check_reader.hpp"
#include "badges_health/health/check_spec.hpp"

namespace badges_health::app {

/// A checks file that cannot be used; what() names the file and the field.
using health::config_error;

/// The process environment (getenv), the default lookup for `${NAME}`.
const env_lookup& process_environment();

/// Parses and validates checks from JSON text, with `${NAME}` looked up in
/// `env` and what the flags allow in `options`. Throws config_error with a
/// message that starts with the field path; no message repeats a password.
std::vector<health::check_spec> parse_checks(std::string_view json_text,
                                             const env_lookup& env = process_environment(),
                                             const health::read_options& options = {});

/// Reads and parses a checks file. Throws config_error whose message starts
/// with the file path.
std::vector<health::check_spec> load_checks_file(const std::string& path,
                                                 const env_lookup& env = process_environment(),
                                                 const health::read_options& options = {});

}  // namespace badges_health::app
