// Shared response checks for the integration tests.
#include "support/response_checks.hpp"

#include <ctime>
#include <regex>

namespace badges_health::test {

namespace bhttp = boost::beast::http;

namespace {

// Status line, fields and body, for failure messages.
std::string describe(const http_response& res) {
  std::string out = std::to_string(res.result_int()) + "\n";
  for (const auto& f : res) {
    out.append(f.name_string()).append(": ").append(f.value()).append("\n");
  }
  return out + "\n" + res.body();
}

}  // namespace

std::string request_bytes(std::string_view method, std::string_view target,
                          std::string_view extra_headers) {
  std::string out;
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: localhost\r\n");
  out.append(extra_headers).append("\r\n");
  return out;
}

::testing::AssertionResult has_common_headers(const http_response& res, bool head) {
  auto failure = ::testing::AssertionFailure();
  bool ok = true;
  const auto expect_field = [&](std::string_view name, std::string_view value) {
    const auto it = res.find(name);
    if (it == res.end()) {
      ok = false;
      failure << "missing " << name << "; ";
    } else if (it->value() != value) {
      ok = false;
      failure << name << " is '" << it->value() << "', expected '" << value << "'; ";
    }
  };
  expect_field("Cache-Control", "no-store");
  expect_field("X-Content-Type-Options", "nosniff");
  expect_field("Access-Control-Allow-Origin", "*");

  static const std::regex imf_fixdate(
      R"(^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$)");
  const auto date = res.find(bhttp::field::date);
  if (date == res.end()) {
    ok = false;
    failure << "missing Date; ";
  } else if (!std::regex_match(std::string(date->value()), imf_fixdate)) {
    ok = false;
    failure << "Date '" << date->value() << "' is not an IMF-fixdate; ";
  }

  const auto length = res.find(bhttp::field::content_length);
  if (res.result_int() == 204) {
    if (length != res.end()) {
      ok = false;
      failure << "204 carries Content-Length: " << length->value() << "; ";
    }
  } else if (length == res.end()) {
    ok = false;
    failure << "missing Content-Length; ";
  } else if (!head && length->value() != std::to_string(res.body().size())) {
    ok = false;
    failure << "Content-Length " << length->value() << " but body has " << res.body().size()
            << " bytes; ";
  }
  if (head && !res.body().empty()) {
    ok = false;
    failure << "HEAD response has a body; ";
  }
  if (ok) return ::testing::AssertionSuccess();
  return failure << "in response:\n" << describe(res);
}

::testing::AssertionResult is_error_response(const http_response& res, unsigned status,
                                             std::string_view code) {
  if (res.result_int() != status) {
    return ::testing::AssertionFailure()
           << "status " << res.result_int() << ", expected " << status << "; response:\n"
           << describe(res);
  }
  const auto type = res.find(bhttp::field::content_type);
  if (type == res.end() || type->value().substr(0, 16) != "application/json") {
    return ::testing::AssertionFailure() << "error response is not application/json:\n"
                                         << describe(res);
  }
  const auto body = json_body(res);
  if (!body.is_object() || !body.contains("error") || !body["error"].is_string() ||
      body["error"].get<std::string>().empty() || !body.contains("code") ||
      !body["code"].is_string()) {
    return ::testing::AssertionFailure()
           << "body is not {\"error\":<string>,\"code\":<string>}: " << res.body();
  }
  if (body["code"] != code) {
    return ::testing::AssertionFailure()
           << "code " << body["code"] << ", expected " << code << "; body: " << res.body();
  }
  return has_common_headers(res);
}

nlohmann::json json_body(const http_response& res) {
  return nlohmann::json::parse(res.body(), nullptr, /*allow_exceptions=*/false);
}

std::optional<std::chrono::system_clock::time_point> parse_iso8601_utc(std::string_view text) {
  static const std::regex iso(R"(^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z$)");
  std::smatch m;
  const std::string s(text);
  if (!std::regex_match(s, m, iso)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = std::stoi(m[1]) - 1900;
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  tm.tm_hour = std::stoi(m[4]);
  tm.tm_min = std::stoi(m[5]);
  tm.tm_sec = std::stoi(m[6]);
  const std::time_t seconds = timegm(&tm);
  return std::chrono::system_clock::from_time_t(seconds) +
         std::chrono::milliseconds(std::stoi(m[7]));
}

}  // namespace badges_health::test
