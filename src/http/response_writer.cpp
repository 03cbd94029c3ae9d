// Wire serialisation of responses with a per-thread Date cache.
#include "badges_health/http/response_writer.hpp"

#include <boost/beast/http/status.hpp>
#include <charconv>
#include <cstdio>
#include <limits>

#include "badges_health/health/timestamp.hpp"

namespace badges_health::http {
namespace {

void append_number(std::string& out, std::size_t n) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

}  // namespace

std::string_view http_date(std::chrono::system_clock::time_point now) {
  static constexpr const char* days[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  struct cache {
    long long seconds = std::numeric_limits<long long>::min();  // no instant yet
    char text[30] = {};
  };
  thread_local cache c;
  // floor, not truncation, so instants before 1970 land in the right second
  const long long secs = std::chrono::floor<std::chrono::seconds>(now.time_since_epoch()).count();
  if (secs != c.seconds) {
    long long days_since_epoch = secs / 86400;
    long long sod = secs % 86400;
    if (sod < 0) {
      sod += 86400;
      --days_since_epoch;
    }
    const auto d = health::civil_from_days(days_since_epoch);
    const auto weekday = static_cast<std::size_t>(((days_since_epoch % 7) + 7) % 7);
    // 1970-01-01 was a Thursday.
    std::snprintf(c.text, sizeof c.text, "%s, %02u %s %04d %02lld:%02lld:%02lld GMT", days[weekday],
                  d.day, months[d.month - 1], d.year, sod / 3600, (sod / 60) % 60, sod % 60);
    c.seconds = secs;
  }
  return {c.text, 29};
}

void write_response(const response& res, const write_options& opts, std::string& out) {
  const auto code = static_cast<unsigned>(res.status);
  out.append("HTTP/1.1 ");
  append_number(out, code);
  out.push_back(' ');
  out.append(beast_http::obsolete_reason(res.status));
  out.append("\r\nDate: ");
  out.append(http_date(std::chrono::system_clock::now()));
  out.append("\r\n");
  out.append(common_headers);
  // RFC 9110 section 8.6: no Content-Length (and no content) on 204 or 1xx.
  const bool bodiless_status = code == 204 || code == 304 || code / 100 == 1;
  if (!bodiless_status) {
    out.append("Content-Type: ");
    out.append(res.content_type);
    out.append("\r\nContent-Length: ");
    append_number(out, res.body.size());
    out.append("\r\n");
  }
  for (const auto& [name, value] : res.headers) {
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
  }
  if (!opts.keep_alive) {
    out.append("Connection: close\r\n");
  } else if (opts.version < 11) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
  if (!opts.head && !bodiless_status) out.append(res.body);
}

}  // namespace badges_health::http
