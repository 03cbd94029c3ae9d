// Test support: checks shared by the integration tests on what every
// response of the service carries (common headers, the JSON error body,
// the ISO-8601 timestamp), as gtest assertion results so that a failure
// points at the calling test.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "support/raw_client.hpp"

namespace badges_health::test {

/// The bytes of one HTTP/1.1 request with a Host header; `extra_headers`
/// are complete lines ("Name: value\r\n").
std::string request_bytes(std::string_view method, std::string_view target,
                          std::string_view extra_headers = "");

/// Cache-Control: no-store, X-Content-Type-Options: nosniff,
/// Access-Control-Allow-Origin: *, an IMF-fixdate Date, and a Content-Length
/// matching the body (absent on 204). For a HEAD response the body is empty
/// and Content-Length is not compared with it.
::testing::AssertionResult has_common_headers(const http_response& res, bool head = false);

/// `status`, a JSON Content-Type, and a body that is a JSON object with a
/// string "error" and "code" equal to `code`; plus the common headers.
::testing::AssertionResult is_error_response(const http_response& res, unsigned status,
                                             std::string_view code);

/// The body parsed as JSON, or a discarded value when it is not JSON.
nlohmann::json json_body(const http_response& res);

/// Parses `YYYY-MM-DDTHH:MM:SS.mmmZ`; nullopt for anything else.
std::optional<std::chrono::system_clock::time_point> parse_iso8601_utc(std::string_view text);

}  // namespace badges_health::test
