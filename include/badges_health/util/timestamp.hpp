// Wall-clock instants as text: ISO 8601 / RFC 3339 as JavaScript's
// toISOString writes them (UTC, milliseconds, `Z`), and the IMF-fixdate of
// the HTTP Date header. Both are built on <chrono> calendar types and cache
// the seconds part per thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace badges_health::util {

/// Length of a formatted timestamp: "YYYY-MM-DDTHH:MM:SS.mmmZ".
inline constexpr std::size_t iso8601_length = 24;

/// Writes the timestamp into `out` (exactly iso8601_length bytes, no NUL).
/// The date-and-seconds part is cached per thread and recomputed at most
/// once per second, so the per-call cost is a clock read and a few stores.
void write_iso8601(std::chrono::system_clock::time_point tp, char* out) noexcept;

/// Convenience form returning a string.
std::string format_iso8601(std::chrono::system_clock::time_point tp);

/// IMF-fixdate for the Date header ("Thu, 26 Nov 2026 12:44:47 GMT"),
/// cached per thread and recomputed once per second. The view stays valid
/// until the next call on the same thread.
std::string_view http_date(std::chrono::system_clock::time_point tp) noexcept;

}  // namespace badges_health::util
