// Reading `exclude` against the checks of one snapshot, so that the names
// a request is judged by and the checks it is answered about are the same.
#include "badges_health/app/check_exclusion.hpp"

#include <string>
#include <string_view>

namespace badges_health::app {

namespace {

constexpr std::string_view exclude_param = "exclude";

std::string_view trim_spaces(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool requests_exclusion(const std::vector<http::query_param>& query) noexcept {
  for (const auto& p : query) {
    if (p.name == exclude_param) return true;
  }
  return false;
}

boost::system::result<std::vector<bool>, http::http_error> excluded_checks(
    const std::vector<http::query_param>& query, const health::health_snapshot& snap) {
  std::vector<bool> skip(snap.checks.size(), false);
  for (const auto& p : query) {
    if (p.name != exclude_param) continue;
    std::string_view rest = p.value;
    while (true) {
      const std::size_t comma = rest.find(',');
      const std::string_view name = trim_spaces(rest.substr(0, comma));
      if (name.empty()) {
        return http::http_error::invalid_parameter("exclude: a check name is empty");
      }
      bool found = false;
      for (std::size_t i = 0; i < snap.checks.size(); ++i) {
        if (snap.checks[i].spec->name == name) {
          skip[i] = true;
          found = true;
          break;
        }
      }
      if (!found) {
        return http::http_error::invalid_parameter("unknown check in exclude: " +
                                                   std::string(name));
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return skip;
}

}  // namespace badges_health::app
