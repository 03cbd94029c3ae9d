// Unit tests for router: exact matches and the rules every route shares
// (HEAD mirrors GET, OPTIONS and CORS preflight, OPTIONS / and * as
// server probes, 404, 405, unknown parameters), all returned as values.
#include "badges_health/http/router.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/fields.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "badges_health/http/http_error.hpp"

namespace badges_health::http {
namespace {

using boost::beast::http::verb;

// Helpers are static members: the unit tests build in unity batches, where
// free helpers of the same name in other test files would collide.
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

  // The view of a target the test expects to parse.
  static request_view parse_ok(verb method, std::string_view method_text, std::string_view target,
                               const boost::beast::http::fields* fields = nullptr) {
    auto parsed = request_view::parse(method, method_text, target, protocol::http1_1, fields);
    if (!parsed) {
      ADD_FAILURE() << "target '" << target << "' did not parse: " << parsed.error().message();
    }
    return *parsed;
  }

  // The response of an outcome that should be one; fails the test if it is an error.
  static response response_of(const handler_result& outcome) {
    if (!outcome) {
      ADD_FAILURE() << "expected a response, got http_error " << outcome.error().code() << ": "
                    << outcome.error().message();
      return {};
    }
    return *outcome;
  }

  // The error of an outcome that should be one; fails the test if it is a response.
  static http_error error_of(const handler_result& outcome) {
    if (!outcome) return outcome.error();
    ADD_FAILURE() << "expected an http_error, got a response";
    return {errors::internal_error, "no error returned"};
  }

  // One dispatch: the route it matched and its outcome.
  struct routed {
    std::optional<std::size_t> route;
    handler_result outcome;
  };
  static routed dispatch_on(const router& r, const request_view& req) {
    routed out;
    out.outcome = r.dispatch(req, out.route);
    return out;
  }

  static std::string header_value(const response& res, std::string_view name) {
    for (const auto& [n, v] : res.headers) {
      if (n == name) return v;
    }
    return "<absent>";
  }

  routed dispatch(verb method, std::string_view method_text, std::string_view target,
                  const boost::beast::http::fields* fields = nullptr) const {
    return dispatch_on(r_, parse_ok(method, method_text, target, fields));
  }

  response dispatch_response(verb method, std::string_view method_text,
                             std::string_view target) const {
    return response_of(dispatch(method, method_text, target).outcome);
  }

  http_error dispatch_error(verb method, std::string_view method_text,
                            std::string_view target) const {
    return error_of(dispatch(method, method_text, target).outcome);
  }

  router r_;
  int status_calls_ = 0;
  verb last_method_ = verb::unknown;
};

TEST_F(router_test, exact_path_match_calls_the_get_handler) {
  const response res = dispatch_response(verb::get, "GET", "/status");
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
  const response res = dispatch_response(verb::options, "OPTIONS", "/status");
  EXPECT_EQ(res.status, beast_http::status::no_content);
  EXPECT_EQ(header_value(res, "Allow"), "GET, HEAD, OPTIONS");
  EXPECT_TRUE(res.body.empty());
  EXPECT_EQ(status_calls_, 0);
}

TEST_F(router_test, plain_options_carries_no_cors_preflight_headers) {
  const response res = dispatch_response(verb::options, "OPTIONS", "/status");
  EXPECT_EQ(header_value(res, "Access-Control-Allow-Methods"), "<absent>");
  EXPECT_EQ(header_value(res, "Access-Control-Allow-Headers"), "<absent>");
  EXPECT_EQ(header_value(res, "Access-Control-Max-Age"), "<absent>");
  EXPECT_EQ(res.headers.size(), 1u);  // Allow alone
}

TEST_F(router_test, cors_preflight_answers_allowed_methods_headers_and_max_age) {
  for (std::string_view target : {"/status", "*"}) {
    boost::beast::http::fields fields;
    fields.set("Access-Control-Request-Method", "GET");
    fields.set("Access-Control-Request-Headers", "authorization");
    const response res = response_of(dispatch(verb::options, "OPTIONS", target, &fields).outcome);
    EXPECT_EQ(res.status, beast_http::status::no_content) << target;
    EXPECT_TRUE(res.body.empty()) << target;
    EXPECT_EQ(header_value(res, "Allow"), "GET, HEAD, OPTIONS") << target;
    EXPECT_EQ(header_value(res, "Access-Control-Allow-Methods"), "GET, HEAD, OPTIONS") << target;
    EXPECT_EQ(header_value(res, "Access-Control-Allow-Headers"), "Authorization") << target;
    EXPECT_EQ(header_value(res, "Access-Control-Max-Age"), "600") << target;
  }
  EXPECT_EQ(status_calls_, 0);
}

TEST_F(router_test, options_asterisk_is_204_with_allow) {
  const response res = dispatch_response(verb::options, "OPTIONS", "*");
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
  const response res = dispatch_response(verb::head, "HEAD", "/status");
  EXPECT_EQ(status_calls_, 1);
  EXPECT_EQ(last_method_, verb::head);
  // The body stays; response_writer drops it for HEAD.
  EXPECT_EQ(res.body, "status-body");
}

TEST_F(router_test, unknown_query_parameter_is_400_naming_it) {
  const http_error e = dispatch_error(verb::get, "GET", "/status?verbose=1");
  EXPECT_EQ(e.status(), beast_http::status::bad_request);
  EXPECT_EQ(e.code(), "UNKNOWN_PARAMETER");
  EXPECT_NE(e.message().find("verbose"), std::string::npos) << e.message();
  EXPECT_EQ(status_calls_, 0);
}

TEST_F(router_test, undeclared_parameter_among_declared_ones_is_400) {
  const http_error e = dispatch_error(verb::get, "GET", "/search?q=a&page=2");
  EXPECT_EQ(e.code(), "UNKNOWN_PARAMETER");
  EXPECT_NE(e.message().find("page"), std::string::npos) << e.message();
}

TEST_F(router_test, unknown_parameter_on_head_is_400) {
  const http_error e = dispatch_error(verb::head, "HEAD", "/status?x");
  EXPECT_EQ(e.code(), "UNKNOWN_PARAMETER");
}

TEST_F(router_test, declared_parameters_are_accepted) {
  const response res = dispatch_response(verb::get, "GET", "/search?q=hello+world&limit=5");
  EXPECT_EQ(res.status, beast_http::status::ok);
  EXPECT_EQ(res.body, "hello world");
}

TEST_F(router_test, dispatch_reports_the_matched_route_index) {
  EXPECT_EQ(dispatch(verb::get, "GET", "/search?q=x").route, std::size_t{1});
  EXPECT_EQ(dispatch(verb::options, "OPTIONS", "/status").route, std::size_t{0});
  // Errors after the path matched still name the route...
  EXPECT_EQ(dispatch(verb::post, "POST", "/status").route, std::size_t{0});
  EXPECT_EQ(dispatch(verb::get, "GET", "/search?page=2").route, std::size_t{1});
  // ...and nothing is named when no route matched.
  const routed missing = dispatch(verb::get, "GET", "/nope");
  EXPECT_FALSE(missing.route.has_value());
  EXPECT_EQ(error_of(missing.outcome).code(), "NOT_FOUND");
  EXPECT_FALSE(dispatch(verb::options, "OPTIONS", "*").route.has_value());
}

TEST_F(router_test, paths_lists_routes_in_registration_order) {
  EXPECT_EQ(r_.paths(), (std::vector<std::string>{"/status", "/search"}));
  ASSERT_EQ(r_.routes().size(), 2u);
  EXPECT_EQ(r_.routes()[0].path, "/status");
  EXPECT_EQ(r_.routes()[1].path, "/search");
  EXPECT_EQ(r_.routes()[1].params, (std::vector<std::string>{"q", "limit"}));
}

TEST_F(router_test, error_returned_by_a_handler_is_the_outcome) {
  router r;
  r.add_get("/limited", [](const request_view&) -> handler_result {
    return http_error::invalid_parameter("limit must be positive");
  });
  const routed out = dispatch_on(r, parse_ok(verb::get, "GET", "/limited"));
  EXPECT_EQ(out.route, std::size_t{0});
  const http_error e = error_of(out.outcome);
  EXPECT_EQ(e.status(), beast_http::status::bad_request);
  EXPECT_EQ(e.code(), "INVALID_PARAMETER");
  EXPECT_EQ(e.message(), "limit must be positive");
}

// The server-probe hook: a router with "/" and a switch the test flips.
class router_probe_test : public router_test {
 protected:
  void SetUp() override {
    router_test::SetUp();
    r_.add_get("/", [](const request_view&) {
      response res;
      res.body = "index";
      return res;
    });
    r_.set_unavailable([this] { return unavailable_; });
  }

  routed options(std::string_view target, bool preflight = false) {
    boost::beast::http::fields fields;
    if (preflight) fields.set("Access-Control-Request-Method", "GET");
    return dispatch(verb::options, "OPTIONS", target, &fields);
  }

  bool unavailable_ = false;
};

TEST_F(router_probe_test, options_root_and_asterisk_are_204_while_available) {
  for (std::string_view target : {"/", "*"}) {
    const response res = response_of(options(target).outcome);
    EXPECT_EQ(res.status, beast_http::status::no_content) << target;
    EXPECT_EQ(header_value(res, "Allow"), "GET, HEAD, OPTIONS") << target;
    EXPECT_TRUE(res.body.empty()) << target;
  }
}

TEST_F(router_probe_test, options_root_and_asterisk_are_503_while_unavailable) {
  unavailable_ = true;
  for (std::string_view target : {"/", "*"}) {
    const routed out = options(target);
    const http_error e = error_of(out.outcome);
    EXPECT_EQ(e.status(), beast_http::status::service_unavailable) << target;
    EXPECT_EQ(e.code(), "SERVICE_UNAVAILABLE") << target;
    ASSERT_EQ(e.headers().size(), 1u) << target;
    EXPECT_EQ(e.headers()[0].first, "Allow");
    EXPECT_EQ(e.headers()[0].second, "GET, HEAD, OPTIONS");
  }
  // The route is still named, for the metrics.
  EXPECT_EQ(options("/").route, std::size_t{2});
  EXPECT_FALSE(options("*").route.has_value());
}

TEST_F(router_probe_test, preflights_and_other_paths_keep_their_204_while_unavailable) {
  unavailable_ = true;
  for (std::string_view target : {"/", "*", "/status"}) {
    const response res = response_of(options(target, /*preflight=*/true).outcome);
    EXPECT_EQ(res.status, beast_http::status::no_content) << target;
    EXPECT_EQ(header_value(res, "Access-Control-Allow-Methods"), "GET, HEAD, OPTIONS") << target;
  }
  EXPECT_EQ(response_of(options("/status").outcome).status, beast_http::status::no_content);
  EXPECT_EQ(response_of(options("/search?q=x").outcome).status, beast_http::status::no_content);
}

TEST_F(router_probe_test, get_root_is_not_a_server_probe) {
  unavailable_ = true;
  const response res = dispatch_response(verb::get, "GET", "/");
  EXPECT_EQ(res.status, beast_http::status::ok);
  EXPECT_EQ(res.body, "index");
}

TEST_F(router_test, options_root_without_a_hook_is_204) {
  r_.add_get("/", [](const request_view&) { return response{}; });
  const response res = dispatch_response(verb::options, "OPTIONS", "/");
  EXPECT_EQ(res.status, beast_http::status::no_content);
}

TEST(router, allow_constant_lists_get_head_options) {
  EXPECT_EQ(router::allow, "GET, HEAD, OPTIONS");
}

// One path with GET, PUT and DELETE is one route: one entry in the table,
// one Allow header, each method to its own handler; DELETE takes no body.
TEST_F(router_test, a_path_registered_for_several_methods_is_one_route) {
  router r;
  std::string called;
  const auto answer = [&called](std::string name) {
    return [&called, name](const request_view&) -> handler_result {
      called = name;
      return response{};
    };
  };
  r.add_get("/maintenance", answer("get"));
  r.add_put("/maintenance", answer("put"));
  r.add_delete("/maintenance", answer("delete"));
  ASSERT_EQ(r.paths(), std::vector<std::string>{"/maintenance"});
  EXPECT_EQ(r.routes()[0].allow, "GET, HEAD, PUT, DELETE, OPTIONS");
  for (const auto& [method, text, name] :
       {std::tuple{verb::get, "GET", "get"}, std::tuple{verb::head, "HEAD", "get"},
        std::tuple{verb::put, "PUT", "put"}, std::tuple{verb::delete_, "DELETE", "delete"}}) {
    called.clear();
    const auto got = dispatch_on(r, parse_ok(method, text, "/maintenance"));
    EXPECT_TRUE(got.outcome.has_value()) << text;
    EXPECT_EQ(called, name) << text;
  }
  const auto post = error_of(dispatch_on(r, parse_ok(verb::post, "POST", "/maintenance")).outcome);
  EXPECT_EQ(post.code(), "METHOD_NOT_ALLOWED");
  EXPECT_EQ(post.headers().at(0).second, "GET, HEAD, PUT, DELETE, OPTIONS");
  const auto options =
      response_of(dispatch_on(r, parse_ok(verb::options, "OPTIONS", "/maintenance")).outcome);
  EXPECT_EQ(options.headers.at(0).second, "GET, HEAD, PUT, DELETE, OPTIONS");
  EXPECT_TRUE(r.takes_body(verb::put, "/maintenance"));
  EXPECT_FALSE(r.takes_body(verb::delete_, "/maintenance"));
  EXPECT_FALSE(r.takes_body(verb::get, "/maintenance"));
  // A write takes no query parameters.
  EXPECT_EQ(
      error_of(dispatch_on(r, parse_ok(verb::delete_, "DELETE", "/maintenance?now=1")).outcome)
          .code(),
      "UNKNOWN_PARAMETER");
}

TEST_F(router_test, delete_on_a_get_route_is_405) {
  const auto e = error_of(dispatch_on(r_, parse_ok(verb::delete_, "DELETE", "/status")).outcome);
  EXPECT_EQ(e.code(), "METHOD_NOT_ALLOWED");
  EXPECT_EQ(status_calls_, 0);
}

}  // namespace
}  // namespace badges_health::http
