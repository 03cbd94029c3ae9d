// libFuzzer target over the whole request path without sockets: arbitrary
// bytes, delivered in arbitrary pieces, through parsing, limits, routing,
// the middleware and response writing. Every output must be a sequence of
// well-formed HTTP/1.1 responses.
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "badges_health/app/check_reports.hpp"
#include "badges_health/app/handlers.hpp"
#include "badges_health/health/health_model.hpp"
#include "badges_health/health/report_sink.hpp"
#include "badges_health/http/error_middleware.hpp"
#include "badges_health/http/request_metrics.hpp"
#include "badges_health/http/request_processor.hpp"
#include "badges_health/http/router.hpp"

namespace {

using namespace badges_health;

// Takes the reports the write route accepts (for "processor"), as the
// scheduler would.
class sink_for_reports final : public health::report_sink {
 public:
  health::report_outcome submit(std::string_view name, health::check_result) override {
    return name == "processor" ? health::report_outcome::accepted
                               : health::report_outcome::unknown_check;
  }
};

struct service {
  service() {
    options.max_header_bytes = 1024;  // small limits reach the limit paths
    options.max_target_bytes = 256;
    options.max_pipelined = 4;
    // With the write route, so that request bodies are fuzzed too.
    app::register_routes(router, model, metrics, info, "token", "", &reports);
  }
  http::server_options options;
  health::health_model model;
  http::metrics_registry metrics{1};  // register_routes names the routes
  app::service_info info;
  sink_for_reports sink;
  app::check_report_handler reports{sink, "token"};
  http::router router;
  http::error_middleware middleware{router};
};

// Aborts unless `out` is a sequence of well-formed HTTP/1.1 responses. A
// response's body is present unless it answered HEAD, which the bytes
// alone cannot tell, so a body is skipped only where one follows.
void check_responses(std::string_view out) {
  namespace bhttp = boost::beast::http;
  while (!out.empty()) {
    if (out.substr(0, 9) != "HTTP/1.1 ") std::abort();
    bhttp::response_parser<bhttp::string_body> p;
    p.skip(true);  // header only
    boost::beast::error_code ec;
    const std::size_t used = p.put(boost::asio::buffer(out.data(), out.size()), ec);
    if (ec || !p.is_header_done() || used == 0) std::abort();
    out.remove_prefix(used);
    const std::size_t length = p.content_length().value_or(0);
    if (!out.empty() && out.substr(0, 9) != "HTTP/1.1 ") {
      if (out.size() < length) std::abort();
      out.remove_prefix(length);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static service svc;
  // The first byte chooses how the rest is split into reads (1..256 bytes).
  if (size == 0) return 0;
  const std::size_t chunk = static_cast<std::size_t>(data[0]) + 1;
  std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);

  http::request_processor processor(svc.options, svc.middleware, {&svc.metrics.worker(0), nullptr});
  while (!input.empty() && !processor.closing()) {
    const std::string_view piece = input.substr(0, chunk);
    input.remove_prefix(piece.size());
    processor.receive(piece, false);
    // Drain: write out, then let the processor continue with what it kept.
    for (int rounds = 0; !processor.output().empty() && rounds < 1000; ++rounds) {
      check_responses(processor.output().to_string());
      processor.written();
      if (processor.closing()) break;
      processor.process(false);
    }
  }
  return 0;
}
