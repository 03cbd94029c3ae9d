// The service's endpoints: small handlers that read the published health
// state and know nothing about sockets.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "badges_health/app/secret.hpp"
#include "badges_health/health/status.hpp"
#include "badges_health/http/request_metrics.hpp"
#include "badges_health/http/router.hpp"

namespace badges_health::app {

class check_report_handler;
class maintenance_handler;

/// Identity and start time of this process, for verbose output and metrics.
struct service_info {
  std::string version = BADGES_HEALTH_VERSION;
  std::string commit_hash = "unknown";
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::chrono::system_clock::time_point started_wall = std::chrono::system_clock::now();
};

/// Whether an Accept header chooses application/health+json
/// (draft-inadarei-api-health-check) over the default application/json: it
/// must name application/health+json with a q above 0 and at least the q
/// that application/json gets (from the most specific of `application/json`,
/// `application/*` and `*/*` present). `*/*` alone does not choose it.
bool accepts_health_json(std::string_view accept) noexcept;

/// GET /status: `{"status":..., "timestamp":...}`; 503 when down, and
/// `x-envoy-degraded: true` when degraded. `?verbose=true` adds checks,
/// version, commitHash and uptimeSeconds, behind `details_token` if set.
/// When Accept chooses application/health+json, the draft's document
/// instead, with `checks` for the bearer of `details_token` (or anyone when
/// it is empty). `?exclude=a,b` (repeatable) leaves those checks out of the
/// answer and marks them `"excluded": true`; an unknown name is a 400.
/// Always `Vary: Accept`.
http::handler make_status_handler(const health::status_source& source, service_info info = {},
                                  secret details_token = {});

/// GET /livez: 200 whenever the process can answer; `?verbose` answers the
/// text report `[+]ping ok`, `livez check passed`.
http::handler make_liveness_handler();

/// GET /readyz: 200 when ok or degraded, every check has a first result and
/// the service is not draining; 503 otherwise. application/health+json as
/// for /status, with `fail` whenever not ready. `exclude` as for /status.
/// `?verbose` (bare, true or 1) answers kube-apiserver's text report, a line
/// per check, with the reasons only for the bearer of `details_token` (or
/// anyone when it is empty). Always `Vary: Accept`.
http::handler make_readiness_handler(const health::status_source& source, service_info info = {},
                                     secret details_token = {});

/// GET /status/events: opens a live event stream (text/event-stream; the
/// http layer sends it from the server's event_source). Check events for
/// the bearer of `details_token` (or anyone when it is empty); a caller
/// with no token gets the overall status only; a wrong token is a 401.
http::handler make_event_stream_handler(secret details_token = {});
/// GET /readyz/{name}: 200 `ok` when that check passes or warns; 503 with
/// its line of the text report when it fails, has no result yet, or the
/// service drains; 404 UNKNOWN_CHECK when no check has that name.
http::handler make_check_readiness_handler(const health::status_source& source,
                                           secret details_token = {});

/// GET /openapi.json: the embedded contract.
http::handler make_openapi_handler();

/// GET /: names the endpoints, as the route table lists them.
http::handler make_index_handler(std::string version, const http::router& routes);

/// GET /metrics: Prometheus text exposition, behind `token` if set.
http::handler make_metrics_handler(const http::metrics_registry& registry,
                                   const health::status_source& source, service_info info,
                                   std::string token = {});

/// `inner` behind `token`: 401 unless the token is not set or the request
/// carries it. The token is read at each request, so a SIGHUP that re-reads
/// its file takes effect at once.
http::handler guarded_by(secret token, http::handler inner);

/// Registers every route of the service on `r` and names them in
/// `registry` (its per-route metrics follow the table).
/// `reports` (PUT /checks/{name}) and `maintenance` (GET, PUT and DELETE
/// /maintenance) are null when no admin token is set: the routes then do
/// not exist.
void register_routes(http::router& r, const health::status_source& source,
                     http::metrics_registry& registry, const service_info& info,
                     const secret& details_token, const secret& metrics_token,
                     const check_report_handler* reports = nullptr,
                     const maintenance_handler* maintenance = nullptr);

/// The paths register_routes adds, in order (for --print-config).
std::vector<std::string> registered_paths();

}  // namespace badges_health::app
