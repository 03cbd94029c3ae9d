// Validation of a ttl check's report, then its hand-over to the scheduler.
#include "badges_health/app/check_reports.hpp"

#include <nlohmann/json.hpp>

#include "badges_health/app/bearer_auth.hpp"

namespace badges_health::app {

namespace {

using beast_status = boost::beast::http::status;
using nlohmann::json;

http::http_error invalid_report(std::string message) {
  return {http::errors::invalid_report, std::move(message)};
}

}  // namespace

bool is_json_content_type(std::string_view type) {
  if (type.empty()) return true;
  const std::string_view media = type.substr(0, type.find(';'));
  std::string lower;
  for (const char c : media) {
    if (c == ' ' || c == '\t') continue;
    lower.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return lower == "application/json";
}

http::handler_result check_report_handler::handle(std::string_view name,
                                                  std::string_view authorization,
                                                  std::string_view content_type,
                                                  std::string_view body) const {
  const auto token = admin_token_.value();
  if (token->empty()) return http::http_error::not_found();
  // The token before anything else: without it, nothing says which checks
  // exist.
  if (auto denied = check_bearer(authorization, *token)) return std::move(*denied);
  if (!is_json_content_type(content_type)) {
    return http::http_error{http::errors::unsupported_media_type, "a report is application/json"};
  }
  const json report = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (report.is_discarded()) return invalid_report("the body is not JSON");
  if (!report.is_object())
    return invalid_report(
        "expected {\"status\": \"pass\" | \"warn\" | \"fail\", \"output\": \"...\"}");
  for (const auto& [key, value] : report.items()) {
    if (key != "status" && key != "output") return invalid_report("unknown field '" + key + "'");
  }
  const auto status_field = report.find("status");
  if (status_field == report.end() || !status_field->is_string()) {
    return invalid_report("status: expected \"pass\", \"warn\" or \"fail\"");
  }
  health::check_result result;
  const auto& status = status_field->get_ref<const std::string&>();
  if (status == "pass") {
    result.status = health::check_status::pass;
  } else if (status == "warn") {
    result.status = health::check_status::warn;
  } else if (status == "fail") {
    result.status = health::check_status::fail;
  } else {
    return invalid_report("status: expected \"pass\", \"warn\" or \"fail\", got " +
                          status_field->dump(-1, ' ', false, json::error_handler_t::replace));
  }
  if (const auto output = report.find("output"); output != report.end()) {
    if (!output->is_string()) return invalid_report("output: expected a string");
    result.output = output->get<std::string>();
  } else {
    result.output = "reported " + status;
  }
  switch (sink_.submit(name, std::move(result))) {
    case health::report_outcome::accepted:
      break;
    case health::report_outcome::unknown_check:
      return http::http_error{http::errors::not_found,
                              "no check named \"" + std::string(name) + "\""};
    case health::report_outcome::not_reported:
      return http::http_error{
          http::errors::not_found,
          "check \"" + std::string(name) + "\" is not a ttl check: it takes no reports"};
  }
  http::response res;
  res.status = beast_status::no_content;
  return res;
}

}  // namespace badges_health::app
