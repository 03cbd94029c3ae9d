// Spelling of the overall health states.
#include "badges_health/health/status.hpp"

namespace badges_health::health {

std::string_view to_string(status s) noexcept {
  switch (s) {
    case status::ok:
      return "ok";
    case status::degraded:
      return "degraded";
    case status::down:
      return "down";
  }
  return "down";
}

}  // namespace badges_health::health
