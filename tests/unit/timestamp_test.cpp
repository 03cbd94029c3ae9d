// Unit tests for the toISOString-style timestamps and HTTP dates. Instants are built from fixed
// epoch offsets.
#include "badges_health/util/timestamp.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <string>

namespace badges_health::util {
namespace {

using std::chrono::milliseconds;
using std::chrono::system_clock;

system_clock::time_point at_ms(long long ms) { return system_clock::time_point{milliseconds{ms}}; }

// 2024-02-29T00:00:00Z, 2000-03-01T00:00:00Z and 2023-12-31T23:59:59Z in
// seconds since the epoch (checked against `date -u -d ... +%s`).
constexpr long long leap_day_2024 = 1'709'164'800;
constexpr long long march_first_2000 = 951'868'800;
constexpr long long last_second_of_2023 = 1'704'067'199;

TEST(timestamp, epoch_is_formatted_as_1970_01_01_midnight) {
  EXPECT_EQ(format_iso8601(at_ms(0)), "1970-01-01T00:00:00.000Z");
}

TEST(timestamp, leap_day_2024_is_formatted) {
  EXPECT_EQ(format_iso8601(at_ms(leap_day_2024 * 1000 + 123)), "2024-02-29T00:00:00.123Z");
}

TEST(timestamp, march_first_2000_follows_the_400_year_leap_day) {
  EXPECT_EQ(format_iso8601(at_ms(march_first_2000 * 1000)), "2000-03-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601(at_ms((march_first_2000 - 86400) * 1000)), "2000-02-29T00:00:00.000Z");
}

TEST(timestamp, last_millisecond_of_a_year_is_formatted) {
  EXPECT_EQ(format_iso8601(at_ms(last_second_of_2023 * 1000 + 999)), "2023-12-31T23:59:59.999Z");
  EXPECT_EQ(format_iso8601(at_ms(last_second_of_2023 * 1000 + 1000)), "2024-01-01T00:00:00.000Z");
}

TEST(timestamp, instant_before_1970_is_floored_to_the_previous_day) {
  EXPECT_EQ(format_iso8601(at_ms(-1)), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_iso8601(at_ms(-1000)), "1969-12-31T23:59:59.000Z");
  EXPECT_EQ(format_iso8601(at_ms(-86'400'000)), "1969-12-31T00:00:00.000Z");
}

TEST(timestamp, write_iso8601_writes_exactly_iso8601_length_bytes) {
  std::string buf(iso8601_length + 2, '#');
  write_iso8601(at_ms(leap_day_2024 * 1000 + 7), buf.data());
  EXPECT_EQ(buf.substr(0, iso8601_length), "2024-02-29T00:00:00.007Z");
  EXPECT_EQ(buf.substr(iso8601_length), "##");
}

TEST(timestamp, cached_seconds_are_reused_within_a_second_and_refreshed_across_one) {
  const long long base = last_second_of_2023 * 1000;
  // Same second twice with different milliseconds: the cached part is reused
  // and only the milliseconds change.
  EXPECT_EQ(format_iso8601(at_ms(base + 5)), "2023-12-31T23:59:59.005Z");
  EXPECT_EQ(format_iso8601(at_ms(base + 998)), "2023-12-31T23:59:59.998Z");
  // Crossing into the next second (and year) must refresh the cache.
  EXPECT_EQ(format_iso8601(at_ms(base + 1001)), "2024-01-01T00:00:00.001Z");
  // Going back to an earlier second must refresh it again.
  EXPECT_EQ(format_iso8601(at_ms(base + 42)), "2023-12-31T23:59:59.042Z");
}

TEST(timestamp, output_matches_the_tostring_iso_shape) {
  const std::regex shape(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$)");
  // 2261-12-31T23:59:59.999Z: the last year whose milliseconds fit the
  // nanosecond system_clock (year 9999 overflows it, which UBSan reports).
  for (long long ms : {0LL, -1LL, leap_day_2024 * 1000 + 1, 9'214'646'399'999LL}) {
    const std::string s = format_iso8601(at_ms(ms));
    EXPECT_TRUE(std::regex_match(s, shape)) << s;
  }
  EXPECT_EQ(format_iso8601(at_ms(9'214'646'399'999LL)), "2261-12-31T23:59:59.999Z");
  const std::string now = format_iso8601(system_clock::now());
  EXPECT_TRUE(std::regex_match(now, shape)) << now;
}

TEST(timestamp, calendar_edges_land_on_the_right_day) {
  // 1900 is not a leap year: the day after 1900-02-28 is 1900-03-01
  // (-2,203,891,200 s); 2100 is not one either.
  EXPECT_EQ(format_iso8601(at_ms(-2'203'891'200'000LL)), "1900-03-01T00:00:00.000Z");
  EXPECT_EQ(format_iso8601(at_ms(-2'203'891'200'000LL - 1)), "1900-02-28T23:59:59.999Z");
  EXPECT_EQ(format_iso8601(at_ms(4'107'542'400'000LL)), "2100-03-01T00:00:00.000Z");
}

TEST(timestamp, http_date_and_iso8601_agree_on_the_day) {
  const auto at = at_ms(leap_day_2024 * 1000 + 45'296'000);  // 12:34:56
  EXPECT_EQ(format_iso8601(at), "2024-02-29T12:34:56.000Z");
  EXPECT_EQ(http_date(at), "Thu, 29 Feb 2024 12:34:56 GMT");
}

}  // namespace
}  // namespace badges_health::util
