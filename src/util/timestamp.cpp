// Timestamp formatting on std::chrono::year_month_day and hh_mm_ss, with a
// per-thread cache of the seconds part; only the milliseconds change
// between most calls.
#include "badges_health/util/timestamp.hpp"

#include <array>
#include <cstring>
#include <limits>

namespace badges_health::util {
namespace {

using std::chrono::days;
using std::chrono::seconds;
using std::chrono::sys_seconds;

void put2(char* p, unsigned v) noexcept {
  p[0] = static_cast<char>('0' + v / 10);
  p[1] = static_cast<char>('0' + v % 10);
}

void put4(char* p, int v) noexcept {
  // Years outside 0..9999 cannot be written in either format; clamp rather
  // than write garbage (only reachable with a broken clock).
  const unsigned year = v < 0 ? 0u : (v > 9999 ? 9999u : static_cast<unsigned>(v));
  put2(p, year / 100);
  put2(p + 2, year % 100);
}

struct calendar_time {
  std::chrono::year_month_day date;
  std::chrono::weekday weekday;
  std::chrono::hh_mm_ss<seconds> time;
};

calendar_time split(sys_seconds s) noexcept {
  const auto day = std::chrono::floor<days>(s);
  return {std::chrono::year_month_day{day}, std::chrono::weekday{day},
          std::chrono::hh_mm_ss<seconds>{s - day}};
}

// "YYYY-MM-DDTHH:MM:SS." (20 bytes).
void format_iso_seconds(sys_seconds s, char* out) noexcept {
  const auto c = split(s);
  put4(out, static_cast<int>(c.date.year()));
  out[4] = '-';
  put2(out + 5, static_cast<unsigned>(c.date.month()));
  out[7] = '-';
  put2(out + 8, static_cast<unsigned>(c.date.day()));
  out[10] = 'T';
  put2(out + 11, static_cast<unsigned>(c.time.hours().count()));
  out[13] = ':';
  put2(out + 14, static_cast<unsigned>(c.time.minutes().count()));
  out[16] = ':';
  put2(out + 17, static_cast<unsigned>(c.time.seconds().count()));
  out[19] = '.';
}

// "Thu, 26 Nov 2026 12:44:47 GMT" (29 bytes).
void format_http_date(sys_seconds s, char* out) noexcept {
  static constexpr std::array<std::string_view, 7> day_names = {"Sun", "Mon", "Tue", "Wed",
                                                                "Thu", "Fri", "Sat"};
  static constexpr std::array<std::string_view, 12> month_names = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const auto c = split(s);
  std::memcpy(out, day_names[c.weekday.c_encoding()].data(), 3);
  out[3] = ',';
  out[4] = ' ';
  put2(out + 5, static_cast<unsigned>(c.date.day()));
  out[7] = ' ';
  std::memcpy(out + 8, month_names[static_cast<unsigned>(c.date.month()) - 1].data(), 3);
  out[11] = ' ';
  put4(out + 12, static_cast<int>(c.date.year()));
  out[16] = ' ';
  put2(out + 17, static_cast<unsigned>(c.time.hours().count()));
  out[19] = ':';
  put2(out + 20, static_cast<unsigned>(c.time.minutes().count()));
  out[22] = ':';
  put2(out + 23, static_cast<unsigned>(c.time.seconds().count()));
  std::memcpy(out + 25, " GMT", 4);
}

// The text of the last second formatted on this thread.
template <std::size_t N>
struct seconds_cache {
  long long seconds = std::numeric_limits<long long>::min();  // no instant yet
  char text[N] = {};
};

}  // namespace

void write_iso8601(std::chrono::system_clock::time_point tp, char* out) noexcept {
  using namespace std::chrono;
  const auto ms = floor<milliseconds>(tp);
  const auto secs = floor<seconds>(ms);
  const auto millis = static_cast<unsigned>((ms - secs).count());

  thread_local seconds_cache<20> cache;
  if (cache.seconds != secs.time_since_epoch().count()) {
    format_iso_seconds(secs, cache.text);
    cache.seconds = secs.time_since_epoch().count();
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

std::string_view http_date(std::chrono::system_clock::time_point tp) noexcept {
  const auto secs = std::chrono::floor<seconds>(tp);
  thread_local seconds_cache<29> cache;
  if (cache.seconds != secs.time_since_epoch().count()) {
    format_http_date(secs, cache.text);
    cache.seconds = secs.time_since_epoch().count();
  }
  return {cache.text, sizeof cache.text};
}

}  // namespace badges_health::util
