// Limits and timeouts of the HTTP server, validated by the app layer.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace badges_health::http {

struct server_options {
  std::string host = "0.0.0.0";
  unsigned short port = 8080;
  unsigned threads = 1;
  std::size_t max_header_bytes = 8 * 1024;
  std::size_t max_target_bytes = 2 * 1024;
  std::size_t max_connections = 10000;
  /// Responses queued per connection before the session stops parsing
  /// pipelined requests and writes them out.
  std::size_t max_pipelined = 16;
  std::chrono::milliseconds request_timeout{10'000};
  std::chrono::milliseconds idle_timeout{75'000};
  std::chrono::milliseconds write_timeout{10'000};
  /// After the last response on a closing connection, how long to read and
  /// discard what the client still sends so our response is not lost to a
  /// TCP reset (what nginx calls lingering close).
  std::chrono::milliseconds linger_timeout{2'000};
  bool access_log = false;
  /// HTTP/2: concurrent streams a client may open on one connection
  /// (SETTINGS_MAX_CONCURRENT_STREAMS); more are refused.
  std::uint32_t max_concurrent_streams = 100;
  /// gRPC health: answer NOT_SERVING with grpc-status 14 (UNAVAILABLE)
  /// instead of status OK and a NOT_SERVING message, for probers that read
  /// only the status (AWS ALB).
  bool grpc_unavailable_when_not_serving = false;
};

}  // namespace badges_health::http
