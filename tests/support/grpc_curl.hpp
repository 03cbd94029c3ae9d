// Test support: one unary gRPC call made by curl (a client the project did
// not write), with what a test checks of it: that grpc-status came in the
// trailers, after the headers, and the reply's bytes.
#pragma once

#include <string>

#include "support/temp_dir.hpp"

namespace badges_health::test {

struct curl_grpc_reply {
  int exit_code = -1;
  /// curl's verbose output (the response headers and trailers), for messages.
  std::string trace;
  /// `grpc-status: <status>` came after the end of the headers.
  bool status_in_trailers = false;
  /// The response body: the length-prefixed gRPC message.
  std::string bytes;
};

/// Calls `/grpc.health.v1.Health/<method>` on 127.0.0.1:`port` over h2c
/// with an empty request message, expecting grpc-status `status`; files go
/// to `dir`.
curl_grpc_reply curl_grpc_call(unsigned short port, const std::string& method, const temp_dir& dir,
                               const std::string& status = "0");

}  // namespace badges_health::test
