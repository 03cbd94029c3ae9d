// The gRPC health service's names, answered from the health model:
//   ""           the service as a whole: SERVING unless down or draining
//   "liveness"   SERVING whenever the process answers (as /livez)
//   "readiness"  SERVING when /readyz would answer 200
//   a check name that check's own state (UNKNOWN until its first result)
// Any other name is unknown (Check: NOT_FOUND; Watch: SERVICE_UNKNOWN).
// List answers every known name; a check named like a probe is answered
// (and listed) as the probe, as Check answers it.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "badges_health/health/status.hpp"
#include "badges_health/http/grpc_health.hpp"

namespace badges_health::app {

class grpc_health_service final : public http::grpc_health_source {
 public:
  explicit grpc_health_service(const health::status_source& source) noexcept : source_(source) {}

  std::optional<http::serving_status> status(std::string_view service) const override;
  std::vector<http::named_status> list() const override;

 private:
  const health::status_source& source_;
};

}  // namespace badges_health::app
