// Unit tests for error_middleware: client errors (returned by the parser,
// the router or a handler) keep status, code and headers in the JSON error
// body; anything thrown is a bare 500.
#include "badges_health/http/error_middleware.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <cstddef>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace badges_health::http {
namespace {

using boost::beast::http::verb;

std::string header_value(const response& res, std::string_view name) {
  for (const auto& [n, v] : res.headers) {
    if (n == name) return v;
  }
  return "<absent>";
}

class error_middleware_test : public ::testing::Test {
 protected:
  void SetUp() override {
    // The middleware logs internal errors; keep them out of the test output.
    previous_logger_ = spdlog::default_logger();
    spdlog::set_default_logger(std::make_shared<spdlog::logger>(
        "error_middleware_test", std::make_shared<spdlog::sinks::null_sink_mt>()));

    r_.add_get("/ok", [](const request_view&) {
      response res;
      res.body = R"({"fine":true})";
      return res;
    });
    r_.add_get("/teapot", [](const request_view&) -> handler_result {
      return http_error(errors::service_unavailable, "short and stout", {{"Retry-After", "5"}});
    });
    r_.add_get("/std", [](const request_view&) -> response {
      throw std::runtime_error("secret /etc/path");
    });
    r_.add_get("/int", [](const request_view&) -> response { throw 42; });
  }

  void TearDown() override { spdlog::set_default_logger(previous_logger_); }

  answer handle(verb method, std::string_view method_text, std::string_view target) const {
    return mw_.handle(method, method_text, target, protocol::http1_1, nullptr);
  }

  std::shared_ptr<spdlog::logger> previous_logger_;
  router r_;
  error_middleware mw_{r_};
};

TEST_F(error_middleware_test, successful_dispatch_passes_the_response_through) {
  const response res = handle(verb::get, "GET", "/ok").res;
  EXPECT_EQ(res.status, beast_http::status::ok);
  EXPECT_EQ(res.body, R"({"fine":true})");
  EXPECT_FALSE(res.close);
}

TEST_F(error_middleware_test, reports_the_matched_route_index) {
  // Even when the handler throws, the answer names the route it matched.
  EXPECT_EQ(handle(verb::get, "GET", "/std").route, std::size_t{2});
  EXPECT_EQ(handle(verb::get, "GET", "/teapot").route, std::size_t{1});
  EXPECT_FALSE(handle(verb::get, "GET", "/missing").route.has_value());
  // A target that does not parse never reaches the router.
  EXPECT_FALSE(handle(verb::get, "GET", "nope").route.has_value());
  EXPECT_FALSE(handle(verb::get, "GET", "/ok?x=%zz").route.has_value());
}

TEST_F(error_middleware_test, http_error_returned_by_handler_keeps_status_code_and_headers) {
  const response res = handle(verb::get, "GET", "/teapot").res;
  EXPECT_EQ(res.status, beast_http::status::service_unavailable);
  EXPECT_EQ(res.body, R"({"error":"short and stout","code":"SERVICE_UNAVAILABLE"})");
  EXPECT_EQ(header_value(res, "Retry-After"), "5");
  EXPECT_EQ(res.content_type, "application/json");
}

TEST_F(error_middleware_test, unknown_path_becomes_404_json) {
  const response res = handle(verb::get, "GET", "/missing").res;
  EXPECT_EQ(res.status, beast_http::status::not_found);
  const auto body = nlohmann::json::parse(res.body);
  EXPECT_EQ(body.at("code"), "NOT_FOUND");
  EXPECT_TRUE(body.at("error").is_string());
  EXPECT_EQ(body.size(), 2u);
}

TEST_F(error_middleware_test, wrong_method_becomes_405_json_with_allow) {
  const response res = handle(verb::post, "POST", "/ok").res;
  EXPECT_EQ(res.status, beast_http::status::method_not_allowed);
  EXPECT_EQ(nlohmann::json::parse(res.body).at("code"), "METHOD_NOT_ALLOWED");
  EXPECT_EQ(header_value(res, "Allow"), "GET, HEAD, OPTIONS");
}

TEST_F(error_middleware_test, malformed_target_becomes_400_json) {
  const response res = handle(verb::get, "GET", "/ok?x=%zz").res;
  EXPECT_EQ(res.status, beast_http::status::bad_request);
  EXPECT_EQ(nlohmann::json::parse(res.body).at("code"), "BAD_REQUEST");
}

TEST_F(error_middleware_test, unknown_parameter_becomes_400_json_naming_it) {
  const response res = handle(verb::get, "GET", "/ok?debug=1").res;
  EXPECT_EQ(res.status, beast_http::status::bad_request);
  const auto body = nlohmann::json::parse(res.body);
  EXPECT_EQ(body.at("code"), "UNKNOWN_PARAMETER");
  EXPECT_NE(body.at("error").get<std::string>().find("debug"), std::string::npos);
}

TEST_F(error_middleware_test, std_exception_becomes_500_without_its_text) {
  const response res = handle(verb::get, "GET", "/std").res;
  EXPECT_EQ(res.status, beast_http::status::internal_server_error);
  const auto body = nlohmann::json::parse(res.body);
  EXPECT_EQ(body.at("code"), "INTERNAL_ERROR");
  EXPECT_EQ(res.body.find("secret"), std::string::npos) << res.body;
  EXPECT_EQ(res.body.find("/etc/path"), std::string::npos) << res.body;
  EXPECT_TRUE(res.close);
}

TEST_F(error_middleware_test, non_std_exception_becomes_500) {
  const response res = handle(verb::get, "GET", "/int").res;
  EXPECT_EQ(res.status, beast_http::status::internal_server_error);
  EXPECT_EQ(nlohmann::json::parse(res.body).at("code"), "INTERNAL_ERROR");
  EXPECT_TRUE(res.close);
}

TEST_F(error_middleware_test, handle_never_throws) {
  static_assert(noexcept(std::declval<const error_middleware&>().handle(
      verb::get, std::string_view{}, std::string_view{}, protocol::http1_1, nullptr)));
  for (std::string_view target :
       {"/ok", "/teapot", "/std", "/int", "/missing", "nope", "*", "/ok?%", ""}) {
    EXPECT_NO_THROW(handle(verb::get, "GET", target)) << target;
  }
}

TEST(error_middleware, to_response_builds_the_json_error_body) {
  const response res = error_middleware::to_response(http_error::method_not_allowed("GET"));
  EXPECT_EQ(res.status, beast_http::status::method_not_allowed);
  EXPECT_EQ(res.body,
            R"({"error":"method not allowed; allowed: GET","code":"METHOD_NOT_ALLOWED"})");
  ASSERT_EQ(res.headers.size(), 1u);
  EXPECT_EQ(res.headers[0].first, "Allow");
  EXPECT_EQ(res.headers[0].second, "GET");
}

TEST(error_middleware, to_response_escapes_the_message_as_json) {
  const response res =
      error_middleware::to_response(http_error::bad_request("quote \" backslash \\ newline \n"));
  const auto body = nlohmann::json::parse(res.body);
  EXPECT_EQ(body.at("error"), "quote \" backslash \\ newline \n");
  EXPECT_EQ(body.at("code"), "BAD_REQUEST");
}

TEST(error_middleware, internal_error_is_a_generic_500_that_closes) {
  const response res = error_middleware::internal_error();
  EXPECT_EQ(res.status, beast_http::status::internal_server_error);
  EXPECT_EQ(res.body, R"({"error":"internal server error","code":"INTERNAL_ERROR"})");
  EXPECT_TRUE(res.close);
}

}  // namespace
}  // namespace badges_health::http
