// The service's endpoints: small handlers that read the published health
// summary and know nothing about sockets.
#pragma once

#include <string>

#include "badges_health/health/status.hpp"
#include "badges_health/http/router.hpp"

namespace badges_health::app {

/// GET /status: `{"status":..., "timestamp":...}`; 503 when down, and
/// `x-envoy-degraded: true` when degraded.
http::handler make_status_handler(const health::status_source& source);

/// GET /livez: 200 whenever the process can answer.
http::handler make_liveness_handler();

/// GET /readyz: 200 when ok or degraded, every check has a first result and
/// the service is not draining; 503 otherwise.
http::handler make_readiness_handler(const health::status_source& source);

/// GET /: names the endpoints.
http::handler make_index_handler(std::string version, std::vector<std::string> paths);

/// Registers every route of the service on `r`.
void register_routes(http::router& r, const health::status_source& source,
                     const std::string& version);

}  // namespace badges_health::app
