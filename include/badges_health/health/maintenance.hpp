// A maintenance window an operator opened (PUT /maintenance): while it
// lasts the service reports down and not ready whatever its checks say.
// Immutable once made; the health model holds the current one.
#pragma once

#include <chrono>
#include <string>

namespace badges_health::health {

struct maintenance_window {
  /// Why, in the operator's words (shown to whoever may see details).
  std::string reason;
  /// When it began and when it ends, for people and metrics.
  std::chrono::system_clock::time_point since;
  std::chrono::system_clock::time_point until;
  /// When it ends on the steady clock, for the timer that ends it.
  std::chrono::steady_clock::time_point ends;
};

}  // namespace badges_health::health
