// The body of PUT /maintenance as parse_maintenance_request reads it: the
// two members, their types and limits, each refusal naming its problem;
// and the JSON that GET and PUT answer with.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "badges_health/app/maintenance_handler.hpp"

namespace badges_health::app {
namespace {

using namespace std::chrono_literals;

struct taken_case {
  const char* name;
  const char* body;
  const char* reason;
  std::chrono::milliseconds length;
};

void PrintTo(const taken_case& c, std::ostream* os) { *os << c.name; }

class maintenance_request_taken : public ::testing::TestWithParam<taken_case> {};

TEST_P(maintenance_request_taken, gives_the_reason_and_length) {
  const auto& c = GetParam();
  const auto got = parse_maintenance_request(c.body, 24h);
  ASSERT_TRUE(got.has_value()) << got.error().message();
  EXPECT_EQ(got->reason, c.reason);
  EXPECT_EQ(got->length, c.length);
}

INSTANTIATE_TEST_SUITE_P(
    cases, maintenance_request_taken,
    ::testing::Values(
        taken_case{"Minutes", R"({"reason": "db migration", "for": "30m"})", "db migration", 30min},
        taken_case{"MembersInAnyOrder", R"({"for": "90s", "reason": "x"})", "x", 90s},
        taken_case{"Milliseconds", R"({"reason": "x", "for": "250ms"})", "x", 250ms},
        taken_case{"Hours", R"({"reason": "x", "for": "2h"})", "x", 2h},
        taken_case{"FractionOfAnHour", R"({"reason": "x", "for": "1.5h"})", "x", 90min},
        taken_case{"BareSeconds", R"({"reason": "x", "for": "45"})", "x", 45s},
        taken_case{"ExactlyTheLimit", R"({"reason": "x", "for": "24h"})", "x", 24h},
        taken_case{"Unicode", R"({"reason": "migración de la base", "for": "1m"})",
                   "migración de la base", 1min}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

struct refused_case {
  const char* name;
  std::string body;
  const char* says;
};

void PrintTo(const refused_case& c, std::ostream* os) { *os << c.name; }

class maintenance_request_refused : public ::testing::TestWithParam<refused_case> {};

TEST_P(maintenance_request_refused, is_a_400_naming_the_problem) {
  const auto& c = GetParam();
  const auto got = parse_maintenance_request(c.body, 24h);
  ASSERT_FALSE(got.has_value());
  EXPECT_EQ(got.error().code(), "INVALID_MAINTENANCE");
  EXPECT_EQ(static_cast<int>(got.error().status()), 400);
  EXPECT_NE(got.error().message().find(c.says), std::string::npos) << got.error().message();
}

INSTANTIATE_TEST_SUITE_P(
    cases, maintenance_request_refused,
    ::testing::Values(
        refused_case{"Empty", "", "not JSON"}, refused_case{"NotJson", "{reason}", "not JSON"},
        refused_case{"Array", R"(["x", "30m"])", R"(expected {"reason")"},
        refused_case{"String", R"("x")", R"(expected {"reason")"},
        refused_case{"UnknownMember", R"({"reason": "x", "for": "1m", "until": "never"})",
                     "unknown field 'until'"},
        refused_case{"NoReason", R"({"for": "1m"})", "reason: missing"},
        refused_case{"EmptyReason", R"({"reason": "", "for": "1m"})", "must not be empty"},
        refused_case{"ReasonNotAString", R"({"reason": null, "for": "1m"})",
                     "reason: expected a string"},
        refused_case{"ReasonWithANewline", R"({"reason": "a\nb", "for": "1m"})",
                     "control characters"},
        refused_case{"ReasonTooLong",
                     R"({"reason": ")" + std::string(257, 'r') + R"(", "for": "1m"})",
                     "at most 256 bytes"},
        refused_case{"NoDuration", R"({"reason": "x"})", "for: missing"},
        refused_case{"DurationNumber", R"({"reason": "x", "for": 60})",
                     "expected a duration string"},
        refused_case{"DurationWord", R"({"reason": "x", "for": "an hour"})",
                     R"(expected a duration such as 250ms, 90s, 30m or 2h, got "an hour")"},
        refused_case{"DurationNegative", R"({"reason": "x", "for": "-5m"})", "expected a duration"},
        refused_case{"DurationZero", R"({"reason": "x", "for": "0ms"})", "greater than zero"},
        refused_case{"AboveTheLimit", R"({"reason": "x", "for": "25h"})",
                     "for: at most 24h (--max-maintenance), got 25h"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(maintenance_request, a_reason_of_exactly_256_bytes_is_taken) {
  const std::string body = R"({"reason": ")" + std::string(256, 'r') + R"(", "for": "1m"})";
  EXPECT_TRUE(parse_maintenance_request(body, 24h).has_value());
}

TEST(maintenance_json, shows_a_window_or_none) {
  EXPECT_EQ(maintenance_json(nullptr), R"({"active":false})");
  const auto since = std::chrono::sys_days{std::chrono::year{2026} / 12 / 7} + 21h + 41min + 5s;
  const health::maintenance_window w{"db \"migration\"", since, since + 30min, {}};
  EXPECT_EQ(nlohmann::json::parse(maintenance_json(&w)),
            (nlohmann::json{{"active", true},
                            {"reason", "db \"migration\""},
                            {"since", "2026-12-07T21:41:05.000Z"},
                            {"until", "2026-12-07T22:11:05.000Z"}}));
}

}  // namespace
}  // namespace badges_health::app
