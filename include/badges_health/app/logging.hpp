// spdlog set-up: level and format (plain text or one JSON object per line,
// UTC timestamps) on stderr.
#pragma once

#include <spdlog/formatter.h>
#include <memory>
#include <string>

#include "badges_health/app/config.hpp"
#include "badges_health/http/access_log.hpp"

namespace badges_health::app {

/// Installs the default logger on stderr with the given level and format.
void configure_logging(const std::string& level, log_format format);

/// The formatter behind `--log-format json`, exposed for tests.
std::unique_ptr<spdlog::formatter> make_json_formatter();

/// One access line: a JSON object with a field per fact (time, level,
/// msg "access", client, method, target, protocol, status, grpc_status
/// for gRPC calls, bytes, duration_us, user_agent, error_code for errors),
/// or in text mode one readable line with the same facts.
std::string access_line(const http::access_entry& e, log_format format);

/// The access log's sink, writing through the logger configure_logging
/// installed; empty before it has run.
http::access_log_sink make_access_log(log_format format);

}  // namespace badges_health::app
