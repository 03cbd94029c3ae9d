// `badges-health probe [--url URL | --host ADDR --port PORT] [--timeout
// DURATION]`: a minimal HTTP probe client for Docker HEALTHCHECK and exec
// probes in images without curl. It asks /livez where the server listens:
// the flags, else the address the server wrote to its --address-file, else
// HTTP_SERVER_HOST and HTTP_SERVER_PORT. Exit 0 when the answer is 200, 1
// otherwise (one line on stderr saying why), 2 for bad arguments.
#pragma once

#include <string>
#include <vector>

#include "badges_health/app/config.hpp"

namespace badges_health::app {

/// Runs the probe subcommand with the arguments after "probe".
int run_probe_command(const std::vector<std::string>& args, const env_lookup& env);

/// The probe's flags, for `probe --help` and docs/configuration.md.
std::vector<flag_description> probe_flags();

}  // namespace badges_health::app
