// Unit tests for the service's endpoints, driven by a fake status_source
// whose summary each test sets; no sockets, no health model.
#include "badges_health/app/handlers.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/beast/http/fields.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "badges_health/http/http_error.hpp"
#include "badges_health/http/request.hpp"
#include "badges_health/http/request_metrics.hpp"
#include "badges_health/util/timestamp.hpp"

namespace badges_health::app {
namespace {

using beast_status = boost::beast::http::status;
using boost::beast::http::verb;
using health::status;

// A status_source that reports whatever summary the test sets.
class fake_source final : public health::status_source {
 public:
  health::summary current() const noexcept override { return summary_; }
  void set(status overall, bool ready = true, bool draining = false) {
    summary_ = health::summary{overall, ready, draining};
  }

 private:
  health::summary summary_{};
};

bool is_iso8601(const std::string& s) {
  static const std::regex shape(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$)");
  return std::regex_match(s, shape);
}

std::string header_value(const http::response& res, std::string_view name) {
  for (const auto& [n, v] : res.headers) {
    if (n == name) return v;
  }
  return "<absent>";
}

// The view of a GET the test expects to parse.
http::request_view get_request(std::string_view target,
                               const boost::beast::http::fields* fields = nullptr) {
  auto parsed = http::request_view::parse(verb::get, "GET", target, 11, fields);
  if (const auto* e = std::get_if<http::http_error>(&parsed)) {
    ADD_FAILURE() << "target '" << target << "' did not parse: " << e->message();
  }
  return std::get<http::request_view>(std::move(parsed));
}

// The response of an outcome that should be one; fails the test if it is an error.
// A handler_result or a routed outcome.
template <class Outcome>
http::response response_of(const Outcome& outcome) {
  if (const auto* e = std::get_if<http::http_error>(&outcome)) {
    ADD_FAILURE() << "expected a response, got http_error " << e->code() << ": " << e->message();
    return {};
  }
  return std::get<http::response>(outcome);
}

// Whether `outcome` is an http_error with the given status and code.
template <class Outcome>
::testing::AssertionResult is_error(const Outcome& outcome, beast_status status,
                                    std::string_view code) {
  const auto* e = std::get_if<http::http_error>(&outcome);
  if (e == nullptr) return ::testing::AssertionFailure() << "expected http_error " << code;
  if (e->status() != status || e->code() != code) {
    return ::testing::AssertionFailure()
           << "expected " << static_cast<unsigned>(status) << " " << code << ", got "
           << static_cast<unsigned>(e->status()) << " " << e->code();
  }
  return ::testing::AssertionSuccess();
}

http::handler_result invoke(const http::handler& h, std::string_view target = "/",
                            const boost::beast::http::fields* fields = nullptr) {
  return h(get_request(target, fields));
}

// Calls a handler that is expected to answer with a response.
http::response call(const http::handler& h, std::string_view target = "/") {
  return response_of(invoke(h, target));
}

class handlers_test : public ::testing::Test {
 protected:
  fake_source source_;
  http::handler status_ = make_status_handler(source_);
  http::handler liveness_ = make_liveness_handler();
  http::handler readiness_ = make_readiness_handler(source_);
};

// --- /status ------------------------------------------------------------------

TEST_F(handlers_test, status_ok_body_has_exactly_status_and_timestamp) {
  const http::response res = call(status_, "/status");
  EXPECT_EQ(res.status, beast_status::ok);
  EXPECT_EQ(res.content_type, "application/json");
  const auto body = nlohmann::json::parse(res.body);
  ASSERT_TRUE(body.is_object());
  EXPECT_EQ(body.size(), 2u);
  EXPECT_EQ(body.at("status"), "ok");
  const std::string ts = body.at("timestamp").get<std::string>();
  EXPECT_TRUE(is_iso8601(ts)) << ts;
  // The exact bytes, key order included.
  EXPECT_EQ(res.body, R"({"status":"ok","timestamp":")" + ts + R"("})");
  EXPECT_TRUE(res.headers.empty());
}

TEST_F(handlers_test, status_down_is_503) {
  source_.set(status::down, false);
  const http::response res = call(status_, "/status");
  EXPECT_EQ(res.status, beast_status::service_unavailable);
  const auto body = nlohmann::json::parse(res.body);
  EXPECT_EQ(body.at("status"), "down");
  EXPECT_EQ(body.size(), 2u);
  EXPECT_EQ(header_value(res, "x-envoy-degraded"), "<absent>");
}

TEST_F(handlers_test, status_degraded_is_200_with_envoy_degraded_header) {
  source_.set(status::degraded);
  const http::response res = call(status_, "/status");
  EXPECT_EQ(res.status, beast_status::ok);
  const auto body = nlohmann::json::parse(res.body);
  EXPECT_EQ(body.at("status"), "degraded");
  EXPECT_EQ(body.size(), 2u);
  EXPECT_EQ(header_value(res, "x-envoy-degraded"), "true");
}

TEST_F(handlers_test, status_reads_the_source_on_every_request) {
  EXPECT_EQ(call(status_, "/status").status, beast_status::ok);
  source_.set(status::down, false, true);
  EXPECT_EQ(call(status_, "/status").status, beast_status::service_unavailable);
  source_.set(status::ok);
  EXPECT_EQ(call(status_, "/status").status, beast_status::ok);
}

TEST_F(handlers_test, status_timestamp_is_current) {
  const auto before =
      std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  const std::string ts = nlohmann::json::parse(call(status_, "/status").body).at("timestamp");
  const auto after = std::chrono::system_clock::now();
  // Timestamps of this fixed shape sort like the instants they name.
  EXPECT_LE(util::format_iso8601(before), ts);
  EXPECT_GE(util::format_iso8601(after), ts);
}

TEST_F(handlers_test, status_verbose_false_is_the_plain_body) {
  for (std::string_view target : {"/status?verbose=false", "/status?verbose=0"}) {
    const auto body = nlohmann::json::parse(call(status_, target).body);
    EXPECT_EQ(body.size(), 2u) << target;
    EXPECT_EQ(body.at("status"), "ok") << target;
  }
}

TEST_F(handlers_test, status_verbose_with_a_bad_value_is_400) {
  EXPECT_TRUE(is_error(invoke(status_, "/status?verbose=maybe"), beast_status::bad_request,
                       "INVALID_PARAMETER"));
}

TEST_F(handlers_test, status_verbose_true_adds_details) {
  for (std::string_view target : {"/status?verbose=true", "/status?verbose=1"}) {
    const auto body = nlohmann::json::parse(call(status_, target).body);
    EXPECT_EQ(body.at("status"), "ok") << target;
    EXPECT_TRUE(body.contains("version")) << target;
    EXPECT_TRUE(body.contains("commitHash")) << target;
    EXPECT_TRUE(body.contains("uptimeSeconds")) << target;
    EXPECT_TRUE(body.at("checks").is_object()) << target;
  }
}

TEST_F(handlers_test, status_verbose_without_the_details_token_is_401) {
  const http::handler guarded = make_status_handler(source_, service_info{}, "s3cret");
  const http::handler_result missing = invoke(guarded, "/status?verbose=true");
  ASSERT_TRUE(is_error(missing, beast_status::unauthorized, "UNAUTHORIZED"));
  const auto& e = std::get<http::http_error>(missing);
  ASSERT_EQ(e.headers().size(), 1u);
  EXPECT_EQ(e.headers()[0].first, "WWW-Authenticate");

  boost::beast::http::fields wrong;
  wrong.set(boost::beast::http::field::authorization, "Bearer guess");
  EXPECT_TRUE(is_error(invoke(guarded, "/status?verbose=true", &wrong), beast_status::unauthorized,
                       "UNAUTHORIZED"));
}

TEST_F(handlers_test, status_verbose_with_the_details_token_answers) {
  const http::handler guarded = make_status_handler(source_, service_info{}, "s3cret");
  boost::beast::http::fields fields;
  fields.set(boost::beast::http::field::authorization, "Bearer s3cret");
  const http::response res = response_of(invoke(guarded, "/status?verbose=true", &fields));
  EXPECT_EQ(res.status, beast_status::ok);
  EXPECT_TRUE(nlohmann::json::parse(res.body).contains("checks"));
  // The plain body needs no token.
  EXPECT_EQ(nlohmann::json::parse(call(guarded, "/status").body).size(), 2u);
}

// --- /livez -------------------------------------------------------------------

TEST_F(handlers_test, livez_is_200_ok) {
  const http::response res = call(liveness_, "/livez");
  EXPECT_EQ(res.status, beast_status::ok);
  const auto body = nlohmann::json::parse(res.body);
  EXPECT_EQ(body.at("status"), "ok");
  EXPECT_TRUE(is_iso8601(body.at("timestamp").get<std::string>()));
}

TEST_F(handlers_test, livez_is_200_ok_even_when_the_source_is_down) {
  source_.set(status::down, false, true);
  // Through the real route table, so that /livez is known not to consult it.
  http::metrics_registry registry{1};
  http::router r;
  register_routes(r, source_, registry, service_info{}, "", "");
  const http::response res = response_of(r.dispatch(get_request("/livez")).outcome);
  EXPECT_EQ(res.status, beast_status::ok);
  EXPECT_EQ(nlohmann::json::parse(res.body).at("status"), "ok");
}

// --- /readyz ------------------------------------------------------------------

TEST_F(handlers_test, readyz_is_200_when_ok_and_ready) {
  const http::response res = call(readiness_, "/readyz");
  EXPECT_EQ(res.status, beast_status::ok);
  const auto body = nlohmann::json::parse(res.body);
  EXPECT_EQ(body.at("status"), "ok");
  EXPECT_EQ(body.at("ready"), true);
  EXPECT_TRUE(is_iso8601(body.at("timestamp").get<std::string>()));
}

TEST_F(handlers_test, readyz_is_200_when_degraded_and_ready) {
  source_.set(status::degraded);
  const http::response res = call(readiness_, "/readyz");
  EXPECT_EQ(res.status, beast_status::ok);
  EXPECT_EQ(nlohmann::json::parse(res.body).at("status"), "degraded");
}

TEST_F(handlers_test, readyz_is_503_when_not_ready) {
  source_.set(status::ok, false);
  const http::response res = call(readiness_, "/readyz");
  EXPECT_EQ(res.status, beast_status::service_unavailable);
  EXPECT_EQ(nlohmann::json::parse(res.body).at("ready"), false);
}

TEST_F(handlers_test, readyz_is_503_when_draining) {
  // Even a summary that still says ok and ready must not pass while draining.
  source_.set(status::ok, true, true);
  EXPECT_EQ(call(readiness_, "/readyz").status, beast_status::service_unavailable);
}

TEST_F(handlers_test, readyz_is_503_when_down) {
  source_.set(status::down, true, false);
  const http::response res = call(readiness_, "/readyz");
  EXPECT_EQ(res.status, beast_status::service_unavailable);
  EXPECT_EQ(nlohmann::json::parse(res.body).at("status"), "down");
}

// --- / and the route table ------------------------------------------------------

http::handler_result empty_response(const http::request_view&) { return http::response{}; }

TEST(make_index_handler, lists_the_router_paths_and_version) {
  http::router r;
  r.add_get("/a", empty_response);
  r.add_get("/b", empty_response);
  const http::handler h = make_index_handler("9.9.9", r);
  const auto body = nlohmann::json::parse(call(h).body);
  EXPECT_EQ(body.at("service"), "badges-health");
  EXPECT_EQ(body.at("version"), "9.9.9");
  EXPECT_EQ(body.at("endpoints"), nlohmann::json::array({"/a", "/b"}));
}

TEST(make_index_handler, reads_the_table_at_request_time) {
  http::router r;
  r.add_get("/a", empty_response);
  const http::handler h = make_index_handler("9.9.9", r);
  r.add_get("/later", empty_response);
  const auto body = nlohmann::json::parse(call(h).body);
  EXPECT_EQ(body.at("endpoints"), nlohmann::json::array({"/a", "/later"}));
}

class routes_test : public ::testing::Test {
 protected:
  void SetUp() override {
    service_info info;
    info.version = "1.2.3";
    register_routes(router_, source_, registry_, info, "", "");
  }

  http::routed dispatch(std::string_view target) const {
    return router_.dispatch(get_request(target));
  }
  http::response get(std::string_view target) const {
    return response_of(dispatch(target).outcome);
  }

  fake_source source_;
  http::metrics_registry registry_{1};
  http::router router_;
};

TEST_F(routes_test, index_lists_every_registered_endpoint) {
  const http::response res = get("/");
  EXPECT_EQ(res.status, beast_status::ok);
  const auto body = nlohmann::json::parse(res.body);
  EXPECT_EQ(body.at("service"), "badges-health");
  EXPECT_EQ(body.at("version"), "1.2.3");
  const auto endpoints = body.at("endpoints").get<std::vector<std::string>>();
  for (const char* path : {"/", "/status", "/livez", "/readyz"}) {
    EXPECT_NE(std::find(endpoints.begin(), endpoints.end(), path), endpoints.end()) << path;
  }
  std::vector<std::string> listed = endpoints;
  std::vector<std::string> registered = router_.paths();
  std::sort(listed.begin(), listed.end());
  std::sort(registered.begin(), registered.end());
  EXPECT_EQ(listed, registered);
}

TEST_F(routes_test, index_lists_exactly_the_router_paths_in_order) {
  const auto body = nlohmann::json::parse(get("/").body);
  EXPECT_EQ(body.at("endpoints").get<std::vector<std::string>>(), router_.paths());
}

TEST_F(routes_test, metrics_route_labels_are_the_router_paths) {
  EXPECT_EQ(registry_.route_labels(), router_.paths());
  // One slot per route plus "other".
  EXPECT_EQ(registry_.totals().size(), router_.paths().size() + 1);
}

TEST_F(routes_test, probe_endpoints_reject_unknown_query_parameters) {
  for (std::string_view target : {"/status?x=1", "/livez?verbose=1", "/readyz?x=1", "/?x=1"}) {
    EXPECT_TRUE(is_error(dispatch(target).outcome, beast_status::bad_request, "UNKNOWN_PARAMETER"))
        << target;
  }
}

}  // namespace
}  // namespace badges_health::app
