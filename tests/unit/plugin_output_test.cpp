// A Nagios plugin's output as the exec check reads it: the first line up to
// `|`, and the first performance datum's value and unit.
#include "health/plugin_output.hpp"

#include <gtest/gtest.h>

namespace badges_health::health {
namespace {

TEST(plugin_output, the_first_line_up_to_the_bar_is_the_text) {
  EXPECT_EQ(parse_plugin_output("DNS OK - 0.01 seconds | time=0.01s;;;0\nlong text\n").text,
            "DNS OK - 0.01 seconds");
  EXPECT_EQ(parse_plugin_output("  spaced out  \n").text, "spaced out");
  EXPECT_EQ(parse_plugin_output("").text, "");
  EXPECT_EQ(parse_plugin_output("windows line\r\nnext").text, "windows line");
}

TEST(plugin_output, the_first_datum_is_the_observed_value_and_unit) {
  const auto disk =
      parse_plugin_output("DISK OK | /=19045285888B;243497277849;257024904396;0;270552530944 x=1");
  ASSERT_TRUE(disk.first_datum);
  EXPECT_EQ(disk.first_datum->value, 19045285888.0);
  EXPECT_EQ(disk.first_datum->unit, "B");
  const auto time = parse_plugin_output("TCP OK | time=0.000118s;;;0.000000;10.000000");
  ASSERT_TRUE(time.first_datum);
  EXPECT_DOUBLE_EQ(time.first_datum->value, 0.000118);
  EXPECT_EQ(time.first_datum->unit, "s");
}

TEST(plugin_output, quoted_labels_negative_values_and_no_unit) {
  const auto quoted = parse_plugin_output("OK | 'free space ''root'''=-12.5%;;;");
  ASSERT_TRUE(quoted.first_datum);
  EXPECT_EQ(quoted.first_datum->value, -12.5);
  EXPECT_EQ(quoted.first_datum->unit, "%");
  const auto bare = parse_plugin_output("OK | users=3");
  ASSERT_TRUE(bare.first_datum);
  EXPECT_EQ(bare.first_datum->value, 3);
  EXPECT_EQ(bare.first_datum->unit, "");
}

TEST(plugin_output, no_datum_when_there_is_none_or_it_is_undetermined) {
  EXPECT_FALSE(parse_plugin_output("OK").first_datum);
  EXPECT_FALSE(parse_plugin_output("OK |").first_datum);
  EXPECT_FALSE(parse_plugin_output("OK | load=U;;;").first_datum);
  EXPECT_FALSE(parse_plugin_output("OK | 'unterminated=3").first_datum);
  EXPECT_FALSE(parse_plugin_output("OK | noequals").first_datum);
  // Performance data on a later line is not the first line's.
  EXPECT_FALSE(parse_plugin_output("OK\nmore | x=1").first_datum);
}

}  // namespace
}  // namespace badges_health::health
