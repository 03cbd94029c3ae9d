// Entry point: parse the configuration, set up logging, run.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "badges_health/app/application.hpp"
#include "badges_health/app/config.hpp"
#include "badges_health/app/flag_reference.hpp"
#include "badges_health/app/handlers.hpp"
#include "badges_health/app/logging.hpp"
#include "badges_health/app/probe_command.hpp"

int main(int argc, char** argv) {
  namespace app = badges_health::app;
  namespace exit_code = badges_health::app::exit_code;
  using app::parse_result;
  const std::vector<std::string> args(argv + 1, argv + argc);
  const auto env = [](const char* name) -> const char* { return std::getenv(name); };
  if (!args.empty() && args.front() == "probe") {
    return app::run_probe_command({args.begin() + 1, args.end()}, env);
  }
  auto parsed = app::parse_config(args, env);
  switch (parsed.what) {
    case parse_result::action::help:
      std::cout << app::usage();
      return exit_code::ok;
    case parse_result::action::version:
      std::cout << "badges-health " << BADGES_HEALTH_VERSION << "\n";
      return exit_code::ok;
    case parse_result::action::print_flag_reference:
      std::cout << app::flag_reference_markdown();
      return exit_code::ok;
    case parse_result::action::error:
      std::cerr << "badges-health: " << parsed.message << "\n";
      return exit_code::bad_configuration;
    case parse_result::action::run:
    case parse_result::action::print_config:
      break;
  }
  if (auto loaded = app::load_config_file(parsed.cfg); !loaded) {
    std::cerr << "badges-health: " << loaded.error() << "\n";
    return exit_code::bad_configuration;
  }
  if (parsed.what == parse_result::action::print_config) {
    std::cout << app::effective_config_json(parsed.cfg, app::registered_paths());
    return exit_code::ok;
  }
  try {
    app::configure_logging(parsed.cfg.log_level, parsed.cfg.format);
    for (const auto& warning : parsed.warnings) spdlog::warn("{}", warning);
    return app::application(std::move(parsed.cfg)).run();
  } catch (const std::exception& e) {
    std::cerr << "badges-health: fatal: " << e.what() << "\n";
    return exit_code::cannot_serve;
  }
}
