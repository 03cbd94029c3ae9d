// Where reported results (a ttl check's PUT /checks/{name}) enter the check
// engine: from any thread, answered at once.
#pragma once

#include <string_view>

#include "badges_health/health/check_state.hpp"

namespace badges_health::health {

enum class report_outcome {
  accepted,
  /// No check has that name.
  unknown_check,
  /// The check exists but takes no reports (not a ttl check).
  not_reported,
};

class report_sink {
 public:
  virtual ~report_sink() = default;
  /// Hands `result` to check `name`. Thread-safe; the result is recorded
  /// on the control executor soon after an `accepted`.
  virtual report_outcome submit(std::string_view name, check_result result) = 0;
};

}  // namespace badges_health::health
