// Formatting of RFC 3339 timestamps with a per-thread cache of the
// seconds part; only the milliseconds change between most calls.
#include "badges_health/health/timestamp.hpp"

#include <cstring>
#include <limits>

namespace badges_health::health {
namespace {

void put2(char* p, unsigned v) noexcept {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

long long floor_div(long long a, long long b) noexcept {
  long long q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

void format_seconds(long long epoch_seconds, char* out) noexcept {
  const long long days = floor_div(epoch_seconds, 86400);
  const auto secs_of_day = static_cast<unsigned>(epoch_seconds - days * 86400);
  const civil_date d = civil_from_days(days);
  // Years outside 0..9999 cannot be written in this format; clamp rather
  // than write garbage (only reachable with a broken clock).
  const unsigned year = d.year < 0 ? 0u : (d.year > 9999 ? 9999u : static_cast<unsigned>(d.year));
  put2(out, year / 100);
  put2(out + 2, year % 100);
  out[4] = '-';
  put2(out + 5, d.month);
  out[7] = '-';
  put2(out + 8, d.day);
  out[10] = 'T';
  put2(out + 11, secs_of_day / 3600);
  out[13] = ':';
  put2(out + 14, (secs_of_day / 60) % 60);
  out[16] = ':';
  put2(out + 17, secs_of_day % 60);
  out[19] = '.';
}

struct seconds_cache {
  long long seconds = std::numeric_limits<long long>::min();  // no instant yet
  char text[20] = {};
};

}  // namespace

civil_date civil_from_days(long long days) noexcept {
  // Era-based conversion (400-year cycles), valid for the whole int range.
  days += 719468;
  const long long era = floor_div(days, 146097);
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned day = doy - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  const long long year = static_cast<long long>(yoe) + era * 400 + (month <= 2 ? 1 : 0);
  return civil_date{static_cast<int>(year), month, day};
}

void write_iso8601(std::chrono::system_clock::time_point tp, char* out) noexcept {
  using namespace std::chrono;
  const long long ms = duration_cast<milliseconds>(tp.time_since_epoch()).count();
  const long long secs = floor_div(ms, 1000);
  const auto millis = static_cast<unsigned>(ms - secs * 1000);

  thread_local seconds_cache cache;
  if (cache.seconds != secs) {
    format_seconds(secs, cache.text);
    cache.seconds = secs;
  }
  std::memcpy(out, cache.text, 20);
  out[20] = static_cast<char>('0' + millis / 100);
  put2(out + 21, millis % 100);
  out[23] = 'Z';
}

std::string format_iso8601(std::chrono::system_clock::time_point tp) {
  std::string s(iso8601_length, '\0');
  write_iso8601(tp, s.data());
  return s;
}

}  // namespace badges_health::health
