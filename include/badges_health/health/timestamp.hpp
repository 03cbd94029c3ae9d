// ISO 8601 / RFC 3339 timestamps as JavaScript's toISOString writes them:
// UTC, millisecond precision, `Z` suffix, e.g. 2026-11-26T12:25:28.696Z.
#pragma once

#include <array>
#include <chrono>
#include <string>
#include <string_view>

namespace badges_health::health {

/// Length of a formatted timestamp: "YYYY-MM-DDTHH:MM:SS.mmmZ".
inline constexpr std::size_t iso8601_length = 24;

/// Writes the timestamp into `out` (exactly iso8601_length bytes, no NUL).
/// The date-and-seconds part is cached per thread and recomputed at most
/// once per second, so the per-call cost is a clock read and a few stores.
void write_iso8601(std::chrono::system_clock::time_point tp, char* out) noexcept;

/// Convenience form returning a string.
std::string format_iso8601(std::chrono::system_clock::time_point tp);

/// Breaks days since 1970-01-01 into a civil (proleptic Gregorian) date.
struct civil_date {
  int year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};
civil_date civil_from_days(long long days) noexcept;

}  // namespace badges_health::health
