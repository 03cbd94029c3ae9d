// GET /metrics: the Prometheus text exposition format (version 0.0.4).
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "badges_health/app/bearer_auth.hpp"
#include "badges_health/app/handlers.hpp"
#include "badges_health/health/health_snapshot.hpp"
#include "badges_health/health/maintenance.hpp"

namespace badges_health::app {
namespace {

// Label values: backslash, double quote and newline are escaped.
std::string label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

// One histogram series labelled `key`="`escaped`" (a label value already
// escaped):
// cumulative buckets (from per-bucket counts, the last being +Inf), sum
// and count.
template <class Counts>
void histogram(std::string& out, std::string_view name, std::string_view key,
               std::string_view escaped, const Counts& counts, std::uint64_t sum_ns) {
  using http::request_metrics;
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b <= request_metrics::buckets.size(); ++b) {
    cumulative += counts[b];
    const std::string le =
        b < request_metrics::buckets.size() ? number(request_metrics::buckets[b]) : "+Inf";
    out.append(name).append("_bucket{").append(key).append("=\"").append(escaped);
    out.append("\",le=\"").append(le).append("\"} ").append(std::to_string(cumulative));
    out.append("\n");
  }
  out.append(name).append("_sum{").append(key).append("=\"").append(escaped).append("\"} ");
  out.append(number(static_cast<double>(sum_ns) / 1e9)).append("\n");
  out.append(name).append("_count{").append(key).append("=\"").append(escaped).append("\"} ");
  out.append(std::to_string(cumulative)).append("\n");
}

// The gRPC health service's calls: their own series, since every call is
// an HTTP 200 whatever its gRPC status.
void grpc_metrics(std::string& out, const http::metrics_registry& registry) {
  using http::request_metrics;
  const auto totals = registry.grpc_totals();
  header(out, "badges_health_grpc_requests_total", "counter",
         "gRPC health calls ended, by method and grpc-status.");
  for (std::size_t m = 0; m < request_metrics::grpc_methods.size(); ++m) {
    for (std::size_t s = 0; s < request_metrics::grpc_statuses.size(); ++s) {
      const auto n = totals.calls[m * request_metrics::grpc_statuses.size() + s];
      if (n == 0) continue;
      out.append("badges_health_grpc_requests_total{method=\"")
          .append(request_metrics::grpc_methods[m])
          .append("\",grpc_status=\"")
          .append(util::grpc::to_text(request_metrics::grpc_statuses[s]))
          .append("\"} ")
          .append(std::to_string(n))
          .append("\n");
    }
  }
  header(out, "badges_health_grpc_request_duration_seconds", "histogram",
         "gRPC health calls, from the request's first frame to the status that ends the call "
         "(a Watch: its whole life), by method.");
  for (std::size_t m = 0; m < request_metrics::grpc_methods.size(); ++m) {
    histogram(out, "badges_health_grpc_request_duration_seconds", "method",
              request_metrics::grpc_methods[m], totals.bucket_counts[m], totals.sum_ns[m]);
  }
}

void http_metrics(std::string& out, const http::metrics_registry& registry) {
  using http::request_metrics;
  const auto totals = registry.totals();
  const auto& labels = registry.route_labels();
  const auto route_label = [&](std::size_t i) {
    return i < labels.size() ? label(labels[i]) : std::string("other");
  };

  header(out, "badges_health_http_requests_total", "counter",
         "HTTP requests answered, by route, method and status code.");
  for (std::size_t r = 0; r < totals.size(); ++r) {
    for (std::size_t m = 0; m < request_metrics::methods.size(); ++m) {
      for (std::size_t c = 0; c < request_metrics::codes.size(); ++c) {
        const auto n = totals[r].requests.empty()
                           ? 0
                           : totals[r].requests[m * request_metrics::codes.size() + c];
        if (n == 0) continue;
        const unsigned code = request_metrics::codes[c];
        out.append("badges_health_http_requests_total{route=\"")
            .append(route_label(r))
            .append("\",method=\"")
            .append(request_metrics::methods[m])
            .append("\",code=\"")
            .append(std::to_string(code))
            .append("\"} ")
            .append(std::to_string(n))
            .append("\n");
      }
    }
  }

  header(out, "badges_health_http_request_duration_seconds", "histogram",
         "Time from a parsed request to its serialised response, by route; requests refused "
         "before they were handled (malformed, over a limit) have no sample.");
  for (std::size_t r = 0; r < totals.size(); ++r) {
    histogram(out, "badges_health_http_request_duration_seconds", "route", route_label(r),
              totals[r].bucket_counts, totals[r].sum_ns);
  }

  grpc_metrics(out, registry);

  header(out, "badges_health_open_connections", "gauge", "Client connections open now.");
  out.append("badges_health_open_connections ")
      .append(std::to_string(registry.open_connections.load(std::memory_order_relaxed)))
      .append("\n");
}

void health_metrics(std::string& out, const health::status_source& source) {
  const health::summary s = source.current();
  header(out, "badges_health_status", "gauge",
         "Overall status: 1 for the current one of ok, degraded and down.");
  for (auto st : {health::status::ok, health::status::degraded, health::status::down}) {
    out.append("badges_health_status{status=\"")
        .append(health::to_string(st))
        .append("\"} ")
        .append(s.overall == st ? "1" : "0")
        .append("\n");
  }
  header(out, "badges_health_ready", "gauge", "1 when /readyz answers 200.");
  out.append("badges_health_ready ").append(s.readiness() ? "1" : "0").append("\n");

  // Both read from the one window, so they never disagree.
  const auto maintenance = source.maintenance();
  header(out, "badges_health_maintenance", "gauge",
         "1 while an operator has put the service in maintenance (PUT /maintenance), else 0.");
  out.append("badges_health_maintenance ").append(maintenance ? "1" : "0").append("\n");
  header(out, "badges_health_maintenance_end_timestamp_seconds", "gauge",
         "When the maintenance in force ends, in Unix time; 0 when none is.");
  char end[32] = "0";
  if (maintenance) {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(maintenance->until.time_since_epoch())
            .count();
    std::snprintf(end, sizeof end, "%lld.%03lld", static_cast<long long>(ms / 1000),
                  static_cast<long long>(ms % 1000));
  }
  out.append("badges_health_maintenance_end_timestamp_seconds ").append(end).append("\n");

  const auto snap = source.details();
  if (!snap || snap->checks.empty()) return;
  // Judged at the instant the snapshot describes.
  const auto now = snap->taken_at;
  // One sample of a per-check series: family{check="name"<labels>} value.
  const auto sample = [&out](std::string_view family, const auto& c, std::string_view labels,
                             std::string_view value) {
    out.append(family).append("{check=\"").append(label(c.spec->name)).append("\"");
    out.append(labels).append("} ").append(value).append("\n");
  };
  const auto critical = [](const auto& c) {
    return std::string_view(c.spec->critical ? ",critical=\"true\"" : ",critical=\"false\"");
  };
  std::vector<health::check_status> states;  // each check's, judged once
  states.reserve(snap->checks.size());
  for (const auto& c : snap->checks)
    states.push_back(c.state.effective(now, c.spec->stale_after()));

  header(out, "badges_health_check_up", "gauge",
         "1 when the check passes or warns (hysteresis and staleness applied), 0 otherwise.");
  for (std::size_t i = 0; i < states.size(); ++i) {
    const bool up =
        states[i] == health::check_status::pass || states[i] == health::check_status::warn;
    sample("badges_health_check_up", snap->checks[i], critical(snap->checks[i]), up ? "1" : "0");
  }
  header(out, "badges_health_check_status", "gauge",
         "1 for the check's current state of pending, pass, warn and fail, 0 for the others.");
  for (std::size_t i = 0; i < states.size(); ++i) {
    for (const auto state : {health::check_status::pending, health::check_status::pass,
                             health::check_status::warn, health::check_status::fail}) {
      sample("badges_health_check_status", snap->checks[i],
             std::string(",status=\"").append(health::to_string(state)).append("\""),
             states[i] == state ? "1" : "0");
    }
  }
  header(out, "badges_health_check_duration_seconds", "gauge", "Duration of the latest attempt.");
  for (const auto& c : snap->checks) {
    sample("badges_health_check_duration_seconds", c, "",
           number(static_cast<double>(c.state.duration().count()) / 1e6));
  }
  header(out, "badges_health_check_failures_total", "counter",
         "Failed attempts since the check was (re)configured.");
  for (const auto& c : snap->checks) {
    sample("badges_health_check_failures_total", c, "", std::to_string(c.state.total_failures()));
  }
  header(out, "badges_health_check_transitions_total", "counter",
         "Changes of the check's status (pass, warn, fail) since it was (re)configured, the "
         "first result not counted.");
  for (const auto& c : snap->checks) {
    sample("badges_health_check_transitions_total", c, critical(c),
           std::to_string(c.state.total_transitions()));
  }
}

}  // namespace

http::handler make_metrics_handler(const http::metrics_registry& registry,
                                   const health::status_source& source, service_info info,
                                   std::string token) {
  return [&registry, &source, info = std::move(info),
          token = std::move(token)](const http::request_view& req) {
    if (auto denied = check_bearer(req.header(boost::beast::http::field::authorization), token)) {
      return http::handler_result(std::move(*denied));
    }
    std::string out;
    out.reserve(8192);
    http_metrics(out, registry);
    health_metrics(out, source);
    header(out, "badges_health_build_info", "gauge", "Build identity; always 1.");
    out.append("badges_health_build_info{version=\"")
        .append(label(info.version))
        .append("\",commit=\"")
        .append(label(info.commit_hash))
        .append("\"} 1\n");
    header(out, "badges_health_start_time_seconds", "gauge",
           "Start time of the process since the Unix epoch.");
    out.append("badges_health_start_time_seconds ")
        .append(std::to_string(
            std::chrono::duration_cast<std::chrono::seconds>(info.started_wall.time_since_epoch())
                .count()))
        .append("\n");
    http::response res;
    res.content_type = "text/plain; version=0.0.4; charset=utf-8";
    res.body = std::move(out);
    return http::handler_result(std::move(res));
  };
}

}  // namespace badges_health::app
