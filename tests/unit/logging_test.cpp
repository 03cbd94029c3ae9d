// Unit tests for the JSON log line formatter: one line of valid JSON whose
// msg round-trips whatever the payload holds.
#include "badges_health/app/logging.hpp"

#include <gtest/gtest.h>
#include <spdlog/details/log_msg.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace badges_health::app {
namespace {

using std::chrono::milliseconds;

// Formats one message at a fixed instant and returns the line.
std::string format_line(spdlog::level::level_enum level, std::string_view payload,
                        spdlog::log_clock::time_point when = spdlog::log_clock::time_point{
                            milliseconds{1'709'164'800'123}}) {
  const spdlog::details::log_msg msg(when, spdlog::source_loc{}, "test", level,
                                     spdlog::string_view_t(payload.data(), payload.size()));
  spdlog::memory_buf_t buf;
  make_json_formatter()->format(msg, buf);
  return std::string(buf.data(), buf.size());
}

TEST(json_formatter, plain_message_is_one_json_line_with_time_level_msg) {
  const std::string line = format_line(spdlog::level::info, "listening on 0.0.0.0:8080");
  ASSERT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j.size(), 3u);
  EXPECT_EQ(j.at("time"), "2024-02-29T00:00:00.123Z");
  EXPECT_EQ(j.at("level"), "info");
  EXPECT_EQ(j.at("msg"), "listening on 0.0.0.0:8080");
}

TEST(json_formatter, special_characters_round_trip_on_one_line) {
  const std::string payload = std::string("say \"hi\" \\ path\nnext\r\tend ") + '\x01' + '\x1f' +
                              '\x7f' + std::string(1, '\0') + "!";
  const std::string line = format_line(spdlog::level::warn, payload);
  // Exactly one line: the only newline is the terminator.
  EXPECT_EQ(line.find('\n'), line.size() - 1) << line;
  EXPECT_EQ(line.find('\r'), std::string::npos) << line;
  for (char ch : line.substr(0, line.size() - 1)) {
    EXPECT_GE(static_cast<unsigned char>(ch), 0x20) << line;
  }
  nlohmann::json j;
  ASSERT_NO_THROW(j = nlohmann::json::parse(line)) << line;
  EXPECT_EQ(j.at("msg").get<std::string>(), payload);
  EXPECT_EQ(j.at("level"), spdlog::level::to_string_view(spdlog::level::warn).data());
}

TEST(json_formatter, utf8_message_round_trips) {
  const std::string payload = "caf\xc3\xa9 \xe2\x9c\x93";  // "café ✓"
  const auto j = nlohmann::json::parse(format_line(spdlog::level::info, payload));
  EXPECT_EQ(j.at("msg").get<std::string>(), payload);
}

TEST(json_formatter, invalid_utf8_in_message_still_gives_valid_json) {
  // Beast accepts bytes 0x80-0xFF in a request target, and the access log
  // and the internal-error log write the target into the message.
  const std::string payload = "access GET /\xff\xfe HTTP/1.1 404";
  const std::string line = format_line(spdlog::level::info, payload);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::parse_error& e) {
    FAIL() << "not valid JSON: " << e.what();
  }
  const std::string msg = j.at("msg").get<std::string>();
  EXPECT_EQ(msg.substr(0, 12), "access GET /") << msg;
  EXPECT_NE(msg.find(" HTTP/1.1 404"), std::string::npos) << msg;
}

TEST(json_formatter, fields_come_in_the_order_time_level_msg) {
  const std::string line = format_line(spdlog::level::info, "x");
  EXPECT_EQ(line, R"({"time":"2024-02-29T00:00:00.123Z","level":"info","msg":"x"})"
                  "\n");
}

TEST(json_formatter, invalid_utf8_becomes_the_replacement_character) {
  const auto j = nlohmann::json::parse(format_line(spdlog::level::info,
                                                   "a\xff"
                                                   "b"));
  EXPECT_EQ(j.at("msg").get<std::string>(),
            "a\xef\xbf\xbd"
            "b");
}

TEST(json_formatter, one_formatter_formats_many_lines_independently) {
  const auto formatter = make_json_formatter();
  const auto line = [&](spdlog::level::level_enum level, std::string_view payload) {
    const spdlog::details::log_msg msg(spdlog::log_clock::time_point{milliseconds{0}},
                                       spdlog::source_loc{}, "test", level,
                                       spdlog::string_view_t(payload.data(), payload.size()));
    spdlog::memory_buf_t buf;
    formatter->format(msg, buf);
    return nlohmann::json::parse(std::string(buf.data(), buf.size()));
  };
  EXPECT_EQ(line(spdlog::level::warn, "a much longer first message").at("msg"),
            "a much longer first message");
  const auto second = line(spdlog::level::info, "short");
  EXPECT_EQ(second.at("msg"), "short");
  EXPECT_EQ(second.at("level"), "info");
}

TEST(json_formatter, empty_message_is_valid_json) {
  const auto j = nlohmann::json::parse(format_line(spdlog::level::err, ""));
  EXPECT_EQ(j.at("msg"), "");
}

TEST(json_formatter, time_is_utc_iso8601_with_milliseconds) {
  const auto j = nlohmann::json::parse(
      format_line(spdlog::level::info, "x", spdlog::log_clock::time_point{milliseconds{-1}}));
  EXPECT_EQ(j.at("time"), "1969-12-31T23:59:59.999Z");
}

TEST(json_formatter, clone_formats_the_same_way) {
  const auto original = make_json_formatter();
  const auto copy = original->clone();
  const spdlog::details::log_msg msg(spdlog::log_clock::time_point{milliseconds{0}},
                                     spdlog::source_loc{}, "test", spdlog::level::debug,
                                     "a \"quoted\" word");
  spdlog::memory_buf_t a;
  spdlog::memory_buf_t b;
  original->format(msg, a);
  copy->format(msg, b);
  EXPECT_EQ(std::string(a.data(), a.size()), std::string(b.data(), b.size()));
  EXPECT_EQ(nlohmann::json::parse(std::string(a.data(), a.size())).at("msg"), "a \"quoted\" word");
}

}  // namespace
}  // namespace badges_health::app

namespace badges_health::app {
namespace {

http::access_entry sample_entry() {
  http::access_entry e;
  e.time = std::chrono::system_clock::time_point{milliseconds{1'709'164'800'123}};
  e.method = "GET";
  e.target = "/status";
  e.protocol = "HTTP/1.1";
  e.status = 200;
  e.body_bytes = 52;
  e.duration = std::chrono::nanoseconds{12'345};
  e.user_agent = "kube-probe/1.30";
  return e;
}

TEST(access_line, json_is_one_object_with_typed_fields) {
  const std::string line = access_line(sample_entry(), log_format::json);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const auto j = nlohmann::json::parse(line);
  EXPECT_EQ(j["time"], "2024-02-29T00:00:00.123Z");
  EXPECT_EQ(j["msg"], "access");
  EXPECT_EQ(j["client"], "-");
  EXPECT_EQ(j["target"], "/status");
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["bytes"], 52);
  EXPECT_DOUBLE_EQ(j["duration_us"].get<double>(), 12.3);
  EXPECT_EQ(j["user_agent"], "kube-probe/1.30");
  EXPECT_FALSE(j.contains("grpc_status"));
  EXPECT_FALSE(j.contains("error_code"));
}

TEST(access_line, json_escapes_what_a_client_sends_and_replaces_bytes_that_are_not_utf8) {
  auto e = sample_entry();
  e.target = "/st\"at\\us\x01\xff";
  e.user_agent = "caf\xc3\xa9 \"agent\"";
  e.grpc_status = 14;
  e.error_code = "NOT_FOUND";
  const std::string line = access_line(e, log_format::json);
  const auto j = nlohmann::json::parse(line);  // throws on anything invalid
  EXPECT_EQ(j["target"], "/st\"at\\us\x01\xef\xbf\xbd");
  EXPECT_EQ(j["user_agent"], "caf\xc3\xa9 \"agent\"");
  EXPECT_EQ(j["grpc_status"], 14);
  EXPECT_EQ(j["error_code"], "NOT_FOUND");
}

}  // namespace
}  // namespace badges_health::app
