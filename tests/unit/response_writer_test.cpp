// Unit tests for write_response and http_date: status line, the headers
// every response carries, framing (Content-Length, HEAD, 204) and
// connection handling. The output is parsed back from the wire bytes.
#include "badges_health/http/response_writer.hpp"
#include "badges_health/util/timestamp.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace badges_health::http {
namespace {

using std::chrono::seconds;
using std::chrono::system_clock;
using util::http_date;

// One response as read back from the wire.
struct parsed {
  std::string status_line;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::size_t count(std::string_view name) const {
    std::size_t n = 0;
    for (const auto& h : headers) n += h.first == name ? 1 : 0;
    return n;
  }
  std::string value(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (n == name) return v;
    }
    return "<absent>";
  }
};

// Splits the head of `wire` at the blank line; whatever follows is the body.
parsed parse_head(std::string_view wire) {
  parsed p;
  const std::size_t end = wire.find("\r\n\r\n");
  EXPECT_NE(end, std::string_view::npos) << "no end of header block";
  if (end == std::string_view::npos) return p;
  std::string_view head = wire.substr(0, end + 2);
  p.body = std::string(wire.substr(end + 4));
  std::size_t eol = head.find("\r\n");
  p.status_line = std::string(head.substr(0, eol));
  head.remove_prefix(eol + 2);
  while (!head.empty()) {
    eol = head.find("\r\n");
    const std::string_view line = head.substr(0, eol);
    const std::size_t colon = line.find(": ");
    EXPECT_NE(colon, std::string_view::npos) << "malformed header line: " << line;
    if (colon != std::string_view::npos) {
      p.headers.emplace_back(std::string(line.substr(0, colon)),
                             std::string(line.substr(colon + 2)));
    }
    head.remove_prefix(eol + 2);
  }
  return p;
}

parsed write_one(const response& res, const write_options& opts = {}) {
  std::string out;
  write_response(res, opts, out);
  return parse_head(out);
}

response json_ok(std::string body) {
  response res;
  res.body = std::move(body);
  return res;
}

TEST(response_writer, status_line_has_code_and_reason) {
  EXPECT_EQ(write_one(json_ok("{}")).status_line, "HTTP/1.1 200 OK");
  response unavailable;
  unavailable.status = beast_http::status::service_unavailable;
  EXPECT_EQ(write_one(unavailable).status_line, "HTTP/1.1 503 Service Unavailable");
}

TEST(response_writer, date_header_is_an_imf_fixdate) {
  const parsed p = write_one(json_ok("{}"));
  EXPECT_EQ(p.count("Date"), 1u);
  const std::regex imf_fixdate(
      R"(^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$)");
  EXPECT_TRUE(std::regex_match(p.value("Date"), imf_fixdate)) << p.value("Date");
}

TEST(response_writer, http_date_formats_known_instants) {
  EXPECT_EQ(http_date(system_clock::time_point{}), "Thu, 01 Jan 1970 00:00:00 GMT");
  // 2024-02-29T12:34:56Z, a Thursday.
  EXPECT_EQ(http_date(system_clock::time_point{seconds{1'709'210'096}}),
            "Thu, 29 Feb 2024 12:34:56 GMT");
  // 2023-12-31T23:59:59Z, a Sunday.
  EXPECT_EQ(http_date(system_clock::time_point{seconds{1'704'067'199}}),
            "Sun, 31 Dec 2023 23:59:59 GMT");
  // One second before the epoch, a Wednesday.
  EXPECT_EQ(http_date(system_clock::time_point{seconds{-1}}), "Wed, 31 Dec 1969 23:59:59 GMT");
}

TEST(response_writer, http_date_cache_is_refreshed_when_the_second_changes) {
  const system_clock::time_point base{seconds{1'704'067'199}};
  EXPECT_EQ(http_date(base), "Sun, 31 Dec 2023 23:59:59 GMT");
  EXPECT_EQ(http_date(base + std::chrono::milliseconds{500}), "Sun, 31 Dec 2023 23:59:59 GMT");
  EXPECT_EQ(http_date(base + seconds{1}), "Mon, 01 Jan 2024 00:00:00 GMT");
}

TEST(response_writer, common_headers_are_on_every_response) {
  response no_content;
  no_content.status = beast_http::status::no_content;
  for (const parsed& p : {write_one(json_ok("{}")), write_one(no_content)}) {
    EXPECT_EQ(p.value("Cache-Control"), "no-store") << p.status_line;
    EXPECT_EQ(p.value("X-Content-Type-Options"), "nosniff") << p.status_line;
    EXPECT_EQ(p.value("Access-Control-Allow-Origin"), "*") << p.status_line;
  }
}

TEST(response_writer, content_type_is_written) {
  EXPECT_EQ(write_one(json_ok("{}")).value("Content-Type"), "application/json");
  response text = json_ok("hi");
  text.content_type = "text/plain; charset=utf-8";
  EXPECT_EQ(write_one(text).value("Content-Type"), "text/plain; charset=utf-8");
}

TEST(response_writer, content_length_equals_body_size_and_body_follows) {
  const std::string body = R"({"status":"ok","timestamp":"2024-02-29T00:00:00.000Z"})";
  const parsed p = write_one(json_ok(body));
  EXPECT_EQ(p.count("Content-Length"), 1u);
  EXPECT_EQ(p.value("Content-Length"), std::to_string(body.size()));
  EXPECT_EQ(p.body, body);
}

TEST(response_writer, empty_body_has_content_length_zero) {
  const parsed p = write_one(json_ok(""));
  EXPECT_EQ(p.value("Content-Length"), "0");
  EXPECT_EQ(p.body, "");
}

TEST(response_writer, head_keeps_content_length_but_drops_the_body) {
  write_options opts;
  opts.head = true;
  const parsed p = write_one(json_ok("0123456789"), opts);
  EXPECT_EQ(p.value("Content-Length"), "10");
  EXPECT_EQ(p.body, "");
}

TEST(response_writer, no_content_has_no_content_length_and_no_body) {
  response res;
  res.status = beast_http::status::no_content;
  res.body = "should not be sent";
  res.headers.emplace_back("Allow", "GET, HEAD, OPTIONS");
  const parsed p = write_one(res);
  EXPECT_EQ(p.status_line, "HTTP/1.1 204 No Content");
  EXPECT_EQ(p.count("Content-Length"), 0u);
  EXPECT_EQ(p.body, "");
  EXPECT_EQ(p.value("Allow"), "GET, HEAD, OPTIONS");
}

TEST(response_writer, keep_alive_http11_has_no_connection_header) {
  EXPECT_EQ(write_one(json_ok("{}")).count("Connection"), 0u);
}

TEST(response_writer, no_keep_alive_adds_connection_close) {
  write_options opts;
  opts.keep_alive = false;
  const parsed p = write_one(json_ok("{}"), opts);
  EXPECT_EQ(p.count("Connection"), 1u);
  EXPECT_EQ(p.value("Connection"), "close");

  opts.version = 10;
  EXPECT_EQ(write_one(json_ok("{}"), opts).value("Connection"), "close");
}

TEST(response_writer, http10_keep_alive_adds_connection_keep_alive) {
  write_options opts;
  opts.version = 10;
  const parsed p = write_one(json_ok("{}"), opts);
  EXPECT_EQ(p.count("Connection"), 1u);
  EXPECT_EQ(p.value("Connection"), "keep-alive");
}

TEST(response_writer, extra_headers_are_written_in_order) {
  response res = json_ok("{}");
  res.headers.emplace_back("x-envoy-degraded", "true");
  res.headers.emplace_back("Allow", "GET, HEAD, OPTIONS");
  const parsed p = write_one(res);
  EXPECT_EQ(p.value("x-envoy-degraded"), "true");
  EXPECT_EQ(p.value("Allow"), "GET, HEAD, OPTIONS");
  std::size_t degraded_at = 0;
  std::size_t allow_at = 0;
  for (std::size_t i = 0; i < p.headers.size(); ++i) {
    if (p.headers[i].first == "x-envoy-degraded") degraded_at = i;
    if (p.headers[i].first == "Allow") allow_at = i;
  }
  EXPECT_LT(degraded_at, allow_at);
}

TEST(response_writer, two_responses_are_appended_back_to_back) {
  std::string out = "PREFIX";
  write_response(json_ok("first"), {}, out);
  const std::size_t first_end = out.size();
  response second;
  second.status = beast_http::status::not_found;
  second.body = "second!";
  write_response(second, {}, out);

  ASSERT_EQ(out.substr(0, 6), "PREFIX");
  const std::string_view wire(out);
  const parsed a = parse_head(wire.substr(6, first_end - 6));
  EXPECT_EQ(a.status_line, "HTTP/1.1 200 OK");
  EXPECT_EQ(a.value("Content-Length"), "5");
  EXPECT_EQ(a.body, "first");

  const parsed b = parse_head(wire.substr(first_end));
  EXPECT_EQ(b.status_line, "HTTP/1.1 404 Not Found");
  EXPECT_EQ(b.value("Content-Length"), "7");
  EXPECT_EQ(b.body, "second!");
}

}  // namespace
}  // namespace badges_health::http
