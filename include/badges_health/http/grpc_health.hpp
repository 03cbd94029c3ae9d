// What the gRPC health service (grpc.health.v1.Health) answers, as the
// http layer needs it: a service name in, a serving status out. The app
// layer implements it over the health model; the http layer speaks the
// protocol (framing, trailers, deadlines, Watch streams).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace badges_health::http {

/// grpc.health.v1.HealthCheckResponse.ServingStatus, with its wire values.
enum class serving_status : std::uint8_t {
  unknown = 0,
  serving = 1,
  not_serving = 2,
  service_unknown = 3,
};

class grpc_health_source {
 public:
  virtual ~grpc_health_source() = default;
  /// The status of `service` now; nullopt when there is no such service.
  /// Called on the request workers: no I/O, no lock a background task can
  /// hold for long.
  virtual std::optional<serving_status> status(std::string_view service) const = 0;
};

}  // namespace badges_health::http
