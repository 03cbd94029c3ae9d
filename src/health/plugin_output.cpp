// Reading a plugin's first line and first performance datum.
#include "plugin_output.hpp"

#include <charconv>

namespace badges_health::health {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// `'label'=value[UOM];...` or `label=value[UOM];...`: the value and unit,
// when the value is a number ("U", undetermined, is not).
std::optional<observation> first_datum(std::string_view perf) {
  perf = trim(perf);
  std::size_t i = 0;
  if (!perf.empty() && perf.front() == '\'') {
    // A quoted label; '' stands for a quote inside it.
    for (i = 1; i < perf.size(); ++i) {
      if (perf[i] != '\'') continue;
      if (i + 1 < perf.size() && perf[i + 1] == '\'') {
        ++i;
        continue;
      }
      break;
    }
    if (i >= perf.size()) return std::nullopt;
    ++i;
  } else {
    while (i < perf.size() && perf[i] != '=' && perf[i] != ' ') ++i;
  }
  if (i >= perf.size() || perf[i] != '=') return std::nullopt;
  std::string_view rest = perf.substr(i + 1);
  double value = 0;
  const char* begin = rest.data();
  if (!rest.empty() && rest.front() == '+') ++begin;
  const auto [end, ec] = std::from_chars(begin, rest.data() + rest.size(), value);
  if (ec != std::errc{} || end == begin) return std::nullopt;
  rest.remove_prefix(static_cast<std::size_t>(end - rest.data()));
  const std::size_t unit_end = rest.find_first_of("; ");
  return observation{value, std::string(rest.substr(0, unit_end))};
}

}  // namespace

plugin_output parse_plugin_output(std::string_view output) {
  const std::string_view line = output.substr(0, output.find('\n'));
  const std::size_t bar = line.find('|');
  plugin_output out;
  out.text = std::string(trim(line.substr(0, bar)));
  if (bar != std::string_view::npos) out.first_datum = first_datum(line.substr(bar + 1));
  return out;
}

}  // namespace badges_health::health
