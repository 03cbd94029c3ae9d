// Wire serialisation of responses.
#include "badges_health/http/response_writer.hpp"

#include <boost/beast/http/status.hpp>
#include <charconv>

#include "badges_health/util/timestamp.hpp"

namespace badges_health::http {
namespace {

void append_number(std::string& out, std::size_t n) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, r.ptr);
}

}  // namespace

void write_response(const response& res, const write_options& opts, std::string& out) {
  const auto code = static_cast<unsigned>(res.status);
  out.append("HTTP/1.1 ");
  append_number(out, code);
  out.push_back(' ');
  out.append(beast_http::obsolete_reason(res.status));
  out.append("\r\nDate: ");
  out.append(util::http_date(std::chrono::system_clock::now()));
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
