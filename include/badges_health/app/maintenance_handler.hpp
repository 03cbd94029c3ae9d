// PUT, GET and DELETE /maintenance: the operator's switch, behind the
// admin token. Socket-free: a route hands over the request view. The body
// rules are in parse_maintenance_request, tested without a server.
#pragma once

#include <boost/system/result.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "badges_health/app/maintenance_switch.hpp"
#include "badges_health/app/secret.hpp"
#include "badges_health/health/maintenance.hpp"
#include "badges_health/http/router.hpp"

namespace badges_health::app {

/// What a PUT /maintenance asks for.
struct maintenance_request {
  std::string reason;
  std::chrono::milliseconds length{};
};

/// The longest reason taken, in bytes.
inline constexpr std::size_t max_maintenance_reason_bytes = 256;

/// Reads `{"reason": "...", "for": "30m"}`: a JSON object with exactly
/// those two members; a reason of 1 to 256 bytes without control
/// characters; a duration as the flags spell one ("30m", "90s", "2h",
/// "1.5h"), above zero and at most `max`. Else 400 INVALID_MAINTENANCE
/// naming the problem.
boost::system::result<maintenance_request, http::http_error> parse_maintenance_request(
    std::string_view body, std::chrono::milliseconds max);

/// `{"active":true,"reason":...,"since":...,"until":...}`, or
/// `{"active":false}` for null.
std::string maintenance_json(const health::maintenance_window* window);

class maintenance_handler {
 public:
  /// Requests need `Authorization: Bearer <admin_token>`, read at each
  /// request (a SIGHUP's new token takes effect at once); with no token
  /// every request is the 404 of a route that does not exist.
  maintenance_handler(maintenance_switch& state, secret admin_token,
                      std::chrono::milliseconds max_length)
      : state_(state), admin_token_(std::move(admin_token)), max_length_(max_length) {}

  /// PUT: 200 with the window now in force; 401, 415, 400 as for reports.
  http::handler_result put(const http::request_view& req) const;
  /// GET: 200 with the window in force, or `{"active":false}`.
  http::handler_result get(const http::request_view& req) const;
  /// DELETE: 204 whether or not a window was in force (idempotent).
  http::handler_result del(const http::request_view& req) const;

 private:
  std::optional<http::http_error> refused(const http::request_view& req) const;

  maintenance_switch& state_;
  secret admin_token_;
  std::chrono::milliseconds max_length_;
};

}  // namespace badges_health::app
