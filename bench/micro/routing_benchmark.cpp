// Routing: a request target through error_middleware::handle and the
// service's real route table, from the path split to the handler's
// response; plus the error paths (404, unknown parameter) that scanners
// and typos hit, which are returned as values like any other answer.
#include <benchmark/benchmark.h>

#include <boost/beast/http/verb.hpp>
#include <optional>
#include <string_view>
#include <variant>

#include "badges_health/app/handlers.hpp"
#include "badges_health/health/health_model.hpp"
#include "badges_health/http/error_middleware.hpp"
#include "badges_health/http/request.hpp"
#include "badges_health/http/request_metrics.hpp"
#include "badges_health/http/router.hpp"

namespace {

namespace app = badges_health::app;
namespace health = badges_health::health;
namespace http = badges_health::http;
using boost::beast::http::verb;

// The routes as the application registers them, with no checks configured
// (the health model then answers ok from its initial snapshot).
class service_routes {
 public:
  service_routes() { app::register_routes(router_, model_, metrics_, app::service_info{}, "", ""); }
  const http::router& router() const noexcept { return router_; }
  const http::error_middleware& middleware() const noexcept { return middleware_; }

 private:
  health::health_model model_;
  http::metrics_registry metrics_{1};
  http::router router_;
  http::error_middleware middleware_{router_};
};

void handle(benchmark::State& state, verb method, std::string_view method_text,
            std::string_view target) {
  const service_routes routes;
  for (auto _ : state) {
    http::answer a =
        routes.middleware().handle(method, method_text, target, http::protocol::http1_1, nullptr);
    benchmark::DoNotOptimize(a);
  }
}
BENCHMARK_CAPTURE(handle, get_status, verb::get, "GET", "/status");
BENCHMARK_CAPTURE(handle, head_status, verb::head, "HEAD", "/status");
BENCHMARK_CAPTURE(handle, get_status_absolute_form, verb::get, "GET",
                  "http://127.0.0.1:8080/status");
BENCHMARK_CAPTURE(handle, get_unknown_path_404, verb::get, "GET", "/wp-login.php");
BENCHMARK_CAPTURE(handle, get_unknown_parameter_400, verb::get, "GET", "/status?foo=1");

// The router alone, with the request view already built: what the
// middleware adds is the difference from handle/get_status.
void dispatch_status(benchmark::State& state) {
  const service_routes routes;
  const auto req =
      http::request_view::parse(verb::get, "GET", "/status", http::protocol::http1_1).value();
  for (auto _ : state) {
    std::optional<std::size_t> route;
    http::handler_result r = routes.router().dispatch(req, route);
    benchmark::DoNotOptimize(r);
    benchmark::DoNotOptimize(route);
  }
}
BENCHMARK(dispatch_status);

}  // namespace
