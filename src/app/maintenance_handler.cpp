// Validation of a maintenance request and the three answers of the route.
#include "badges_health/app/maintenance_handler.hpp"

#include <nlohmann/json.hpp>

#include "badges_health/app/bearer_auth.hpp"
#include "badges_health/app/check_reports.hpp"
#include "badges_health/util/duration.hpp"
#include "badges_health/util/timestamp.hpp"

namespace badges_health::app {

namespace {

using beast_status = boost::beast::http::status;
using nlohmann::json;

http::http_error invalid_maintenance(std::string message) {
  return {http::errors::invalid_maintenance, std::move(message)};
}

constexpr std::string_view maintenance_shape = R"(expected {"reason": "...", "for": "30m"})";

bool has_control_character(std::string_view s) noexcept {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) return true;
  }
  return false;
}

}  // namespace

boost::system::result<maintenance_request, http::http_error> parse_maintenance_request(
    std::string_view body, std::chrono::milliseconds max) {
  const json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded())
    return invalid_maintenance("the body is not JSON; " + std::string(maintenance_shape));
  if (!doc.is_object()) return invalid_maintenance(std::string(maintenance_shape));
  for (const auto& item : doc.items()) {
    if (item.key() != "reason" && item.key() != "for") {
      return invalid_maintenance("unknown field '" + item.key() + "'; " +
                                 std::string(maintenance_shape));
    }
  }
  maintenance_request out;
  const auto reason = doc.find("reason");
  if (reason == doc.end())
    return invalid_maintenance("reason: missing; say why, for the people who look");
  if (!reason->is_string()) return invalid_maintenance("reason: expected a string");
  out.reason = reason->get<std::string>();
  if (out.reason.empty()) return invalid_maintenance("reason: must not be empty");
  if (out.reason.size() > max_maintenance_reason_bytes) {
    return invalid_maintenance("reason: at most " + std::to_string(max_maintenance_reason_bytes) +
                               " bytes");
  }
  if (has_control_character(out.reason)) {
    return invalid_maintenance("reason: must not hold control characters (newlines, tabs)");
  }
  const auto length = doc.find("for");
  if (length == doc.end()) return invalid_maintenance(R"(for: missing; a duration such as "30m")");
  if (!length->is_string())
    return invalid_maintenance(R"(for: expected a duration string such as "30m")");
  const auto& text = length->get_ref<const std::string&>();
  const auto parsed = util::parse_duration(text);
  if (!parsed) {
    return invalid_maintenance("for: expected a duration such as 250ms, 90s, 30m or 2h, got " +
                               length->dump(-1, ' ', false, json::error_handler_t::replace));
  }
  if (parsed->count() <= 0) return invalid_maintenance("for: must be greater than zero");
  if (*parsed > max) {
    return invalid_maintenance("for: at most " + util::format_duration(max) +
                               " (--max-maintenance), got " + text);
  }
  out.length = *parsed;
  return out;
}

std::string maintenance_json(const health::maintenance_window* window) {
  if (window == nullptr) return R"({"active":false})";
  json j;
  j["active"] = true;
  j["reason"] = window->reason;
  j["since"] = util::format_iso8601(window->since);
  j["until"] = util::format_iso8601(window->until);
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::optional<http::http_error> maintenance_handler::refused(const http::request_view& req) const {
  const auto token = admin_token_.value();
  if (token->empty()) return http::http_error::not_found();
  return check_bearer(req.header(boost::beast::http::field::authorization), *token);
}

http::handler_result maintenance_handler::put(const http::request_view& req) const {
  if (auto denied = refused(req)) return std::move(*denied);
  if (!is_json_content_type(req.header(boost::beast::http::field::content_type))) {
    return http::http_error{http::errors::unsupported_media_type,
                            "a maintenance request is application/json"};
  }
  auto asked = parse_maintenance_request(req.body(), max_length_);
  if (!asked) return asked.error();
  const auto window = state_.start(std::move(asked->reason), asked->length);
  http::response res;
  res.body = maintenance_json(window.get());
  return res;
}

http::handler_result maintenance_handler::get(const http::request_view& req) const {
  if (auto denied = refused(req)) return std::move(*denied);
  http::response res;
  res.body = maintenance_json(state_.current().get());
  return res;
}

http::handler_result maintenance_handler::del(const http::request_view& req) const {
  if (auto denied = refused(req)) return std::move(*denied);
  state_.end();
  http::response res;
  res.status = beast_status::no_content;
  return res;
}

}  // namespace badges_health::app
