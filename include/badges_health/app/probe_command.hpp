// `badges-health probe [--url URL] [--timeout DURATION]`: a minimal HTTP
// probe client for Docker HEALTHCHECK and exec probes in images without
// curl. Exit 0 when the answer is 200, 1 otherwise (one line on stderr
// saying why), 2 for bad arguments.
#pragma once

#include <string>
#include <vector>

#include "badges_health/app/config.hpp"

namespace badges_health::app {

/// Runs the probe subcommand with the arguments after "probe".
int run_probe_command(const std::vector<std::string>& args, const env_lookup& env);

}  // namespace badges_health::app
