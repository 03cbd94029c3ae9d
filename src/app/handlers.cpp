// Handlers for /status, /livez, /readyz, /readyz/{name} and /; /status and
// /readyz answer in application/health+json too when the client asks for
// it, and leave out the checks `exclude` names; /readyz and /livez answer
// kube-apiserver's text report with `verbose`.
#include "badges_health/app/handlers.hpp"

#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <variant>
#include <vector>

#include "badges_health/app/bearer_auth.hpp"
#include "badges_health/app/check_exclusion.hpp"
#include "badges_health/app/check_reports.hpp"
#include "badges_health/app/config.hpp"
#include "badges_health/app/maintenance_handler.hpp"
#include "badges_health/app/openapi_document.hpp"
#include "badges_health/app/text_report.hpp"
#include "badges_health/health/health_model.hpp"
#include "badges_health/health/health_snapshot.hpp"
#include "badges_health/health/maintenance.hpp"
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

// verbose=true|false|1|0, and a bare `verbose` (kube-apiserver's
// `?verbose`) where `bare_is_true`; anything else is a client error (empty).
std::optional<bool> verbose_requested(const http::request_view& req, bool bare_is_true = false) {
  const auto v = req.query_value("verbose");
  if (!v) return false;
  if (*v == "true" || *v == "1" || (bare_is_true && v->empty())) return true;
  if (*v == "false" || *v == "0") return false;
  return std::nullopt;
}

double milliseconds_of(std::chrono::microseconds d) {
  return std::round(static_cast<double>(d.count()) / 10.0) / 100.0;
}

// Appends `v` as compact JSON (invalid UTF-8 replaced, never thrown).
void append_json(std::string& out, const ordered_json& v) {
  out.append(v.dump(-1, ' ', false, ordered_json::error_handler_t::replace));
}

// Appends `"YYYY-MM-DDTHH:MM:SS.mmmZ"`.
void append_timestamp(std::string& out, std::chrono::system_clock::time_point at) {
  char ts[util::iso8601_length];
  util::write_iso8601(at, ts);
  out.push_back('"');
  out.append(ts, sizeof ts);
  out.push_back('"');
}

// Appends, as a JSON string, why a check whose effective status is `fail`
// or `warn` is so: its last failure or warning, or that its result is too
// old to count.
void append_reason(std::string& out, const health::check_snapshot& c,
                   std::chrono::steady_clock::time_point now) {
  append_json(out, health::effective_reason(c, now));
}

// Appends one check as `"name":{...}`, in the order and spelling that
// ordered_json would give, without building a tree: with a thousand checks
// a tree (whose object keys are found by linear search) costs milliseconds.
void check_details(std::string& out, const health::check_snapshot& c,
                   std::chrono::steady_clock::time_point now, bool excluded) {
  const auto& st = c.state;
  const auto effective = st.effective(now, c.spec->stale_after());
  append_json(out, c.spec->name);
  out.append(R"(:{"status":")").append(health::to_string(effective));
  // An excluded check keeps its own status; this says it did not count.
  out.push_back('"');
  if (excluded) out.append(R"(,"excluded":true)");
  out.append(R"(,"critical":)").append(c.spec->critical ? "true" : "false");
  out.append(R"(,"type":")").append(c.spec->type().name);
  out.append(R"(","observedAt":)");
  if (st.has_result()) {
    append_timestamp(out, st.observed_at());
  } else {
    out.append("null");
  }
  out.append(R"(,"durationMs":)");
  append_json(out, milliseconds_of(st.duration()));
  // In draft-inadarei-api-health-check's terms: what the check measured
  // (free space, a plugin's datum, a certificate's days), else its latency.
  out.append(R"(,"observedValue":)");
  if (const auto& seen = st.observed()) {
    append_json(out, seen->value);
    out.append(R"(,"observedUnit":)");
    append_json(out, seen->unit);
  } else {
    append_json(out, milliseconds_of(st.duration()));
    out.append(R"(,"observedUnit":"ms")");
  }
  out.append(R"(,"consecutiveFailures":)").append(std::to_string(st.consecutive_failures()));
  if (effective == health::check_status::fail || effective == health::check_status::warn) {
    out.append(R"(,"output":)");
    append_reason(out, c, now);
  }
  out.append(R"(,"transitions":[)");
  bool first = true;
  for (const auto& t : st.transitions()) {
    if (!first) out.push_back(',');
    first = false;
    out.append(R"({"at":)");
    append_timestamp(out, t.at);
    out.append(R"(,"from":")").append(health::to_string(t.from));
    out.append(R"(","to":")").append(health::to_string(t.to));
    out.append(R"(","reason":)");
    append_json(out, t.reason);
    out.push_back('}');
  }
  out.append("]}");
}

// Whether check `i` is one a request excluded (`skip` is empty when it
// excluded none).
bool is_excluded(const std::vector<bool>& skip, std::size_t i) noexcept {
  return i < skip.size() && skip[i];
}

std::string verbose_body(const health::summary& s, const health::health_snapshot* snap,
                         const health::maintenance_window* maintenance, const service_info& info,
                         const std::vector<bool>& skip) {
  const auto now = std::chrono::steady_clock::now();
  // Checks are judged at the instant their snapshot describes.
  const auto checks_now = snap != nullptr ? snap->taken_at : now;
  ordered_json head;
  head["status"] = std::string(health::to_string(s.overall));
  head["timestamp"] = util::format_iso8601(std::chrono::system_clock::now());
  head["version"] = info.version;
  head["commitHash"] = info.commit_hash;
  head["uptimeSeconds"] =
      std::chrono::duration_cast<std::chrono::seconds>(now - info.started).count();
  head["ready"] = s.readiness();
  if (s.draining) head["draining"] = true;
  if (maintenance != nullptr) {
    head["maintenance"] = {{"reason", maintenance->reason},
                           {"since", util::format_iso8601(maintenance->since)},
                           {"until", util::format_iso8601(maintenance->until)}};
  }
  std::string body = head.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
  body.pop_back();  // the closing brace: "checks" goes last
  const std::size_t count = snap != nullptr ? snap->checks.size() : 0;
  body.reserve(body.size() + 16 + count * 160);
  body.append(R"(,"checks":{)");
  for (std::size_t i = 0; i < count; ++i) {
    if (i != 0) body.push_back(',');
    check_details(body, snap->checks[i], checks_now, is_excluded(skip, i));
  }
  body.append("}}");
  return body;
}

// ---- application/health+json (draft-inadarei-api-health-check-06) ----

constexpr std::string_view health_json_type = "application/health+json";

std::string_view health_json_status(health::status s) noexcept {
  switch (s) {
    case health::status::ok:
      return "pass";
    case health::status::degraded:
      return "warn";
    case health::status::down:
      break;
  }
  return "fail";
}

// A check still waiting for its first result is neither passing nor
// failing (it does not fail the service either): a warning.
std::string_view health_json_status(health::check_status s) noexcept {
  switch (s) {
    case health::check_status::pass:
      return "pass";
    case health::check_status::pending:
    case health::check_status::warn:
      return "warn";
    case health::check_status::fail:
      break;
  }
  return "fail";
}

// The members that do not change between requests, written once per
// handler: `,"version":...,"releaseId":...,"serviceId":...,"description":...`.
std::string health_json_identity(const service_info& info, std::string_view description) {
  ordered_json j;
  j["version"] = info.version;
  j["releaseId"] = info.commit_hash;
  j["serviceId"] = "badges-health";
  j["description"] = std::string(description);
  std::string out = j.dump(-1, ' ', false, ordered_json::error_handler_t::replace);
  out.front() = ',';
  out.pop_back();
  return out;
}

// Appends one check as the draft shapes a measurement:
// `"<name>:responseTime":[{"componentType":...,"observedValue":...,...}]`.
// Written directly, like the verbose output, for the same reason.
void health_json_check(std::string& out, const health::check_snapshot& c,
                       std::chrono::steady_clock::time_point now, bool excluded) {
  const auto& st = c.state;
  const auto effective = st.effective(now, c.spec->stale_after());
  append_json(out, c.spec->name);
  out.pop_back();  // the closing quote: the key goes on
  // The draft's componentType, as the check's type says (databases are
  // datastores, this host the system, anything else a component).
  out.append(R"(:responseTime":[{"componentType":")").append(c.spec->type().component_type);
  out.push_back('"');
  if (st.has_result()) {
    out.append(R"(,"observedValue":)");
    append_json(out, milliseconds_of(st.duration()));
    out.append(R"(,"observedUnit":"ms")");
  }
  out.append(R"(,"status":")").append(health_json_status(effective));
  out.push_back('"');
  if (excluded) out.append(R"(,"excluded":true)");
  if (st.has_result()) {
    out.append(R"(,"time":)");
    append_timestamp(out, st.observed_at());
  }
  if (effective == health::check_status::fail || effective == health::check_status::warn) {
    out.append(R"(,"output":)");
    append_reason(out, c, now);
  } else if (effective == health::check_status::pending) {
    out.append(R"(,"output":"waiting for the first result")");
  }
  out.append("}]");
}

// The draft's `output` while in maintenance: when it ends, and why to a
// caller allowed to see details (the reason is the operator's words).
std::string maintenance_output(const health::summary& s, const health::status_source& source,
                               bool with_reason) {
  if (!s.maintenance) return {};
  const auto window = source.maintenance();
  if (!window) return {};  // ended between the two reads
  std::string out = "in maintenance until " + util::format_iso8601(window->until);
  if (with_reason) out += ": " + window->reason;
  return out;
}

// `{"status":..., "output":..., <identity>, "checks":{...}}`; no `output`
// when it is empty, no `checks` member when `with_checks` is false (a
// caller who may not see them).
std::string health_json_body(std::string_view status, std::string_view output,
                             std::string_view identity, bool with_checks,
                             const health::health_snapshot* snap, const std::vector<bool>& skip) {
  const std::size_t count = with_checks && snap != nullptr ? snap->checks.size() : 0;
  std::string body;
  body.reserve(32 + identity.size() + count * 160);
  body.append(R"({"status":")").append(status);
  body.push_back('"');
  if (!output.empty()) {
    body.append(R"(,"output":)");
    append_json(body, std::string(output));
  }
  body.append(identity);
  if (with_checks) {
    const auto now = snap != nullptr ? snap->taken_at : std::chrono::steady_clock::now();
    body.append(R"(,"checks":{)");
    for (std::size_t i = 0; i < count; ++i) {
      if (i != 0) body.push_back(',');
      health_json_check(body, snap->checks[i], now, is_excluded(skip, i));
    }
    body.push_back('}');
  }
  body.push_back('}');
  return body;
}

// Who sees the checks in health+json: everyone when no details token is
// set, else the bearer of it. A caller presenting no token still gets the
// status (monitors without credentials); a wrong token is refused as
// verbose output refuses it.
std::variant<bool, http::http_error> checks_allowed(std::string_view authorization,
                                                    std::string_view token) {
  if (token.empty()) return true;
  if (authorization.empty()) return false;
  if (auto denied = check_bearer(authorization, token)) return std::move(*denied);
  return true;
}

// A request judged on one snapshot of the checks: its `exclude` read
// against that snapshot's names, and the summary of the checks it keeps.
struct judged_request {
  std::shared_ptr<const health::health_snapshot> snap;
  std::vector<bool> skip;
  health::summary summary;
};

boost::system::result<judged_request, http::http_error> judge_on_snapshot(
    const health::status_source& source, const http::request_view& req,
    const health::summary& live) {
  judged_request j;
  j.snap = source.details();
  // Null only when the model could not allocate one: a fault, not "no checks".
  if (!j.snap) throw std::runtime_error("no snapshot of the checks");
  auto skip = excluded_checks(req.query(), *j.snap);
  if (!skip) return skip.error();
  j.skip = std::move(*skip);
  j.summary = health::aggregate_without(*j.snap, j.skip, live);
  return j;
}

// Health answers depend on Accept: caches must key on it.
void add_vary_accept(http::response& res) { res.headers.emplace_back("Vary", "Accept"); }

// ---- Accept (RFC 9110 section 12.5.1) ----

constexpr bool is_ows(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// Calls `f` with each element of `list` separated by `sep`, skipping
// separators inside quoted strings (a parameter value may hold ',' or ';').
template <class F>
void for_each_element(std::string_view list, char sep, F&& f) {
  bool quoted = false;
  bool escaped = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const char c = list[i];
    if (escaped) {
      escaped = false;
    } else if (quoted) {
      if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == sep) {
      f(list.substr(start, i - start));
      start = i + 1;
    }
  }
  f(list.substr(start));
}

// A qvalue in thousandths: "0", "0.5", "1", "1.000"; nullopt when malformed.
std::optional<int> parse_qvalue(std::string_view v) noexcept {
  if (v.empty() || (v[0] != '0' && v[0] != '1')) return std::nullopt;
  int q = (v[0] - '0') * 1000;
  if (v.size() == 1) return q;
  if (v[1] != '.' || v.size() > 5) return std::nullopt;
  int scale = 100;
  for (const char c : v.substr(2)) {
    if (c < '0' || c > '9') return std::nullopt;
    q += (c - '0') * scale;
    scale /= 10;
  }
  if (q > 1000) return std::nullopt;
  return q;
}

}  // namespace

bool accepts_health_json(std::string_view accept) noexcept {
  std::optional<int> health_q;  // from an explicit application/health+json
  int json_q = 0;               // from the most specific range matching application/json
  int json_specificity = -1;
  for_each_element(accept, ',', [&](std::string_view element) {
    element = trim_ows(element);
    if (element.empty()) return;  // RFC 9110 section 5.6.1: empty elements are allowed
    std::string_view range;
    std::optional<int> q = 1000;
    bool first = true;
    for_each_element(element, ';', [&](std::string_view part) {
      part = trim_ows(part);
      if (first) {
        range = part;
        first = false;
        return;
      }
      const auto eq = part.find('=');
      if (eq == std::string_view::npos) return;
      if (iequals(trim_ows(part.substr(0, eq)), "q"))
        q = parse_qvalue(trim_ows(part.substr(eq + 1)));
    });
    const auto slash = range.find('/');
    if (!q || slash == std::string_view::npos) return;  // malformed: ignored
    const auto type = trim_ows(range.substr(0, slash));
    const auto subtype = trim_ows(range.substr(slash + 1));
    int specificity = -1;
    if (type == "*" && subtype == "*") {
      specificity = 0;
    } else if (iequals(type, "application")) {
      if (subtype == "*") {
        specificity = 1;
      } else if (iequals(subtype, "json")) {
        specificity = 2;
      } else if (iequals(subtype, "health+json") && !health_q) {
        health_q = *q;
      }
    }
    if (specificity > json_specificity) {
      json_specificity = specificity;
      json_q = *q;
    }
  });
  return health_q && *health_q > 0 && *health_q >= json_q;
}

http::handler make_status_handler(const health::status_source& source, service_info info,
                                  secret details_token) {
  auto identity = health_json_identity(info, "health of the Decentraland Badges API");
  return [&source, info = std::move(info), token = std::move(details_token),
          identity = std::move(identity)](const http::request_view& req) -> http::handler_result {
    const auto verbose_flag = verbose_requested(req);
    if (!verbose_flag) {
      return http::http_error::invalid_parameter("verbose must be true, false, 1 or 0");
    }
    const bool verbose = *verbose_flag;
    const auto authorization = req.header(boost::beast::http::field::authorization);
    if (verbose) {
      if (auto denied = check_bearer(authorization, *token.value())) return std::move(*denied);
    }
    const bool health_json = accepts_health_json(req.header(boost::beast::http::field::accept));
    bool with_checks = false;
    if (health_json) {
      auto allowed = checks_allowed(authorization, *token.value());
      if (auto* denied = std::get_if<http::http_error>(&allowed)) return std::move(*denied);
      with_checks = std::get<bool>(allowed);
    }
    health::summary s = source.current();
    // Without `exclude`, the published summary: no snapshot on the hot path.
    std::optional<judged_request> judged;
    if (requests_exclusion(req.query())) {
      auto j = judge_on_snapshot(source, req, s);
      if (!j) return j.error();
      judged = std::move(*j);
      s = judged->summary;
    }
    const std::vector<bool> no_skip;
    const auto& skip = judged ? judged->skip : no_skip;
    http::response res;
    if (health_json) {
      res.content_type = health_json_type;
      const auto snap = judged ? judged->snap : with_checks ? source.details() : nullptr;
      res.body = health_json_body(health_json_status(s.overall),
                                  maintenance_output(s, source, with_checks), identity, with_checks,
                                  snap.get(), skip);
    } else if (verbose) {
      const auto snap = judged ? judged->snap : source.details();
      const auto maintenance = s.maintenance ? source.maintenance() : nullptr;
      res.body = verbose_body(s, snap.get(), maintenance.get(), info, skip);
    } else {
      res.body = status_body(s.overall);
    }
    if (s.overall == health::status::down) {
      res.status = beast_status::service_unavailable;
    } else if (s.overall == health::status::degraded) {
      res.headers.emplace_back("x-envoy-degraded", "true");
    }
    add_vary_accept(res);
    return res;
  };
}

http::handler make_liveness_handler() {
  return [](const http::request_view& req) -> http::handler_result {
    const auto verbose = verbose_requested(req, /*bare_is_true=*/true);
    if (!verbose) return http::http_error::invalid_parameter("verbose must be true, false, 1 or 0");
    http::response res;
    if (*verbose) {
      res.content_type = text_report_type;
      res.body = liveness_report();
    } else {
      res.body = status_body(health::status::ok);
    }
    return res;
  };
}

http::handler make_readiness_handler(const health::status_source& source, service_info info,
                                     secret details_token) {
  return [&source, token = std::move(details_token),
          identity = health_json_identity(info, "readiness of the Decentraland Badges API")](
             const http::request_view& req) -> http::handler_result {
    const auto verbose = verbose_requested(req, /*bare_is_true=*/true);
    if (!verbose) return http::http_error::invalid_parameter("verbose must be true, false, 1 or 0");
    const bool health_json = accepts_health_json(req.header(boost::beast::http::field::accept));
    // health+json (as on /status) wins over the text report.
    const bool text = *verbose && !health_json;
    // For health+json: whether its checks are shown; for the text report:
    // whether its reasons are.
    bool with_checks = false;
    if (health_json || text) {
      auto allowed =
          checks_allowed(req.header(boost::beast::http::field::authorization), *token.value());
      if (auto* denied = std::get_if<http::http_error>(&allowed)) return std::move(*denied);
      with_checks = std::get<bool>(allowed);
    }
    const health::summary live = source.current();
    // The text report's lines and its verdict come from one snapshot; so
    // does any answer with `exclude`. Anything else reads the published
    // summary.
    std::optional<judged_request> judged;
    if (text || requests_exclusion(req.query())) {
      auto j = judge_on_snapshot(source, req, live);
      if (!j) return j.error();
      judged = std::move(*j);
    }
    const health::summary s = judged ? judged->summary : live;
    const bool ready = s.readiness();
    http::response res;
    if (health_json) {
      res.content_type = health_json_type;
      const auto snap = judged ? judged->snap : with_checks ? source.details() : nullptr;
      const std::vector<bool> no_skip;
      res.body = health_json_body(ready ? health_json_status(s.overall) : "fail",
                                  maintenance_output(s, source, with_checks), identity, with_checks,
                                  snap.get(), judged ? judged->skip : no_skip);
    } else if (text) {
      res.content_type = text_report_type;
      const auto maintenance = s.maintenance ? source.maintenance() : nullptr;
      res.body = readiness_report(*judged->snap, judged->skip, s, maintenance.get(),
                                  with_checks ? report_reasons::shown : report_reasons::withheld);
    } else {
      res.body = status_body(s.overall, ready ? R"(,"ready":true)" : R"(,"ready":false)");
    }
    if (!ready) res.status = beast_status::service_unavailable;
    add_vary_accept(res);
    return res;
  };
}

http::handler make_check_readiness_handler(const health::status_source& source,
                                           secret details_token) {
  return [&source,
          token = std::move(details_token)](const http::request_view& req) -> http::handler_result {
    constexpr std::string_view prefix = "/readyz/";
    const auto name = req.path().substr(prefix.size());
    auto allowed =
        checks_allowed(req.header(boost::beast::http::field::authorization), *token.value());
    if (auto* denied = std::get_if<http::http_error>(&allowed)) return std::move(*denied);
    const auto reasons = std::get<bool>(allowed) ? report_reasons::shown : report_reasons::withheld;
    const health::summary live = source.current();
    const auto snap = source.details();
    if (!snap) throw std::runtime_error("no snapshot of the checks");
    const health::check_snapshot* check = nullptr;
    for (const auto& c : snap->checks) {
      if (c.spec->name == name) {
        check = &c;
        break;
      }
    }
    if (check == nullptr) {
      return http::http_error{http::errors::unknown_check,
                              "no check named \"" + std::string(name) + "\""};
    }
    http::response res;
    res.content_type = text_report_type;
    // A draining instance is going away, and one in maintenance is out of
    // rotation, whatever the check says.
    if (!live.draining && !live.maintenance && check_passes(*check, snap->taken_at)) {
      res.body = "ok";
    } else {
      res.status = beast_status::service_unavailable;
      const auto maintenance = live.maintenance ? source.maintenance() : nullptr;
      res.body =
          check_failure_report(*check, snap->taken_at, live.draining, maintenance.get(), reasons);
    }
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
    // Served from the binary's own copy: never copied per request.
    http::response res;
    res.shared_body = http::shared_bytes::of_static(openapi_document());
    return res;
  };
}

http::handler make_event_stream_handler(secret details_token) {
  return [token = std::move(details_token)](const http::request_view& req) -> http::handler_result {
    auto allowed =
        checks_allowed(req.header(boost::beast::http::field::authorization), *token.value());
    if (auto* denied = std::get_if<http::http_error>(&allowed)) return std::move(*denied);
    http::response res;
    res.content_type = "text/event-stream";
    // nginx would otherwise hold the events back in its buffer.
    res.headers.emplace_back("X-Accel-Buffering", "no");
    res.event_stream = true;
    res.event_checks = std::get<bool>(allowed);
    return res;
  };
}

http::handler guarded_by(secret token, http::handler inner) {
  return [token = std::move(token),
          inner = std::move(inner)](const http::request_view& req) -> http::handler_result {
    const auto current = token.value();
    if (auto denied =
            check_bearer(req.header(boost::beast::http::field::authorization), *current)) {
      return std::move(*denied);
    }
    return inner(req);
  };
}

void register_routes(http::router& r, const health::status_source& source,
                     http::metrics_registry& registry, const service_info& info,
                     const secret& details_token, const secret& metrics_token,
                     const check_report_handler* reports, const maintenance_handler* maintenance) {
  r.add_get("/status", make_status_handler(source, info, details_token), {"verbose", "exclude"});
  r.add_get("/livez", make_liveness_handler(), {"verbose"});
  r.add_get("/readyz", make_readiness_handler(source, info, details_token), {"verbose", "exclude"});
  r.add_get("/readyz/{name}", make_check_readiness_handler(source, details_token));
  r.add_get("/status/events", make_event_stream_handler(details_token));
  // The metrics handler is given no token of its own: the guard reads the
  // current one at each request.
  r.add_get("/metrics", guarded_by(metrics_token, make_metrics_handler(registry, source, info)));
  r.add_get("/openapi.json", make_openapi_handler());
  r.add_get("/", make_index_handler(info.version, r));
  if (reports != nullptr) {
    r.add_put("/checks/{name}", [reports](const http::request_view& req) -> http::handler_result {
      constexpr std::string_view prefix = "/checks/";
      const auto name = req.path().substr(prefix.size());
      return reports->handle(name, req.header(boost::beast::http::field::authorization),
                             req.header(boost::beast::http::field::content_type), req.body());
    });
  }
  if (maintenance != nullptr) {
    r.add_get("/maintenance",
              [maintenance](const http::request_view& req) { return maintenance->get(req); });
    r.add_put("/maintenance",
              [maintenance](const http::request_view& req) { return maintenance->put(req); });
    r.add_delete("/maintenance",
                 [maintenance](const http::request_view& req) { return maintenance->del(req); });
  }
  registry.set_routes(r.paths());
  // HAProxy's bare `option httpchk` (`OPTIONS / HTTP/1.0`) and `OPTIONS *`
  // answer 503 whenever /status would.
  r.set_unavailable([&source] {
    const health::summary s = source.current();
    return s.overall == health::status::down || s.draining || s.maintenance;
  });
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
