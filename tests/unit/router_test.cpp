// Unit tests for router: exact matches and the rules every route shares
// (HEAD mirrors GET, OPTIONS, 404, 405, unknown parameters).
#include "badges_health/http/router.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "badges_health/http/http_error.hpp"

namespace badges_health::http {
namespace {

using boost::beast::http::verb;

class router_test : public ::testing::Test {
 protected:
  void SetUp() override {
    r_.add_get("/status", [this](const request_view& req) {
      ++status_calls_;
      last_method_ = req.method();
      response res;
      res.body = "status-body";
      return res;
    });
    r_.add_get("/search",
               [](const request_view& req) {
                 response res;
                 res.body = std::string(req.query_value("q").value_or("none"));
                 return res;
               },
               {"q", "limit"});
  }

  response dispatch(verb method, std::string_view method_text, std::string_view target) const {
    const request_view req(method, method_text, target, 11);
    return r_.dispatch(req);
  }

  // Dispatches and returns the http_error thrown; fails the test if none is.
  http_error dispatch_error(verb method, std::string_view method_text,
                            std::string_view target) const {
    try {
      dispatch(method, method_text, target);
    } catch (const http_error& e) {
      return e;
    }
    ADD_FAILURE() << "expected http_error for " << method_text << " " << target;
    return http_error(beast_http::status::ok, "NONE", "no error thrown");
  }

  static std::string header_value(const response& res, std::string_view name) {
    for (const auto& [n, v] : res.headers) {
      if (n == name) return v;
    }
    return "<absent>";
  }

  router r_;
  int status_calls_ = 0;
  verb last_method_ = verb::unknown;
};

TEST_F(router_test, exact_path_match_calls_the_get_handler) {
  const response res = dispatch(verb::get, "GET", "/status");
  EXPECT_EQ(res.status, beast_http::status::ok);
  EXPECT_EQ(res.body, "status-body");
  EXPECT_EQ(status_calls_, 1);
  EXPECT_EQ(last_method_, verb::get);
}

TEST_F(router_test, path_matching_is_exact) {
  for (std::string_view target : {"/status/", "/Status", "/statu", "/status/x"}) {
    const http_error e = dispatch_error(verb::get, "GET", target);
    EXPECT_EQ(e.status(), beast_http::status::not_found) << target;
  }
  EXPECT_EQ(status_calls_, 0);
}

TEST_F(router_test, unknown_path_is_404_not_found) {
  const http_error e = dispatch_error(verb::get, "GET", "/nope");
  EXPECT_EQ(e.status(), beast_http::status::not_found);
  EXPECT_EQ(e.code(), "NOT_FOUND");
}

TEST_F(router_test, wrong_method_is_405_with_allow_header) {
  for (auto [method, text] :
       {std::pair{verb::post, "POST"}, std::pair{verb::put, "PUT"},
        std::pair{verb::delete_, "DELETE"}, std::pair{verb::unknown, "BREW"}}) {
    const http_error e = dispatch_error(method, text, "/status");
    EXPECT_EQ(e.status(), beast_http::status::method_not_allowed) << text;
    EXPECT_EQ(e.code(), "METHOD_NOT_ALLOWED") << text;
    ASSERT_EQ(e.headers().size(), 1u) << text;
    EXPECT_EQ(e.headers()[0].first, "Allow");
    EXPECT_EQ(e.headers()[0].second, "GET, HEAD, OPTIONS");
  }
  EXPECT_EQ(status_calls_, 0);
}

TEST_F(router_test, options_on_a_route_is_204_with_allow) {
  const response res = dispatch(verb::options, "OPTIONS", "/status");
  EXPECT_EQ(res.status, beast_http::status::no_content);
  EXPECT_EQ(header_value(res, "Allow"), "GET, HEAD, OPTIONS");
  EXPECT_TRUE(res.body.empty());
  EXPECT_EQ(status_calls_, 0);
}

TEST_F(router_test, options_asterisk_is_204_with_allow) {
  const response res = dispatch(verb::options, "OPTIONS", "*");
  EXPECT_EQ(res.status, beast_http::status::no_content);
  EXPECT_EQ(header_value(res, "Allow"), "GET, HEAD, OPTIONS");
  EXPECT_TRUE(res.body.empty());
}

TEST_F(router_test, asterisk_with_other_methods_is_400) {
  for (auto [method, text] : {std::pair{verb::get, "GET"}, std::pair{verb::head, "HEAD"},
                              std::pair{verb::post, "POST"}}) {
    const http_error e = dispatch_error(method, text, "*");
    EXPECT_EQ(e.status(), beast_http::status::bad_request) << text;
    EXPECT_EQ(e.code(), "BAD_REQUEST") << text;
  }
}

TEST_F(router_test, head_calls_the_get_handler) {
  const response res = dispatch(verb::head, "HEAD", "/status");
  EXPECT_EQ(status_calls_, 1);
  EXPECT_EQ(last_method_, verb::head);
  // The body stays; response_writer drops it for HEAD.
  EXPECT_EQ(res.body, "status-body");
}

TEST_F(router_test, unknown_query_parameter_is_400_naming_it) {
  const http_error e = dispatch_error(verb::get, "GET", "/status?verbose=1");
  EXPECT_EQ(e.status(), beast_http::status::bad_request);
  EXPECT_EQ(e.code(), "UNKNOWN_PARAMETER");
  EXPECT_NE(std::string_view(e.what()).find("verbose"), std::string_view::npos) << e.what();
  EXPECT_EQ(status_calls_, 0);
}

TEST_F(router_test, undeclared_parameter_among_declared_ones_is_400) {
  const http_error e = dispatch_error(verb::get, "GET", "/search?q=a&page=2");
  EXPECT_EQ(e.code(), "UNKNOWN_PARAMETER");
  EXPECT_NE(std::string_view(e.what()).find("page"), std::string_view::npos) << e.what();
}

TEST_F(router_test, unknown_parameter_on_head_is_400) {
  const http_error e = dispatch_error(verb::head, "HEAD", "/status?x");
  EXPECT_EQ(e.code(), "UNKNOWN_PARAMETER");
}

TEST_F(router_test, declared_parameters_are_accepted) {
  const response res = dispatch(verb::get, "GET", "/search?q=hello+world&limit=5");
  EXPECT_EQ(res.status, beast_http::status::ok);
  EXPECT_EQ(res.body, "hello world");
}

TEST_F(router_test, dispatch_reports_the_matched_route_index) {
  std::size_t matched = 99;
  r_.dispatch(request_view(verb::get, "GET", "/search?q=x", 11), &matched);
  EXPECT_EQ(matched, 1u);
  r_.dispatch(request_view(verb::options, "OPTIONS", "/status", 11), &matched);
  EXPECT_EQ(matched, 0u);
  EXPECT_THROW(r_.dispatch(request_view(verb::get, "GET", "/nope", 11), &matched), http_error);
  EXPECT_EQ(matched, r_.paths_size());
}

TEST_F(router_test, paths_lists_routes_in_registration_order) {
  EXPECT_EQ(r_.paths(), (std::vector<std::string>{"/status", "/search"}));
  EXPECT_EQ(r_.paths_size(), 2u);
}

TEST(router, allow_constant_lists_get_head_options) {
  EXPECT_EQ(router::allow, "GET, HEAD, OPTIONS");
}

}  // namespace
}  // namespace badges_health::http
