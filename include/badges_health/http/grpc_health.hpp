// What the gRPC health service (grpc.health.v1.Health) answers, as the
// http layer needs it: a service name in, a serving status out; and every
// name with its status, for List. The app
// layer implements it over the health model; the http layer speaks the
// protocol (framing, trailers, deadlines, Watch streams).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "badges_health/util/grpc_wire.hpp"

namespace badges_health::http {

using util::grpc::named_status;
using util::grpc::serving_status;

class grpc_health_source {
 public:
  virtual ~grpc_health_source() = default;
  /// The status of `service` now; nullopt when there is no such service.
  /// Called on the request workers: no I/O, no lock a background task can
  /// hold for long.
  virtual std::optional<serving_status> status(std::string_view service) const = 0;
  /// Every name status() answers, each once, with the status it answers
  /// now (List). Same calling rules as status().
  virtual std::vector<named_status> list() const = 0;
};

}  // namespace badges_health::http
