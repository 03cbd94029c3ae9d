// Start-up, signal handling and the drain sequence:
// signal -> report down -> drain delay -> stop accepting -> connections
// finish -> exit 0; the shutdown timeout bounds it all.
#include "badges_health/app/application.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "badges_health/app/check_reports.hpp"
#include "badges_health/app/checks_file.hpp"
#include "badges_health/app/event_feed.hpp"
#include "badges_health/app/grpc_health_service.hpp"
#include "badges_health/app/handlers.hpp"
#include "badges_health/app/logging.hpp"
#include "badges_health/app/maintenance_handler.hpp"
#include "badges_health/app/maintenance_switch.hpp"
#include "badges_health/health/check_scheduler.hpp"
#include "badges_health/health/health_model.hpp"
#include "badges_health/health/health_snapshot.hpp"
#include "badges_health/http/error_middleware.hpp"
#include "badges_health/http/router.hpp"
#include "badges_health/http/server.hpp"

namespace badges_health::app {
namespace {

namespace asio = boost::asio;

// Each connection needs a descriptor; raise the soft limit to the hard one
// so the default connection cap is reachable without tuning ulimit.
void raise_descriptor_limit(std::size_t wanted) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
    getrlimit(RLIMIT_NOFILE, &lim);
  }
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < wanted + 64) {
    spdlog::warn(
        "open file limit is {}, below --max-connections {}; accept will back off when "
        "descriptors run out",
        lim.rlim_cur, wanted);
  }
}

const char* signal_name(int sig) {
  switch (sig) {
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    default:
      return "signal";
  }
}

// Why the agent says down: the critical checks failing now, at most three by
// name. Names are separated by spaces, never commas, since HAProxy shows
// the text in its comma-separated `show stat`.
std::string down_reason(const std::shared_ptr<const health::health_snapshot>& snapshot) {
  constexpr std::size_t named = 3;
  std::vector<std::string_view> failing;
  if (snapshot) {
    for (const auto& c : snapshot->checks) {
      if (c.spec->critical && c.state.effective(snapshot->taken_at, c.spec->stale_after()) ==
                                  health::check_status::fail) {
        failing.push_back(c.spec->name);
      }
    }
  }
  // The summary said down but the checks have moved on since: say so plainly.
  if (failing.empty()) return "critical check failing";
  std::string out = failing.size() == 1 ? "critical check failing:" : "critical checks failing:";
  for (std::size_t i = 0; i < failing.size() && i < named; ++i) {
    out += ' ';
    out += failing[i];
  }
  if (failing.size() > named) out += " (+" + std::to_string(failing.size() - named) + " more)";
  return out;
}

// HAProxy's agent words for the health at this instant. `ready` with every
// up answer puts back a server the agent had drained or put in
// maintenance. Maintenance wins over draining: an operator who asked for
// no traffic at all gets none, even in the last seconds of a drain.
std::string agent_line(const health::status_source& source, unsigned degraded_weight) {
  const health::summary now = source.current();
  if (now.maintenance) return "maint";
  if (now.draining) return "drain";
  switch (now.overall) {
    case health::status::ok:
      return "up ready 100%";
    case health::status::degraded:
      return "up ready " + std::to_string(degraded_weight) + "%";
    case health::status::down:
      break;
  }
  return "down #" + down_reason(source.details());
}

// The address the server listens on, written for `badges-health probe`
// (the image's HEALTHCHECK) to find it whatever --port it was given, and
// removed at exit. Written to a temporary name and renamed, so the probe
// never reads half a line. A file that cannot be written costs only the
// probe's knowledge of the port (it falls back to the variables), so it is
// a warning: with a read-only root filesystem the image's default path
// must not stop the service.
class address_file {
 public:
  address_file(std::string path, const asio::ip::tcp::endpoint& endpoint) : path_(std::move(path)) {
    if (path_.empty()) return;
    const std::string temporary = path_ + ".tmp";
    {
      std::ofstream out(temporary, std::ios::trunc);
      out << http::format_endpoint(endpoint) << '\n';
      out.close();
      if (out && std::rename(temporary.c_str(), path_.c_str()) == 0) {
        written_ = true;
        return;
      }
    }
    const int err = errno;
    std::remove(temporary.c_str());
    spdlog::warn(
        "cannot write the address file {}: {}; `badges-health probe` falls back to "
        "HTTP_SERVER_HOST and HTTP_SERVER_PORT",
        path_, std::strerror(err));
  }
  ~address_file() {
    if (written_) std::remove(path_.c_str());
  }
  address_file(const address_file&) = delete;
  address_file& operator=(const address_file&) = delete;

 private:
  std::string path_;
  bool written_ = false;
};

// The drain sequence, driven from the control io_context.
class lifecycle {
 public:
  lifecycle(asio::io_context& control, http::server& server, health::health_model& model,
            health::check_scheduler& scheduler, const config& cfg, std::vector<secret> secrets)
      : control_(control),
        server_(server),
        model_(model),
        scheduler_(scheduler),
        cfg_(cfg),
        secrets_(std::move(secrets)),
        signals_(control, SIGTERM, SIGINT, SIGHUP),
        drain_timer_(control),
        shutdown_timer_(control) {}

  void start() { wait_for_signal(); }

  // Called from a worker thread once every worker has finished.
  void on_server_stopped() {
    asio::post(control_, [this] {
      stopped_ = true;
      control_.stop();
    });
  }

  bool forced() const noexcept { return forced_; }

 private:
  void wait_for_signal() {
    signals_.async_wait([this](boost::system::error_code ec, int sig) {
      if (ec) return;
      on_signal(sig);
      wait_for_signal();
    });
  }

  void on_signal(int sig) {
    if (sig == SIGHUP) return reload();
    if (model_.draining()) {
      spdlog::info("{} received again; skipping the rest of the drain delay", signal_name(sig));
      stop_accepting();
      return;
    }
    model_.set_draining();
    server_.begin_drain();
    const auto delay = sig == SIGINT ? std::chrono::milliseconds{0} : cfg_.drain_delay;
    spdlog::info(
        "draining: {} received, /status now reports down; closing connections in {} "
        "({} open)",
        signal_name(sig), format_duration(delay), server_.open_connections());
    shutdown_timer_.expires_after(cfg_.shutdown_timeout);
    shutdown_timer_.async_wait([this](boost::system::error_code ec) {
      if (!ec && !stopped_) force_stop();
    });
    if (delay.count() == 0) {
      stop_accepting();
    } else {
      drain_timer_.expires_after(delay);
      drain_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) stop_accepting();
      });
    }
  }

  // SIGHUP: the secret files are read again, then the checks file. A
  // valid file replaces the checks (connections untouched); an invalid one
  // is logged and the running checks stay. A secret file that cannot be
  // read keeps its previous value.
  void reload() {
    const bool any_secret_file = reload_secrets();
    if (cfg_.config_file.empty()) {
      if (!any_secret_file)
        spdlog::warn("SIGHUP ignored: no --config file or secret file to re-read");
      return;
    }
    try {
      const auto specs =
          load_checks_file(cfg_.config_file, process_environment(), check_read_options(cfg_));
      scheduler_.apply(specs);
      spdlog::info("reloaded {}: {} checks", cfg_.config_file, specs.size());
    } catch (const config_error& e) {
      spdlog::error("reload failed, keeping the {} running checks: {}", scheduler_.size(),
                    e.what());
    }
  }

  // True when some secret comes from a file.
  bool reload_secrets() {
    bool any = false;
    for (const secret& s : secrets_) {
      if (s.file().empty()) continue;
      any = true;
      const auto changed = s.reload();
      if (!changed) {
        spdlog::error("reload failed, keeping the previous value of {}: {}", s.variable(),
                      changed.error().message);
      } else {
        spdlog::info("reloaded {} ({}): {}", s.variable(), s.file(),
                     *changed ? "changed" : "unchanged");
      }
    }
    return any;
  }

  void stop_accepting() {
    if (accepting_stopped_) return;
    accepting_stopped_ = true;
    drain_timer_.cancel();
    spdlog::info("closing: no longer accepting; {} connections open finish their requests",
                 server_.open_connections());
    server_.stop_accepting();
  }

  void force_stop() {
    forced_ = true;
    scheduler_.stop();
    spdlog::warn("shutdown timeout ({}) reached with {} connections open; closing them",
                 format_duration(cfg_.shutdown_timeout), server_.open_connections());
    server_.abort();
    control_.stop();
  }

  asio::io_context& control_;
  http::server& server_;
  health::health_model& model_;
  health::check_scheduler& scheduler_;
  const config& cfg_;
  std::vector<secret> secrets_;
  asio::signal_set signals_;
  asio::steady_timer drain_timer_;
  asio::steady_timer shutdown_timer_;
  bool accepting_stopped_ = false;
  bool stopped_ = false;
  bool forced_ = false;
};

}  // namespace

int application::run() {
  // Writes to a peer that has gone away must fail with EPIPE, not kill us.
  std::signal(SIGPIPE, SIG_IGN);
  raise_descriptor_limit(cfg_.server.max_connections);

  health::health_model model;
  // Signals, drain timers, the checks and the agent port run here, on the
  // main thread, apart from the request workers.
  asio::io_context control{1};
  health::check_scheduler scheduler(
      {.executor = control.get_executor(),
       .clock = &health::system_clock(),
       .child_processes = std::make_shared<health::child_process_limit>(cfg_.max_exec_checks)},
      model);

  service_info info;
  info.version = cfg_.version;
  info.commit_hash = cfg_.commit_hash;
  http::metrics_registry metrics(cfg_.server.threads);
  http::router router;
  // Reports to ttl checks and the maintenance switch, only when an admin
  // token is set: without one the routes do not exist. The switch's
  // expiry timer runs on `control`; the model keeps its window, so a
  // SIGHUP's reload of the checks leaves it alone.
  const check_report_handler reports(scheduler, cfg_.admin_token);
  maintenance_switch maintenance(model, control.get_executor());
  const maintenance_handler maintenance_routes(maintenance, cfg_.admin_token, cfg_.max_maintenance);
  const bool admin = !cfg_.admin_token.empty();
  register_routes(router, model, metrics, info, cfg_.details_token, cfg_.metrics_token,
                  admin ? &reports : nullptr, admin ? &maintenance_routes : nullptr);
  const http::error_middleware middleware(router);
  // gRPC Watch streams hear of every change the model publishes.
  const grpc_health_service grpc(model);
  http::server server(
      cfg_.server, middleware, metrics, &grpc,
      cfg_.server.access_log ? make_access_log(cfg_.format) : http::access_log_sink{});
  // Event streams read what the feed recorded of each change.
  event_feed events(model);
  server.set_event_source(&events);
  model.on_change([&server, &events] {
    events.update();
    server.health_changed();
  });

  // The agent port answers until the process stops (`drain` once
  // draining); it closes with the HTTP port.
  http::server::endpoints endpoints;
  try {
    endpoints = server.bind(cfg_.agent_port, [&model, weight = cfg_.agent_degraded_weight] {
      return agent_line(model, weight);
    });
  } catch (const std::system_error& e) {
    spdlog::error("{}", e.what());
    return exit_code::cannot_serve;
  }
  const address_file written_address(cfg_.address_file, endpoints.http);

  scheduler.apply(cfg_.checks);
  lifecycle life(control, server, model, scheduler, cfg_, secrets_of(cfg_));
  life.start();
  server.start([&life] { life.on_server_stopped(); });
  spdlog::info(
      "badges-health {} ({}) listening on {} with {} threads, {} checks{}", cfg_.version,
      cfg_.commit_hash, http::format_endpoint(endpoints.http), cfg_.server.threads,
      cfg_.checks.size(),
      endpoints.agent ? "; HAProxy agent on " + http::format_endpoint(*endpoints.agent) : "");

  control.run();
  scheduler.stop();
  server.join();
  spdlog::info("stopped{}", life.forced() ? " (forced by the shutdown timeout)" : "");
  return exit_code::ok;
}

}  // namespace badges_health::app
