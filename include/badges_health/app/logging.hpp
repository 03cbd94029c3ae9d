// spdlog set-up: level and format (plain text or one JSON object per line,
// UTC timestamps) on stderr.
#pragma once

#include <spdlog/formatter.h>
#include <memory>
#include <string>

#include "badges_health/app/config.hpp"

namespace badges_health::app {

/// Installs the default logger on stderr with the given level and format.
void configure_logging(const std::string& level, log_format format);

/// The formatter behind `--log-format json`, exposed for tests.
std::unique_ptr<spdlog::formatter> make_json_formatter();

}  // namespace badges_health::app
