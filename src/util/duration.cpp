// Reading and writing durations as flags and the checks file spell them.
#include "badges_health/util/duration.hpp"

#include <charconv>
#include <cmath>

namespace badges_health::util {

using std::chrono::milliseconds;

std::optional<milliseconds> parse_duration(std::string_view text) {
  double scale = 1000.0;  // bare number: seconds
  std::string_view number = text;
  const auto ends_with = [&](std::string_view suffix) {
    return number.size() > suffix.size() && number.substr(number.size() - suffix.size()) == suffix;
  };
  if (ends_with("ms")) {
    scale = 1.0;
    number.remove_suffix(2);
  } else if (ends_with("s")) {
    number.remove_suffix(1);
  } else if (ends_with("m")) {
    scale = 60'000.0;
    number.remove_suffix(1);
  } else if (ends_with("h")) {
    scale = 3'600'000.0;
    number.remove_suffix(1);
  }
  if (number.empty()) return std::nullopt;
  for (char ch : number) {
    if (!((ch >= '0' && ch <= '9') || ch == '.')) return std::nullopt;
  }
  double value = 0;
  const auto r = std::from_chars(number.data(), number.data() + number.size(), value);
  if (r.ec != std::errc{} || r.ptr != number.data() + number.size()) return std::nullopt;
  const double ms = value * scale;
  if (!std::isfinite(ms) || ms > 1e12) return std::nullopt;
  return milliseconds{static_cast<long long>(std::llround(ms))};
}

std::string format_duration(milliseconds d) {
  const auto ms = d.count();
  if (ms % 3'600'000 == 0 && ms != 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms % 60'000 == 0 && ms != 0) return std::to_string(ms / 60'000) + "m";
  if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace badges_health::util
