// Handlers for /status, /livez, /readyz and /.
#include "badges_health/app/handlers.hpp"

#include <chrono>
#include <nlohmann/json.hpp>

#include "badges_health/health/timestamp.hpp"

namespace badges_health::app {
namespace {

using beast_status = boost::beast::http::status;

// `{"status":"<s>","timestamp":"<now>"}` written directly: this is the hot
// path, and a JSON tree per probe would cost more than everything else.
std::string status_body(health::status s, std::string_view extra = {}) {
  char ts[health::iso8601_length];
  health::write_iso8601(std::chrono::system_clock::now(), ts);
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

}  // namespace

http::handler make_status_handler(const health::status_source& source) {
  return [&source](const http::request_view&) {
    const health::summary s = source.current();
    http::response res;
    res.body = status_body(s.overall);
    if (s.overall == health::status::down) {
      res.status = beast_status::service_unavailable;
    } else if (s.overall == health::status::degraded) {
      res.headers.emplace_back("x-envoy-degraded", "true");
    }
    return res;
  };
}

http::handler make_liveness_handler() {
  return [](const http::request_view&) {
    http::response res;
    res.body = status_body(health::status::ok);
    return res;
  };
}

http::handler make_readiness_handler(const health::status_source& source) {
  return [&source](const http::request_view&) {
    const health::summary s = source.current();
    const bool ready = s.ready && !s.draining && s.overall != health::status::down;
    http::response res;
    res.body = status_body(s.overall, ready ? R"(,"ready":true)" : R"(,"ready":false)");
    if (!ready) res.status = beast_status::service_unavailable;
    return res;
  };
}

http::handler make_index_handler(std::string version, std::vector<std::string> paths) {
  const std::string body = nlohmann::ordered_json{{"service", "badges-health"},
                                          {"version", std::move(version)},
                                          {"endpoints", std::move(paths)}}
                               .dump();
  return [body](const http::request_view&) {
    http::response res;
    res.body = body;
    return res;
  };
}

void register_routes(http::router& r, const health::status_source& source,
                     const std::string& version) {
  r.add_get("/status", make_status_handler(source));
  r.add_get("/livez", make_liveness_handler());
  r.add_get("/readyz", make_readiness_handler(source));
  r.add_get("/", make_index_handler(version, {"/", "/status", "/livez", "/readyz"}));
}

}  // namespace badges_health::app
