// PUT /checks/{name} as the route will call it: the token first, the body's
// shape, the check's name and type, and 204 with the result handed to the
// scheduler; plus the whole way into a real scheduler on a manual clock.
#include "badges_health/app/check_reports.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <variant>

#include "badges_health/health/check_clock.hpp"
#include "badges_health/health/check_reader.hpp"
#include "badges_health/health/check_scheduler.hpp"
#include "badges_health/health/health_model.hpp"
#include "badges_health/health/health_snapshot.hpp"

namespace badges_health::app {
namespace {

using beast_status = boost::beast::http::status;
using namespace std::chrono_literals;

// Knows "processor" (a ttl check) and "db" (a check that takes no reports).
class recording_sink final : public health::report_sink {
 public:
  health::report_outcome submit(std::string_view name, health::check_result r) override {
    if (name == "db") return health::report_outcome::not_reported;
    if (name != "processor") return health::report_outcome::unknown_check;
    last = std::move(r);
    return health::report_outcome::accepted;
  }
  std::optional<health::check_result> last;
};

struct report_case {
  const char* name;
  const char* check;
  const char* authorization;
  const char* content_type;
  const char* body;
  beast_status status;
  const char* code;  // empty for 204
  const char* message;
};

void PrintTo(const report_case& c, std::ostream* os) { *os << c.name; }

class check_report_cases : public ::testing::TestWithParam<report_case> {};

TEST_P(check_report_cases, answer_as_the_contract_says) {
  const auto& c = GetParam();
  recording_sink sink;
  const check_report_handler handler(sink, "adm1n");
  const auto result = handler.handle(c.check, c.authorization, c.content_type, c.body);
  if (std::string(c.code).empty()) {
    ASSERT_TRUE(result.has_value());
    EXPECT_EQ(result->status, beast_status::no_content);
    EXPECT_TRUE(result->body.empty());
    EXPECT_TRUE(sink.last.has_value());
    return;
  }
  ASSERT_TRUE(result.has_error());
  const http::http_error e = result.error();
  EXPECT_EQ(e.status(), c.status);
  EXPECT_EQ(e.code(), c.code);
  EXPECT_EQ(e.message(), c.message);
  EXPECT_FALSE(sink.last.has_value()) << "a refused report reached the scheduler";
}

const char* token = "Bearer adm1n";
const char* json_type = "application/json";

INSTANTIATE_TEST_SUITE_P(
    reports, check_report_cases,
    ::testing::Values(
        report_case{"pass", "processor", token, json_type, R"({"status":"pass"})",
                    beast_status::no_content, "", ""},
        report_case{"warn_with_output", "processor", token, "application/json; charset=utf-8",
                    R"({"status":"warn","output":"queue is long"})", beast_status::no_content, "",
                    ""},
        report_case{"no_content_type", "processor", token, "", R"({"status":"fail"})",
                    beast_status::no_content, "", ""},
        report_case{"no_token", "processor", "", json_type, R"({"status":"pass"})",
                    beast_status::unauthorized, "UNAUTHORIZED",
                    "this endpoint needs a bearer token"},
        report_case{"wrong_token", "processor", "Bearer nope", json_type, R"({"status":"pass"})",
                    beast_status::unauthorized, "UNAUTHORIZED", "invalid bearer token"},
        // Without the token nothing says which checks exist.
        report_case{"wrong_token_for_an_unknown_check", "nope", "Bearer nope", json_type, "{",
                    beast_status::unauthorized, "UNAUTHORIZED", "invalid bearer token"},
        report_case{"form_content_type", "processor", token, "application/x-www-form-urlencoded",
                    R"({"status":"pass"})", beast_status::unsupported_media_type,
                    "UNSUPPORTED_MEDIA_TYPE", "a report is application/json"},
        report_case{"not_json", "processor", token, json_type, "{status: pass}",
                    beast_status::bad_request, "INVALID_REPORT", "the body is not JSON"},
        report_case{"empty_body", "processor", token, json_type, "", beast_status::bad_request,
                    "INVALID_REPORT", "the body is not JSON"},
        report_case{"an_array", "processor", token, json_type, R"(["pass"])",
                    beast_status::bad_request, "INVALID_REPORT",
                    R"(expected {"status": "pass" | "warn" | "fail", "output": "..."})"},
        report_case{"unknown_status", "processor", token, json_type, R"({"status":"ok"})",
                    beast_status::bad_request, "INVALID_REPORT",
                    R"(status: expected "pass", "warn" or "fail", got "ok")"},
        report_case{"no_status", "processor", token, json_type, R"({"output":"x"})",
                    beast_status::bad_request, "INVALID_REPORT",
                    R"(status: expected "pass", "warn" or "fail")"},
        report_case{"unknown_field", "processor", token, json_type,
                    R"({"status":"pass","ttl":"5s"})", beast_status::bad_request, "INVALID_REPORT",
                    "unknown field 'ttl'"},
        report_case{"output_not_a_string", "processor", token, json_type,
                    R"({"status":"pass","output":3})", beast_status::bad_request, "INVALID_REPORT",
                    "output: expected a string"},
        report_case{"unknown_check", "nope", token, json_type, R"({"status":"pass"})",
                    beast_status::not_found, "NOT_FOUND", R"(no check named "nope")"},
        report_case{"not_a_ttl_check", "db", token, json_type, R"({"status":"pass"})",
                    beast_status::not_found, "NOT_FOUND",
                    R"(check "db" is not a ttl check: it takes no reports)"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(check_report_handler, hands_over_the_status_and_output) {
  recording_sink sink;
  const check_report_handler handler(sink, "adm1n");
  handler.handle("processor", "Bearer adm1n", "application/json",
                 R"({"status":"warn","output":"queue is long"})");
  ASSERT_TRUE(sink.last);
  EXPECT_EQ(sink.last->status, health::check_status::warn);
  EXPECT_EQ(sink.last->output, "queue is long");
  handler.handle("processor", "Bearer adm1n", "", R"({"status":"fail"})");
  EXPECT_EQ(sink.last->output, "reported fail");
}

TEST(check_report_handler, without_an_admin_token_the_endpoint_does_not_exist) {
  recording_sink sink;
  const check_report_handler handler(sink, "");
  const auto result =
      handler.handle("processor", "Bearer ", "application/json", R"({"status":"pass"})");
  ASSERT_TRUE(result.has_error());
  EXPECT_EQ(result.error().status(), beast_status::not_found);
  EXPECT_EQ(result.error().code(), "NOT_FOUND");
  EXPECT_FALSE(sink.last);
}

// The handler in front of the real scheduler: a report sets the check's
// state, which the health model publishes.
TEST(check_report_handler, a_report_reaches_the_ttl_check_through_the_scheduler) {
  health::manual_clock clock;
  boost::asio::io_context io;
  health::health_model model(clock);
  health::check_scheduler scheduler({io.get_executor(), &clock, nullptr}, model);
  health::read_options options;
  options.accept_reports = true;
  scheduler.apply(
      {health::read_check(nlohmann::json{{"name", "processor"}, {"type", "ttl"}, {"ttl", "30s"}},
                          "checks[0]", options)});
  const check_report_handler handler(scheduler, "adm1n");
  const auto result = handler.handle("processor", "Bearer adm1n", "application/json",
                                     R"({"status":"pass","output":"consumed 12 events"})");
  ASSERT_TRUE(result.has_value());
  clock.run_for(io, 0ms);
  const auto snap = model.details();
  EXPECT_EQ(snap->checks.at(0).state.status(), health::check_status::pass);
  EXPECT_EQ(snap->checks.at(0).state.last_output(), "consumed 12 events");
  EXPECT_EQ(model.current().overall, health::status::ok);
}

}  // namespace
}  // namespace badges_health::app
