// Entry point: parse the configuration, set up logging, run.
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "badges_health/app/application.hpp"
#include "badges_health/app/config.hpp"
#include "badges_health/app/handlers.hpp"
#include "badges_health/app/logging.hpp"
#include "badges_health/app/probe_command.hpp"

int main(int argc, char** argv) {
  using badges_health::app::parse_result;
  const std::vector<std::string> args(argv + 1, argv + argc);
  const auto env = [](const char* name) -> const char* { return std::getenv(name); };
  if (!args.empty() && args.front() == "probe") {
    return badges_health::app::run_probe_command({args.begin() + 1, args.end()}, env);
  }
  auto parsed = badges_health::app::parse_config(args, env);
  switch (parsed.what) {
    case parse_result::action::help:
      std::cout << badges_health::app::usage();
      return 0;
    case parse_result::action::version:
      std::cout << "badges-health " << BADGES_HEALTH_VERSION << "\n";
      return 0;
    case parse_result::action::error:
      std::cerr << "badges-health: " << parsed.message << "\n";
      return 2;
    case parse_result::action::run:
    case parse_result::action::print_config:
      break;
  }
  if (auto err = badges_health::app::load_config_file(parsed.cfg); !err.empty()) {
    std::cerr << "badges-health: " << err << "\n";
    return 2;
  }
  if (parsed.what == parse_result::action::print_config) {
    std::cout << badges_health::app::effective_config_json(parsed.cfg,
                                                           badges_health::app::registered_paths());
    return 0;
  }
  try {
    badges_health::app::configure_logging(parsed.cfg.log_level, parsed.cfg.format);
    return badges_health::app::application(std::move(parsed.cfg)).run();
  } catch (const std::exception& e) {
    std::cerr << "badges-health: fatal: " << e.what() << "\n";
    return 1;
  }
}
