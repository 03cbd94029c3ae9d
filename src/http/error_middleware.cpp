// Mapping of failures to the JSON error body.
#include "badges_health/http/error_middleware.hpp"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace badges_health::http {

response error_middleware::to_response(const http_error& e) {
  response res;
  res.status = e.status();
  res.body = nlohmann::ordered_json{{"error", e.message()}, {"code", e.code()}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  res.headers = e.headers();
  return res;
}

response error_middleware::internal_error() noexcept {
  response res;
  res.status = beast_http::status::internal_server_error;
  try {
    res.body = R"({"error":"internal server error","code":"INTERNAL_ERROR"})";
  } catch (...) {
    // Out of memory for 60 bytes: send the status line with an empty body.
  }
  res.close = true;
  return res;
}

namespace {

void log_fault(const std::exception_ptr& fault, std::string_view method_text,
               std::string_view target) {
  try {
    std::rethrow_exception(fault);
  } catch (const std::exception& e) {
    spdlog::error("internal error handling {} {}: {}", method_text, target, e.what());
  } catch (...) {
    spdlog::error("internal error handling {} {}: unknown exception", method_text, target);
  }
}

}  // namespace

answer error_middleware::handle(boost::beast::http::verb method, std::string_view method_text,
                                std::string_view target, http::protocol protocol,
                                const boost::beast::http::fields* fields,
                                std::string_view body) const noexcept {
  std::optional<std::size_t> route;
  try {
    auto req = request_view::parse(method, method_text, target, protocol, fields, body);
    if (!req) return {to_response(req.error()), route, req.error().code()};
    try {
      auto out = router_.dispatch(*req, route);
      if (out) return {std::move(*out), route};
      return {to_response(out.error()), route, out.error().code()};
    } catch (...) {
      log_fault(std::current_exception(), method_text, target);
      return {internal_error(), route, errors::internal_error.code};
    }
  } catch (...) {
    // Building the request view, the client error or the log line itself
    // failed (allocation).
    return {internal_error(), route, errors::internal_error.code};
  }
}

}  // namespace badges_health::http
