#include "support/grpc_curl.hpp"

#include <fstream>
#include <iterator>

#include "support/child_process.hpp"

namespace badges_health::test {

curl_grpc_reply curl_grpc_call(unsigned short port, const std::string& method, const temp_dir& dir,
                               const std::string& status) {
  const std::string request = dir.file("grpc-request");
  const std::string reply_file = dir.file("grpc-reply");
  std::ofstream(request, std::ios::binary).write("\0\0\0\0\0", 5);
  const auto r = run_program(
      {"curl", "-s", "-v", "--http2-prior-knowledge", "--max-time", "5", "--data-binary",
       "@" + request, "-H", "content-type: application/grpc", "-H", "te: trailers", "-o",
       reply_file,
       "http://127.0.0.1:" + std::to_string(port) + "/grpc.health.v1.Health/" + method});
  curl_grpc_reply out;
  out.exit_code = r.exit_code;
  out.trace = r.err;
  const auto headers_end = r.err.find("< \r\n");
  const auto at = r.err.find("< grpc-status: " + status);
  out.status_in_trailers =
      headers_end != std::string::npos && at != std::string::npos && at > headers_end;
  std::ifstream reply(reply_file, std::ios::binary);
  out.bytes.assign(std::istreambuf_iterator<char>(reply), {});
  return out;
}

}  // namespace badges_health::test
