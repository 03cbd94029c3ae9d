// The probe subcommand: one GET through the same http checker the checks
// use, bounded by a timeout, to the address the server listens on.
#include "badges_health/app/probe_command.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <charconv>
#include <fstream>
#include <iostream>

#include <nlohmann/json.hpp>

#include "badges_health/app/flag_reference.hpp"
#include "badges_health/health/check_clock.hpp"
#include "badges_health/health/check_reader.hpp"
#include "badges_health/health/checker.hpp"
#include "badges_health/util/http_url.hpp"

namespace badges_health::app {
namespace {

// The variable a server flag reads, from the server's table, so the probe
// follows the same names.
std::string server_env(std::string_view flag_name) {
  for (const auto& f : server_flags()) {
    if (f.name == flag_name) return f.env;
  }
  return {};
}

std::optional<unsigned short> parse_port(std::string_view text) {
  unsigned n = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || r.ec != std::errc{} || r.ptr != text.data() + text.size() || n == 0 ||
      n > 65535) {
    return std::nullopt;
  }
  return static_cast<unsigned short>(n);
}

std::string port_problem(std::string_view text) {
  return "expected an integer between 1 and 65535, got '" + std::string(text) + "'";
}

// Where the server listens, as host and port; the host as a URL writes it.
struct target_address {
  std::string host = "127.0.0.1";
  unsigned short port = 8080;
};

// A wildcard address accepts on loopback too; a named or specific one is
// where the probe must go.
std::string connectable(std::string host) {
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  boost::system::error_code ec;
  const auto addr = boost::asio::ip::make_address(host, ec);
  if (host.empty() || (!ec && addr.is_unspecified())) {
    return !ec && addr.is_v6() ? "[::1]" : "127.0.0.1";
  }
  if (!ec && addr.is_v6()) return "[" + host + "]";
  return host;
}

// The file the server wrote with --address-file: "127.0.0.1:8080" or
// "[::]:8080". nullopt when there is none (the server has not written it).
boost::system::result<std::optional<target_address>, std::string> read_address_file(
    const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::optional<target_address>{};
  std::string line;
  std::getline(in, line);
  const auto colon = line.rfind(':');
  const auto port = colon == std::string::npos ? std::nullopt : parse_port(line.substr(colon + 1));
  if (!port) {
    return boost::system::result<std::optional<target_address>, std::string>(
        boost::system::in_place_error, path + ": expected HOST:PORT, got '" + line + "'");
  }
  return std::optional<target_address>{target_address{connectable(line.substr(0, colon)), *port}};
}

}  // namespace

std::vector<flag_description> probe_flags() {
  return {{"--url", "", "URL", "URL to GET; replaces --host and --port (http:// or https://)",
           "http://HOST:PORT/livez", "", false},
          {"--host", server_env("--host"), "ADDR",
           "the server's --host; a wildcard (0.0.0.0, ::) means loopback",
           "the address file's, else 127.0.0.1", "", false},
          {"--port", server_env("--port"), "PORT", "the server's --port",
           "the address file's, else 8080", "1 to 65535", false},
          {"--address-file", server_env("--address-file"), "PATH",
           "the file the server writes with --address-file; used when neither --host nor --port "
           "is given",
           "none", "", false},
          {"--timeout", "", "DURATION", "give up after this long", "2s", "above 0", false}};
}

int run_probe_command(const std::vector<std::string>& args, const env_lookup& env) {
  const auto variable = [&env](const std::string& name) -> const char* {
    if (!env || name.empty()) return nullptr;
    const char* v = env(name.c_str());
    return v != nullptr && *v != '\0' ? v : nullptr;
  };
  std::string url;
  std::string host;
  std::string port_text;
  std::string address_file;
  std::chrono::milliseconds timeout{2'000};

  CLI::App app;
  app.add_option("--url", url);
  app.add_option("--host", host);
  app.add_option("--port", port_text);
  app.add_option("--address-file", address_file);
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
      std::cout << probe_usage();
      return 0;
    case parse_result::action::run:
      break;
    default:
      std::cerr << "probe: " << read.message << "\n";
      return 2;
  }
  const auto fail = [](const std::string& message) {
    std::cerr << "probe: " << message << "\n";
    return 2;
  };
  if (app.get_option("--host")->count() > 0 && host.empty()) {
    return fail("--host: must not be empty");
  }
  if (app.get_option("--port")->count() > 0 && !parse_port(port_text)) {
    return fail("--port: " + port_problem(port_text));
  }

  if (url.empty()) {
    // The flags, else the file the server wrote (it knows the port it was
    // really given, flag or variable), else the variables, else defaults.
    target_address where;
    bool found = false;
    if (host.empty() && port_text.empty()) {
      const std::string file_variable = server_env("--address-file");
      if (address_file.empty()) {
        if (const char* v = variable(file_variable)) address_file = v;
      }
      if (!address_file.empty()) {
        auto read = read_address_file(address_file);
        if (!read) {
          // The server wrote something the probe cannot use: unhealthy.
          std::cerr << "probe: address file " << read.error() << "\n";
          return 1;
        }
        if (*read) {
          where = **read;
          found = true;
        }
      }
    }
    if (!found) {
      const std::string host_variable = server_env("--host");
      const std::string port_variable = server_env("--port");
      if (host.empty()) {
        if (const char* v = variable(host_variable)) host = v;
      }
      where.host = connectable(host);
      if (!port_text.empty()) {
        where.port = *parse_port(port_text);
      } else if (const char* v = variable(port_variable)) {
        const auto p = parse_port(v);
        if (!p) return fail(port_variable + " (environment): " + port_problem(v));
        where.port = *p;
      }
    }
    url = "http://" + where.host + ":" + std::to_string(where.port) + "/livez";
  }

  if (auto parsed = util::parse_http_url(url); !parsed) {
    return fail("--url: " + parsed.error());
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
    return fail(e.what());
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
