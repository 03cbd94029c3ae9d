// What a Nagios plugin prints, as the exec check reads it (the Monitoring
// Plugins development guidelines): the first line up to `|` is the text
// shown, and the performance data after it are `'label'=value[UOM];warn;
// crit;min;max`, of which the first datum is the check's observed value.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "badges_health/health/check_state.hpp"

namespace badges_health::health {

struct plugin_output {
  /// The first line up to `|`, trimmed.
  std::string text;
  /// The first performance datum's value and unit of measure, when it has
  /// a numeric value.
  std::optional<observation> first_datum;
};

plugin_output parse_plugin_output(std::string_view output);

}  // namespace badges_health::health
