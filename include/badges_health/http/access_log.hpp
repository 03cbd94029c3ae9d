// Every answer, HTTP/1.1, HTTP/2 or gRPC, is counted the same way: the
// worker's metrics, and, when the access log is on, one access_entry for
// the sink the app layer provides (which formats it as a JSON object or a
// line of text).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string_view>

#include "badges_health/http/request_metrics.hpp"

namespace badges_health::http {

/// One answered request, as the access log records it. The views live as
/// long as the call to the sink.
struct access_entry {
  /// When the answer was ready.
  std::chrono::system_clock::time_point time;
  /// The client's address and port; null when unknown.
  const boost::asio::ip::tcp::endpoint* client = nullptr;
  /// Empty when the request was refused before its start line was read.
  std::string_view method;
  std::string_view target;
  /// "HTTP/1.0", "HTTP/1.1", "HTTP/2" or "gRPC".
  std::string_view protocol;
  unsigned status = 0;
  /// gRPC calls: the status that ended the call.
  std::optional<int> grpc_status;
  /// Bytes of the response body.
  std::size_t body_bytes = 0;
  /// From the first byte of the request to the answer.
  std::chrono::nanoseconds duration{0};
  std::string_view user_agent;
  /// An error's machine code (BAD_REQUEST, ...); empty for other answers.
  std::string_view error_code;
};

/// Receives every access_entry; called on the worker threads.
using access_log_sink = std::function<void(const access_entry&)>;

/// Where a connection records its answers.
struct answer_recorder {
  request_metrics* metrics = nullptr;
  /// Null when the access log is off.
  const access_log_sink* log = nullptr;
};

/// An HTTP answer: metrics by route, then the access log.
struct answered {
  std::optional<std::size_t> route;
  boost::beast::http::verb method = boost::beast::http::verb::unknown;
  /// The duration of handling (the latency histogram); empty for a request
  /// refused before it was handled, which has no such sample.
  std::optional<std::chrono::nanoseconds> handled_in;
  access_entry entry;
};

void record_answer(const answer_recorder& to, const answered& a);

/// A gRPC call: the gRPC series, then the access log.
void record_grpc_call(const answer_recorder& to, std::size_t method, util::grpc::status_code status,
                      const access_entry& entry);

}  // namespace badges_health::http
