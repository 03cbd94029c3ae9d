// Durations as operators write them in flags and the checks file:
// `250ms`, `5s`, `2m`, `1h`, or a bare number of seconds (`1.5`).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace badges_health::util {

/// `250ms`, `5s`, `2m`, `1h`, or a bare number of seconds (`1.5`).
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

/// Formats a duration the way parse_duration reads it ("250ms", "5s", "2m",
/// "24h"), in the largest unit that divides it.
std::string format_duration(std::chrono::milliseconds d);

}  // namespace badges_health::util
