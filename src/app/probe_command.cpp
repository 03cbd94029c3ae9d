// The probe subcommand: one GET through the same http checker the checks
// use, bounded by a timeout.
#include "badges_health/app/probe_command.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <iostream>

#include <nlohmann/json.hpp>

#include "badges_health/health/check_clock.hpp"
#include "badges_health/health/check_reader.hpp"
#include "badges_health/health/checker.hpp"
#include "badges_health/util/http_url.hpp"

namespace badges_health::app {

int run_probe_command(const std::vector<std::string>& args, const env_lookup& env) {
  const char* port_env = env ? env("HTTP_SERVER_PORT") : nullptr;
  // Liveness by default: this is the image's HEALTHCHECK, and ECS or Swarm
  // replace a container whose HEALTHCHECK fails. Asking /status there
  // would turn a database outage into a restart storm.
  std::string url = std::string("http://127.0.0.1:") +
                    (port_env != nullptr && *port_env != '\0' ? port_env : "8080") + "/livez";
  std::chrono::milliseconds timeout{2'000};

  CLI::App app;
  app.add_option("--url", url);
  // Rewritten as a number of milliseconds, which CLI11 converts.
  app.add_option<std::chrono::milliseconds, std::chrono::milliseconds::rep>("--timeout", timeout)
      ->transform(CLI::Validator(
          [](std::string& v) -> std::string {
            const auto d = parse_duration(v);
            if (!d || d->count() <= 0) {
              return "expected a duration such as 2s or 500ms, got '" + v + "'";
            }
            v = std::to_string(d->count());
            return {};
          },
          "DURATION"));
  switch (const command_line read = read_command_line(app, args); read.what) {
    case parse_result::action::help:
      std::cout << "Usage: badges-health probe [--url URL] [--timeout DURATION]\n"
                   "GETs URL (default http://127.0.0.1:$HTTP_SERVER_PORT/livez, port 8080)\n"
                   "and exits 0 when the answer is 200, 1 otherwise.\n";
      return 0;
    case parse_result::action::run:
      break;
    default:
      std::cerr << "probe: " << read.message << "\n";
      return 2;
  }

  if (auto parsed = util::parse_http_url(url); !parsed) {
    std::cerr << "probe: --url: " << parsed.error() << "\n";
    return 2;
  }
  // The checks file's http check, as an operator would write it; a
  // certificate's expiry is not the probe's concern.
  nlohmann::json check = {
      {"name", "probe"}, {"type", "http"}, {"url", url}, {"expect_status", 200}};
  if (url.starts_with("https://")) check["cert_warn_days"] = 0;
  health::check_spec spec;
  try {
    spec = health::read_check(check, "--url", {});
  } catch (const health::config_error& e) {
    std::cerr << "probe: " << e.what() << "\n";
    return 2;
  }

  boost::asio::io_context ioc{1};
  std::optional<health::check_result> result;
  std::shared_ptr<health::checker> checker;
  try {
    checker = spec.settings->make_checker(
        spec,
        {.executor = ioc.get_executor(), .clock = &health::system_clock(), .child_processes = {}});
  } catch (const std::exception& e) {
    std::cerr << "probe: " << url << ": " << e.what() << "\n";
    return 1;
  }
  boost::asio::steady_timer deadline(ioc, timeout);
  checker->start([&](health::check_result r) {
    if (result) return;
    result = std::move(r);
    deadline.cancel();
  });
  deadline.async_wait([&](boost::system::error_code ec) {
    if (ec || result) return;
    result = health::check_result{health::check_status::fail,
                                  "timed out after " + format_duration(timeout)};
    checker->cancel();
  });
  ioc.run();

  if (result && result->status == health::check_status::pass) return 0;
  std::cerr << "probe: " << url << ": " << (result ? result->output : "no answer") << "\n";
  return 1;
}

}  // namespace badges_health::app
