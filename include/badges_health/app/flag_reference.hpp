// The flag tables in words: --help, `probe --help`, and the Markdown of
// docs/configuration.md (`--print-flag-reference`), all from the same
// tables (config.cpp, probe_command.cpp), so none can drift from the parser.
#pragma once

#include <string>

namespace badges_health::app {

/// Lines of --help and `probe --help` are at most this many columns.
inline constexpr std::size_t help_width = 79;

/// The server's --help: every flag with its variable, default and range,
/// and every exit code.
std::string usage();

/// `badges-health probe --help`.
std::string probe_usage();

/// docs/configuration.md.
std::string flag_reference_markdown();

}  // namespace badges_health::app
