// Every answer, HTTP/1.1 or HTTP/2, counted the same way: the worker's
// metrics and, when enabled, one access-log line.
#pragma once

#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string_view>

#include "badges_health/http/protocol.hpp"
#include "badges_health/http/request_metrics.hpp"

namespace badges_health::http {

struct answered {
  std::optional<std::size_t> route;
  boost::beast::http::verb method = boost::beast::http::verb::unknown;
  /// Empty when the request was refused before its start line was read:
  /// logged as "-".
  std::string_view method_text;
  std::string_view target;
  http::protocol protocol = http::protocol::http1_1;
  unsigned status = 0;
  std::chrono::nanoseconds took{0};
};

void record_answer(request_metrics* metrics, bool access_log, const answered& a);

}  // namespace badges_health::http
