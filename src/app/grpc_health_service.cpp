// The gRPC health service's answers, read from the health model.
#include "badges_health/app/grpc_health_service.hpp"

#include "badges_health/health/health_snapshot.hpp"

namespace badges_health::app {

namespace {

http::serving_status serving_if(bool serving) noexcept {
  return serving ? http::serving_status::serving : http::serving_status::not_serving;
}

}  // namespace

std::optional<http::serving_status> grpc_health_service::status(std::string_view service) const {
  // The three probe names cost one atomic load; a check's name walks the
  // published checks (verbose output's path), which a prober asking for
  // one dependency accepts.
  if (service.empty()) {
    const auto s = source_.current();
    return serving_if(s.overall != health::status::down && !s.draining);
  }
  if (service == "liveness") return http::serving_status::serving;
  if (service == "readiness") return serving_if(source_.current().readiness());
  const auto snap = source_.details();
  if (!snap) return std::nullopt;
  for (const auto& c : snap->checks) {
    if (c.spec->name != service) continue;
    switch (c.state.effective(snap->taken_at, c.spec->stale_after())) {
      case health::check_status::pending:
        return http::serving_status::unknown;
      // A warning still serves (the service as a whole is degraded, not down).
      case health::check_status::pass:
      case health::check_status::warn:
        return http::serving_status::serving;
      case health::check_status::fail:
        return http::serving_status::not_serving;
    }
  }
  return std::nullopt;
}

}  // namespace badges_health::app
