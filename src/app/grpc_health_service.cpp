// The gRPC health service's answers, read from the health model.
#include "badges_health/app/grpc_health_service.hpp"

#include <algorithm>
#include <array>
#include <string>

#include "badges_health/health/health_snapshot.hpp"

namespace badges_health::app {

namespace {

http::serving_status serving_if(bool serving) noexcept {
  return serving ? http::serving_status::serving : http::serving_status::not_serving;
}

// The names answered from the summary, before any check's name.
constexpr std::array<std::string_view, 3> probe_names = {"", "liveness", "readiness"};

http::serving_status check_serving_status(const health::check_snapshot& c,
                                          const health::health_snapshot& snap) noexcept {
  switch (c.state.effective(snap.taken_at, c.spec->stale_after())) {
    case health::check_status::pending:
      return http::serving_status::unknown;
    // A warning still serves (the service as a whole is degraded, not down).
    case health::check_status::pass:
    case health::check_status::warn:
      return http::serving_status::serving;
    case health::check_status::fail:
      return http::serving_status::not_serving;
  }
  return http::serving_status::unknown;
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
    if (c.spec->name == service) return check_serving_status(c, *snap);
  }
  return std::nullopt;
}

std::vector<http::named_status> grpc_health_service::list() const {
  const auto snap = source_.details();
  std::vector<http::named_status> out;
  out.reserve(probe_names.size() + (snap ? snap->checks.size() : 0));
  // The probes through status(), so List says what Check says for them.
  for (const auto name : probe_names) {
    out.push_back({std::string(name), status(name).value_or(http::serving_status::unknown)});
  }
  if (!snap) return out;
  for (const auto& c : snap->checks) {
    const auto& name = c.spec->name;
    if (std::find(probe_names.begin(), probe_names.end(), name) != probe_names.end()) continue;
    out.push_back({name, check_serving_status(c, *snap)});
  }
  return out;
}

}  // namespace badges_health::app
