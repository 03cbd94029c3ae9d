// Handlers for /status, /livez, /readyz and /.
#include "badges_health/app/handlers.hpp"

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "badges_health/app/bearer_auth.hpp"
#include "badges_health/app/config.hpp"
#include "badges_health/app/openapi_document.hpp"
#include "badges_health/health/health_model.hpp"
#include "badges_health/health/health_snapshot.hpp"
#include "badges_health/util/timestamp.hpp"

namespace badges_health::app {
namespace {

using beast_status = boost::beast::http::status;
using nlohmann::ordered_json;

// `{"status":"<s>","timestamp":"<now>"}` written directly: this is the hot
// path, and a JSON tree per probe would cost more than everything else.
std::string status_body(health::status s, std::string_view extra = {}) {
  char ts[util::iso8601_length];
  util::write_iso8601(std::chrono::system_clock::now(), ts);
  std::string body;
  body.reserve(64 + extra.size());
  body.append(R"({"status":")");
  body.append(health::to_string(s));
  body.append("\"");
  body.append(extra);
  body.append(R"(,"timestamp":")");
  body.append(ts, sizeof ts);
  body.append("\"}");
  return body;
}

// verbose=true|false|1|0; anything else is a client error (empty).
std::optional<bool> verbose_requested(const http::request_view& req) {
  const auto v = req.query_value("verbose");
  if (!v) return false;
  if (*v == "true" || *v == "1") return true;
  if (*v == "false" || *v == "0") return false;
  return std::nullopt;
}

double milliseconds_of(std::chrono::microseconds d) {
  return std::round(static_cast<double>(d.count()) / 10.0) / 100.0;
}

// Appends one check as `"name":{...}`, in the order and spelling that
// ordered_json would give, without building a tree: with a thousand checks
// a tree (whose object keys are found by linear search) costs milliseconds.
void check_details(std::string& out, const health::check_snapshot& c,
                   std::chrono::steady_clock::time_point now) {
  const auto append_json = [&out](const ordered_json& v) {
    out.append(v.dump(-1, ' ', false, ordered_json::error_handler_t::replace));
  };
  const auto& st = c.state;
  const auto stale_after = c.spec->stale_after();
  const auto effective = st.effective(now, stale_after);
  append_json(c.spec->name);
  out.append(R"(:{"status":")").append(health::to_string(effective));
  out.append(R"(","critical":)").append(c.spec->critical ? "true" : "false");
  out.append(R"(,"type":")").append(health::to_string(c.spec->type));
  out.append(R"(","observedAt":)");
  if (st.has_result()) {
    char ts[util::iso8601_length];
    util::write_iso8601(st.observed_at(), ts);
    out.push_back('"');
    out.append(ts, sizeof ts);
    out.push_back('"');
  } else {
    out.append("null");
  }
  out.append(R"(,"durationMs":)");
  append_json(milliseconds_of(st.duration()));
  // The same latency in draft-inadarei-api-health-check's terms.
  out.append(R"(,"observedValue":)");
  append_json(milliseconds_of(st.duration()));
  out.append(R"(,"observedUnit":"ms")");
  out.append(R"(,"consecutiveFailures":)").append(std::to_string(st.consecutive_failures()));
  if (effective == health::check_status::fail) {
    out.append(R"(,"output":)");
    if (st.stale(now, stale_after)) {
      append_json("no result for more than " + format_duration(stale_after) +
                  (st.has_result() ? " (stale)" : " since the check started"));
    } else {
      append_json(st.failure_output());
    }
  }
  out.append(R"(,"transitions":[)");
  bool first = true;
  for (const auto& t : st.transitions()) {
    if (!first) out.push_back(',');
    first = false;
    char at[util::iso8601_length];
    util::write_iso8601(t.at, at);
    out.append(R"({"at":")").append(at, sizeof at);
    out.append(R"(","from":")").append(health::to_string(t.from));
    out.append(R"(","to":")").append(health::to_string(t.to));
    out.append(R"(","reason":)");
    append_json(t.reason);
    out.push_back('}');
  }
  out.append("]}");
}

std::string verbose_body(const health::summary& s, const health::health_snapshot* snap,
                         const service_info& info) {
  const auto now = std::chrono::steady_clock::now();
  ordered_json head;
  head["status"] = std::string(health::to_string(s.overall));
  head["timestamp"] = util::format_iso8601(std::chrono::system_clock::now());
  head["version"] = info.version;
  head["commitHash"] = info.commit_hash;
  head["uptimeSeconds"] =
      std::chrono::duration_cast<std::chrono::seconds>(now - info.started).count();
  head["ready"] = s.readiness();
  if (s.draining) head["draining"] = true;
  std::string body = head.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
  body.pop_back();  // the closing brace: "checks" goes last
  const std::size_t count = snap != nullptr ? snap->checks.size() : 0;
  body.reserve(body.size() + 16 + count * 160);
  body.append(R"(,"checks":{)");
  for (std::size_t i = 0; i < count; ++i) {
    if (i != 0) body.push_back(',');
    check_details(body, snap->checks[i], now);
  }
  body.append("}}");
  return body;
}

}  // namespace

http::handler make_status_handler(const health::status_source& source, service_info info,
                                  std::string details_token) {
  return [&source, info = std::move(info),
          token = std::move(details_token)](const http::request_view& req) -> http::handler_result {
    const auto verbose_flag = verbose_requested(req);
    if (!verbose_flag) {
      return http::http_error::invalid_parameter("verbose must be true, false, 1 or 0");
    }
    const bool verbose = *verbose_flag;
    if (verbose) {
      if (auto denied = check_bearer(req.header(boost::beast::http::field::authorization), token)) {
        return std::move(*denied);
      }
    }
    const health::summary s = source.current();
    http::response res;
    if (verbose) {
      const auto snap = source.details();
      res.body = verbose_body(s, snap.get(), info);
    } else {
      res.body = status_body(s.overall);
    }
    if (s.overall == health::status::down) {
      res.status = beast_status::service_unavailable;
    } else if (s.overall == health::status::degraded) {
      res.headers.emplace_back("x-envoy-degraded", "true");
    }
    return res;
  };
}

http::handler make_liveness_handler() {
  return [](const http::request_view&) -> http::handler_result {
    http::response res;
    res.body = status_body(health::status::ok);
    return res;
  };
}

http::handler make_readiness_handler(const health::status_source& source) {
  return [&source](const http::request_view&) -> http::handler_result {
    const health::summary s = source.current();
    const bool ready = s.readiness();
    http::response res;
    res.body = status_body(s.overall, ready ? R"(,"ready":true)" : R"(,"ready":false)");
    if (!ready) res.status = beast_status::service_unavailable;
    return res;
  };
}

http::handler make_index_handler(std::string version, const http::router& routes) {
  // Read from the table at each request (workers share this handler, and
  // the table is complete only once every route is registered); "/" is
  // not a probe path, so the few microseconds do not matter.
  return
      [version = std::move(version), &routes](const http::request_view&) -> http::handler_result {
        http::response res;
        res.body =
            ordered_json{
                {"service", "badges-health"}, {"version", version}, {"endpoints", routes.paths()}}
                .dump();
        return res;
      };
}

http::handler make_openapi_handler() {
  return [](const http::request_view&) -> http::handler_result {
    http::response res;
    res.body = openapi_document();
    return res;
  };
}

void register_routes(http::router& r, const health::status_source& source,
                     http::metrics_registry& registry, const service_info& info,
                     const std::string& details_token, const std::string& metrics_token) {
  r.add_get("/status", make_status_handler(source, info, details_token), {"verbose"});
  r.add_get("/livez", make_liveness_handler());
  r.add_get("/readyz", make_readiness_handler(source));
  r.add_get("/metrics", make_metrics_handler(registry, source, info, metrics_token));
  r.add_get("/openapi.json", make_openapi_handler());
  r.add_get("/", make_index_handler(info.version, r));
  registry.set_routes(r.paths());
}

std::vector<std::string> registered_paths() {
  // The table itself, registered against an idle model: what the server
  // routes, without a second list to keep in step.
  health::health_model model;
  http::metrics_registry registry(1);
  http::router r;
  register_routes(r, model, registry, service_info{}, "", "");
  return r.paths();
}

}  // namespace badges_health::app
