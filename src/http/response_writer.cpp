// HTTP/1.1 serialization of the finished field list.
#include "badges_health/http/response_writer.hpp"

#include <boost/beast/http/status.hpp>
#include <charconv>
#include <chrono>

#include "badges_health/http/response_fields.hpp"
#include "badges_health/util/timestamp.hpp"

namespace badges_health::http {
namespace {

// Bodies up to this size are copied next to their head, so that a small
// response is one contiguous piece (one plain send); larger ones are moved
// into the queue as a piece of their own.
constexpr std::size_t copy_body_up_to = 4096;

// Appends the status line and header block to `head`.
void write_head(const response& res, const write_options& opts, std::string& head) {
  char length[24];
  const auto end = std::to_chars(length, length + sizeof length, res.payload().size()).ptr;
  const std::string_view length_text(length, static_cast<std::size_t>(end - length));
  char code[4];
  std::to_chars(code, code + sizeof code, static_cast<unsigned>(res.status));
  head.append("HTTP/1.1 ");
  head.append(code, 3);
  head.push_back(' ');
  head.append(beast_http::obsolete_reason(res.status));
  head.append("\r\n");
  for_each_field(res, util::http_date(std::chrono::system_clock::now()), length_text,
                 [&head](const field_view& f) {
                   head.append(f.name);
                   head.append(": ");
                   head.append(f.value);
                   head.append("\r\n");
                 });
  // An event stream's body runs until the stream ends: chunked, except
  // to an HTTP/1.0 client, which reads it to the close.
  if (res.event_stream && opts.version >= 11) head.append("Transfer-Encoding: chunked\r\n");
  if (!opts.keep_alive) {
    head.append("Connection: close\r\n");
  } else if (opts.version < 11) {
    head.append("Connection: keep-alive\r\n");
  }
  head.append("\r\n");
}

bool sends_body(const response& res, const write_options& opts) {
  return !opts.head && status_has_content(static_cast<unsigned>(res.status));
}

}  // namespace

void write_response(response&& res, const write_options& opts, output_queue& out) {
  // Head and small body are put together in a scratch string that keeps
  // its capacity, then copied into the queue in one piece.
  thread_local std::string scratch;
  scratch.clear();
  write_head(res, opts, scratch);
  const bool body = sends_body(res, opts);
  if (body && !res.shared_body && res.body.size() <= copy_body_up_to) {
    scratch.append(res.body);
    out.append(std::string_view(scratch));
    return;
  }
  out.append(std::string_view(scratch));
  if (!body) return;
  if (res.shared_body) {
    out.append(std::move(res.shared_body));
  } else {
    out.append(std::move(res.body));
  }
}

void write_response(const response& res, const write_options& opts, std::string& out) {
  write_head(res, opts, out);
  if (sends_body(res, opts)) out.append(res.payload());
}

}  // namespace badges_health::http
