// PUT /checks/{name}: a report from the process a ttl check watches
// (`{"status": "pass" | "warn" | "fail", "output": "..."}`), handed to the
// check engine. Socket-free: the route passes the path parameter, two
// headers and the body (already held to the 4 KiB limit).
#pragma once

#include <string>
#include <string_view>

#include "badges_health/app/secret.hpp"
#include "badges_health/health/report_sink.hpp"
#include "badges_health/http/router.hpp"

namespace badges_health::app {

/// Whether a Content-Type names JSON: application/json, any case,
/// parameters allowed; none at all counts as JSON (a bare
/// `curl -X PUT --data-binary @-` sends none).
bool is_json_content_type(std::string_view type);

/// The largest report body the route accepts (413 above it).
inline constexpr std::size_t max_report_bytes = 4096;

class check_report_handler {
 public:
  /// Reports go to `sink` (the scheduler) and need `Authorization: Bearer
  /// <admin_token>`; with no admin token every report is refused as the
  /// endpoint that does not exist (404).
  check_report_handler(health::report_sink& sink, secret admin_token)
      : sink_(sink), admin_token_(std::move(admin_token)) {}

  /// 204 with no body when the report is taken; else 404 (reports off, no
  /// check of that name, or one that takes no reports), 401 with
  /// WWW-Authenticate (missing or wrong token, checked first), 415 (a
  /// Content-Type other than application/json), 400 INVALID_REPORT (not
  /// JSON, not the report's shape, an unknown status).
  http::handler_result handle(std::string_view name, std::string_view authorization,
                              std::string_view content_type, std::string_view body) const;

 private:
  health::report_sink& sink_;
  // Read at each report, so that a SIGHUP's new token takes effect at once.
  secret admin_token_;
};

}  // namespace badges_health::app
