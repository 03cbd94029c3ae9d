// The /status response from handler to wire bytes: the handler's body
// (clock read, timestamp, string) and response_writer's serialisation into
// a std::string reused across requests, as a session reuses its buffer.
#include <benchmark/benchmark.h>

#include <boost/beast/http/verb.hpp>
#include <cstdint>
#include <string>
#include <variant>

#include "badges_health/app/handlers.hpp"
#include "badges_health/health/health_model.hpp"
#include "badges_health/http/error_middleware.hpp"
#include "badges_health/http/request.hpp"
#include "badges_health/http/response_writer.hpp"
#include "badges_health/http/router.hpp"

namespace {

namespace app = badges_health::app;
namespace health = badges_health::health;
namespace http = badges_health::http;
using boost::beast::http::verb;

http::request_view status_request() {
  return http::request_view::parse(verb::get, "GET", "/status", http::protocol::http1_1).value();
}

void status_handler(benchmark::State& state) {
  const health::health_model model;
  const http::handler handler = app::make_status_handler(model);
  const http::request_view req = status_request();
  for (auto _ : state) {
    http::handler_result res = handler(req);
    benchmark::DoNotOptimize(res);
  }
}
BENCHMARK(status_handler);

void write_status_response(benchmark::State& state) {
  const health::health_model model;
  const http::request_view req = status_request();
  const auto res = app::make_status_handler(model)(req).value();
  std::string out;
  for (auto _ : state) {
    out.clear();
    http::write_response(res, http::write_options{}, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.counters["bytes_per_response"] = static_cast<double>(out.size());
}
BENCHMARK(write_status_response);

void status_handler_and_write(benchmark::State& state) {
  const health::health_model model;
  const http::handler handler = app::make_status_handler(model);
  const http::request_view req = status_request();
  std::string out;
  for (auto _ : state) {
    out.clear();
    http::write_response(handler(req).value(), http::write_options{}, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
}
BENCHMARK(status_handler_and_write);

// Everything a session does for one /status between parsing and the
// socket write: middleware (view, route, handler) and serialisation. The
// batch variant appends 16 responses as a pipelined read does; its time is
// per batch, items/s per response.
void status_request_to_bytes(benchmark::State& state) {
  const health::health_model model;
  http::metrics_registry metrics(1);
  http::router router;
  app::register_routes(router, model, metrics, app::service_info{}, "", "");
  const http::error_middleware middleware(router);
  const auto batch = static_cast<int>(state.range(0));
  std::string out;
  for (auto _ : state) {
    out.clear();
    for (int i = 0; i < batch; ++i) {
      http::write_response(
          middleware.handle(verb::get, "GET", "/status", http::protocol::http1_1, nullptr).res,
          http::write_options{}, out);
    }
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(batch));
}
BENCHMARK(status_request_to_bytes)->Arg(1)->Arg(16);

}  // namespace
