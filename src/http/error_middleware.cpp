// Mapping of failures to the JSON error body.
#include "badges_health/http/error_middleware.hpp"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace badges_health::http {

response error_middleware::to_response(const http_error& e) {
  response res;
  res.status = e.status();
  res.body = nlohmann::ordered_json{{"error", e.what()}, {"code", e.code()}}.dump(
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

response error_middleware::handle(boost::beast::http::verb method, std::string_view method_text,
                                  std::string_view target, unsigned version,
                                  const boost::beast::http::fields* fields,
                                  std::size_t& route) const noexcept {
  route = router_.paths_size();
  try {
    try {
      const request_view req(method, method_text, target, version, fields);
      return router_.dispatch(req, &route);
    } catch (const http_error& e) {
      return to_response(e);
    } catch (const std::exception& e) {
      spdlog::error("internal error handling {} {}: {}", method_text, target, e.what());
      return internal_error();
    } catch (...) {
      spdlog::error("internal error handling {} {}: unknown exception", method_text, target);
      return internal_error();
    }
  } catch (...) {
    // Logging or building the client error itself failed (allocation).
    return internal_error();
  }
}

}  // namespace badges_health::http
