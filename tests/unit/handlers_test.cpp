// Unit tests for the service's endpoints, driven by a fake status_source
// whose summary each test sets; no sockets, no health model.
#include "badges_health/app/handlers.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/beast/http/fields.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include "badges_health/health/check_reader.hpp"
#include "badges_health/health/check_spec.hpp"
#include "badges_health/health/check_state.hpp"
#include "badges_health/health/health_snapshot.hpp"
#include "badges_health/http/http_error.hpp"
#include "badges_health/http/request.hpp"
#include "badges_health/http/request_metrics.hpp"
#include "badges_health/util/timestamp.hpp"

namespace badges_health::app {
namespace {

using beast_status = boost::beast::http::status;
using boost::beast::http::verb;
using health::status;

// A status_source that reports whatever summary (and checks) the test sets.
class fake_source final : public health::status_source {
 public:
  health::summary current() const noexcept override { return summary_; }
  std::shared_ptr<const health::health_snapshot> details() const noexcept override {
    return details_;
  }
  void set(status overall, bool ready = true, bool draining = false) {
    summary_ = health::summary{overall, ready, draining};
  }
  void set_checks(std::vector<health::check_snapshot> checks) {
    auto snap = std::make_shared<health::health_snapshot>();
    snap->checks = std::move(checks);
    snap->taken_at = std::chrono::steady_clock::now();
    details_ = std::move(snap);
  }

 private:
  health::summary summary_{};
  std::shared_ptr<const health::health_snapshot> details_;
};

// A check of `type` (read as the checks file would, with the fields the
// type needs) whose results the test applies (none: pending).
health::check_snapshot check_with_results(
    std::string name, std::string_view type, std::vector<health::check_result> results = {},
    std::chrono::steady_clock::time_point at = std::chrono::steady_clock::now()) {
  nlohmann::json check = {{"name", name}, {"type", type}, {"interval", "10s"}, {"timeout", "1s"}};
  if (type == "tcp" || type == "redis") check.update({{"host", "db"}, {"port", 1}});
  if (type == "http") check["url"] = "http://api/";
  if (type == "postgres") check["conninfo"] = "host=db";
  if (type == "file") check.update({{"path", "/x"}, {"when", "absent"}});
  if (type == "disk") check.update({{"path", "/"}, {"min_free_percent", 1}});
  auto spec = std::make_shared<health::check_spec>(health::read_check(check, "test", {}));
  health::check_state state(at);
  for (const auto& r : results) {
    state.apply(r, 1, 1, at, std::chrono::system_clock::now(), std::chrono::microseconds(1234));
  }
  return {std::move(spec), std::move(state)};
}

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
  auto parsed =
      http::request_view::parse(verb::get, "GET", target, http::protocol::http1_1, fields);
  if (!parsed) {
    ADD_FAILURE() << "target '" << target << "' did not parse: " << parsed.error().message();
  }
  return parsed.value();
}

// The response of an outcome that should be one; fails the test if it is an error.
http::response response_of(const http::handler_result& outcome) {
  if (!outcome) {
    ADD_FAILURE() << "expected a response, got http_error " << outcome.error().code() << ": "
                  << outcome.error().message();
    return {};
  }
  return *outcome;
}

// One dispatch through a router, as the middleware makes it.
struct routed {
  std::optional<std::size_t> route;
  http::handler_result outcome;
};
routed dispatch_on(const http::router& r, const http::request_view& req) {
  routed out;
  out.outcome = r.dispatch(req, out.route);
  return out;
}

// Whether `outcome` is an http_error with the given status and code.
::testing::AssertionResult is_error(const http::handler_result& outcome, beast_status status,
                                    std::string_view code) {
  if (outcome) return ::testing::AssertionFailure() << "expected http_error " << code;
  const http::http_error e = outcome.error();
  if (e.status() != status || e.code() != code) {
    return ::testing::AssertionFailure()
           << "expected " << static_cast<unsigned>(status) << " " << code << ", got "
           << static_cast<unsigned>(e.status()) << " " << e.code();
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

// --- exclude: the snapshot only when asked for -----------------------------

// A fake_source that counts the snapshots asked of it.
class counting_source final : public health::status_source {
 public:
  health::summary current() const noexcept override { return {}; }
  std::shared_ptr<const health::health_snapshot> details() const noexcept override {
    ++snapshots;
    auto snap = std::make_shared<health::health_snapshot>();
    snap->taken_at = std::chrono::steady_clock::now();
    snap->checks.push_back(
        check_with_results("db", "tcp", {{health::check_status::fail, "x"}}, snap->taken_at));
    return snap;
  }
  mutable int snapshots = 0;
};

TEST(exclude_hot_path, status_and_readyz_build_no_snapshot_without_exclude) {
  counting_source source;
  const auto status = make_status_handler(source);
  const auto readiness = make_readiness_handler(source);
  EXPECT_EQ(response_of(invoke(status, "/status")).status, beast_status::ok);
  EXPECT_EQ(response_of(invoke(readiness, "/readyz")).status, beast_status::ok);
  EXPECT_EQ(source.snapshots, 0);
  // With exclude the answer is judged on a snapshot: db fails (critical),
  // unless it is the check left out.
  EXPECT_EQ(response_of(invoke(status, "/status?exclude=db")).status, beast_status::ok);
  EXPECT_EQ(source.snapshots, 1);
  EXPECT_TRUE(is_error(invoke(readiness, "/readyz?exclude=nope"), beast_status::bad_request,
                       "INVALID_PARAMETER"));
  EXPECT_EQ(source.snapshots, 2);
}

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
  // The body depends on Accept (application/health+json), so caches must know.
  ASSERT_EQ(res.headers.size(), 1u);
  EXPECT_EQ(header_value(res, "Vary"), "Accept");
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
  const http::http_error e = missing.error();
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
  const http::response res = response_of(dispatch_on(r, get_request("/livez")).outcome);
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

// --- Accept: application/health+json ----------------------------------------------

struct accept_case {
  const char* name;
  const char* accept;
  bool chooses_health_json;
};

class accept_negotiation : public ::testing::TestWithParam<accept_case> {};

TEST_P(accept_negotiation, chooses_health_json_only_when_preferred) {
  EXPECT_EQ(accepts_health_json(GetParam().accept), GetParam().chooses_health_json)
      << "Accept: " << GetParam().accept;
}

INSTANTIATE_TEST_SUITE_P(
    handlers, accept_negotiation,
    ::testing::Values(
        accept_case{"none", "", false}, accept_case{"health_json", "application/health+json", true},
        accept_case{"json_lower_q", "application/json;q=0.9, application/health+json", true},
        accept_case{"q_zero", "application/health+json;q=0", false},
        accept_case{"q_zero_with_decimals", "application/health+json;q=0.000", false},
        accept_case{"any", "*/*", false}, accept_case{"any_application", "application/*", false},
        accept_case{"json", "application/json", false},
        accept_case{"equal_to_json", "application/json, application/health+json", true},
        accept_case{"below_json", "application/json, application/health+json;q=0.5", false},
        accept_case{"above_any", "application/health+json;q=0.5, */*;q=0.1", true},
        accept_case{"below_any", "application/health+json;q=0.5, */*", false},
        accept_case{"below_application_any", "application/*, application/health+json;q=0.9", false},
        accept_case{"json_exact_beats_application_any",
                    "application/json;q=0.5, application/*, application/health+json;q=0.6", true},
        accept_case{"case_insensitive", "Application/Health+JSON", true},
        accept_case{"uppercase_q", "application/json;Q=0.2, application/health+json;Q=0.3", true},
        accept_case{"media_type_parameters",
                    "application/health+json; charset=utf-8; q=0.8, application/json;q=0.7", true},
        accept_case{"quoted_comma", R"(text/html;level="a,b;q=0", application/health+json)", true},
        accept_case{"smallest_q", "application/health+json;q=0.001", true},
        accept_case{"malformed_q_ignored", "application/health+json;q=2", false},
        accept_case{"too_many_decimals_ignored", "application/health+json;q=0.5000", false},
        accept_case{"empty_elements", " , application/health+json ,", true},
        accept_case{"ows", "application/health+json ; q=0.9 ,\tapplication/json ; q=0.8", true},
        accept_case{"other_types_only", "text/html, text/plain", false},
        accept_case{"suffix_is_not_a_match", "application/health+jsonx", false},
        accept_case{"no_slash", "health+json", false}),
    [](const ::testing::TestParamInfo<accept_case>& c) { return c.param.name; });

// The view of a GET with an Accept (and optionally Authorization) header.
struct health_json_request {
  explicit health_json_request(std::string_view target, std::string_view authorization = {}) {
    fields.set(boost::beast::http::field::accept, "application/health+json");
    if (!authorization.empty()) {
      fields.set(boost::beast::http::field::authorization, authorization);
    }
    view.emplace(get_request(target, &fields));
  }
  boost::beast::http::fields fields;
  std::optional<http::request_view> view;
};

http::handler_result invoke_health_json(const http::handler& h, std::string_view target,
                                        std::string_view authorization = {}) {
  const health_json_request req(target, authorization);
  return h(*req.view);
}

TEST_F(handlers_test, health_json_status_maps_ok_degraded_down_to_pass_warn_fail) {
  service_info info;
  info.version = "4.5.6";
  info.commit_hash = "c0ffee";
  const http::handler h = make_status_handler(source_, info);
  for (const auto& [overall, word, code] :
       {std::tuple{status::ok, "pass", beast_status::ok},
        std::tuple{status::degraded, "warn", beast_status::ok},
        std::tuple{status::down, "fail", beast_status::service_unavailable}}) {
    source_.set(overall);
    const http::response res = response_of(invoke_health_json(h, "/status"));
    EXPECT_EQ(res.status, code) << word;
    EXPECT_EQ(res.content_type, "application/health+json") << word;
    EXPECT_EQ(header_value(res, "Vary"), "Accept") << word;
    const auto body = nlohmann::json::parse(res.body);
    EXPECT_EQ(body.at("status"), word);
    EXPECT_EQ(body.at("version"), "4.5.6");
    EXPECT_EQ(body.at("releaseId"), "c0ffee");
    EXPECT_EQ(body.at("serviceId"), "badges-health");
    EXPECT_TRUE(body.at("description").is_string());
    // No token configured: the checks are for everyone.
    EXPECT_EQ(body.at("checks"), nlohmann::json::object()) << res.body;
  }
  source_.set(status::degraded);
  EXPECT_EQ(header_value(response_of(invoke_health_json(h, "/status")), "x-envoy-degraded"),
            "true");
}

TEST_F(handlers_test, health_json_checks_are_shaped_as_the_draft_says) {
  const auto now = std::chrono::steady_clock::now();
  source_.set_checks({
      check_with_results("db", "postgres", {{health::check_status::pass, "ok"}}, now),
      check_with_results("cache", "redis", {{health::check_status::fail, "connection refused"}},
                         now),
      check_with_results("api", "http", {{health::check_status::pass, "status 200"}}, now),
      check_with_results("flag", "file", {}, now),
      check_with_results("disk", "disk", {{health::check_status::pass, "free"}},
                         now - std::chrono::minutes(1)),  // stale: older than 2 x 10 s + 1 s
  });
  const http::response res = response_of(invoke_health_json(status_, "/status"));
  const auto checks = nlohmann::json::parse(res.body).at("checks");
  ASSERT_EQ(checks.size(), 5u) << res.body;

  const auto& db = checks.at("db:responseTime");
  ASSERT_TRUE(db.is_array());
  ASSERT_EQ(db.size(), 1u);
  EXPECT_EQ(db[0].at("componentType"), "datastore");
  EXPECT_EQ(db[0].at("observedValue"), 1.23);
  EXPECT_EQ(db[0].at("observedUnit"), "ms");
  EXPECT_EQ(db[0].at("status"), "pass");
  EXPECT_TRUE(is_iso8601(db[0].at("time").get<std::string>())) << db.dump();
  EXPECT_FALSE(db[0].contains("output")) << db.dump();

  const auto& cache = checks.at("cache:responseTime")[0];
  EXPECT_EQ(cache.at("componentType"), "datastore");
  EXPECT_EQ(cache.at("status"), "fail");
  EXPECT_EQ(cache.at("output"), "connection refused");

  EXPECT_EQ(checks.at("api:responseTime")[0].at("componentType"), "component");

  const auto& flag = checks.at("flag:responseTime")[0];
  EXPECT_EQ(flag.at("componentType"), "system");
  EXPECT_EQ(flag.at("status"), "warn") << "a check without its first result";
  EXPECT_FALSE(flag.contains("time")) << flag.dump();
  EXPECT_FALSE(flag.contains("observedValue")) << flag.dump();

  const auto& disk = checks.at("disk:responseTime")[0];
  EXPECT_EQ(disk.at("componentType"), "system");
  EXPECT_EQ(disk.at("status"), "fail") << "stale, as verbose output judges it";
  EXPECT_EQ(disk.at("output"), "no result for more than 21s (stale)");

  // The verbose output judges every check the same way.
  const auto verbose = nlohmann::json::parse(call(status_, "/status?verbose=true").body);
  EXPECT_EQ(verbose.at("checks").at("disk").at("status"), "fail");
  EXPECT_EQ(verbose.at("checks").at("disk").at("output"), disk.at("output"));
  EXPECT_EQ(verbose.at("checks").at("cache").at("output"), cache.at("output"));
}

TEST_F(handlers_test, a_warning_check_shows_its_reason_and_what_it_observed) {
  source_.set(status::degraded);
  source_.set_checks({check_with_results(
      "space", "disk",
      {{health::check_status::warn, "1024 bytes free, below warn_free_bytes 2048",
        health::observation{1024, "bytes"}}})});
  const auto verbose = nlohmann::json::parse(call(status_, "/status?verbose=true").body);
  const auto& space = verbose.at("checks").at("space");
  EXPECT_EQ(space.at("status"), "warn");
  EXPECT_EQ(space.at("output"), "1024 bytes free, below warn_free_bytes 2048");
  EXPECT_EQ(space.at("observedValue"), 1024);
  EXPECT_EQ(space.at("observedUnit"), "bytes");
  EXPECT_EQ(space.at("durationMs"), 1.23) << "the latency is still there";
  EXPECT_EQ(space.at("transitions").at(0).at("to"), "warn");

  const auto health_json =
      nlohmann::json::parse(response_of(invoke_health_json(status_, "/status")).body);
  EXPECT_EQ(health_json.at("status"), "warn");
  const auto& measured = health_json.at("checks").at("space:responseTime").at(0);
  EXPECT_EQ(measured.at("status"), "warn");
  EXPECT_EQ(measured.at("output"), "1024 bytes free, below warn_free_bytes 2048");
}

TEST_F(handlers_test, health_json_checks_need_the_details_token_when_one_is_set) {
  source_.set_checks(
      {check_with_results("db", "tcp", {{health::check_status::pass, "connected"}})});
  const http::handler guarded = make_status_handler(source_, service_info{}, "s3cret");
  const http::handler ready = make_readiness_handler(source_, service_info{}, "s3cret");
  for (const auto& [h, target] : {std::pair{&guarded, "/status"}, std::pair{&ready, "/readyz"}}) {
    // No token presented: the status without the checks, not a 401.
    const http::response anonymous = response_of(invoke_health_json(*h, target));
    EXPECT_EQ(anonymous.status, beast_status::ok) << target;
    const auto body = nlohmann::json::parse(anonymous.body);
    EXPECT_EQ(body.at("status"), "pass") << target;
    EXPECT_FALSE(body.contains("checks")) << target << ": " << anonymous.body;

    const http::response bearer = response_of(invoke_health_json(*h, target, "Bearer s3cret"));
    EXPECT_TRUE(nlohmann::json::parse(bearer.body).at("checks").contains("db:responseTime"))
        << target << ": " << bearer.body;

    EXPECT_TRUE(is_error(invoke_health_json(*h, target, "Bearer guess"), beast_status::unauthorized,
                         "UNAUTHORIZED"))
        << target;
  }
  // verbose=true keeps asking for the token, whatever the format.
  EXPECT_TRUE(is_error(invoke_health_json(guarded, "/status?verbose=true"),
                       beast_status::unauthorized, "UNAUTHORIZED"));
}

TEST_F(handlers_test, health_json_readyz_fails_whenever_not_ready) {
  struct readiness_case {
    status overall;
    bool ready;
    bool draining;
    const char* word;
  };
  for (const auto& c : {readiness_case{status::ok, true, false, "pass"},
                        readiness_case{status::degraded, true, false, "warn"},
                        readiness_case{status::ok, false, false, "fail"},
                        readiness_case{status::ok, true, true, "fail"},
                        readiness_case{status::down, true, false, "fail"}}) {
    source_.set(c.overall, c.ready, c.draining);
    const http::response res = response_of(invoke_health_json(readiness_, "/readyz"));
    const bool fails = std::string_view(c.word) == "fail";
    EXPECT_EQ(res.status, fails ? beast_status::service_unavailable : beast_status::ok) << c.word;
    EXPECT_EQ(res.content_type, "application/health+json");
    EXPECT_EQ(header_value(res, "Vary"), "Accept");
    EXPECT_EQ(nlohmann::json::parse(res.body).at("status"), c.word)
        << static_cast<int>(c.overall) << " ready=" << c.ready << " draining=" << c.draining;
  }
}

TEST_F(handlers_test, json_answers_carry_vary_accept_and_keep_their_body) {
  for (const auto& [h, target] :
       {std::pair{&status_, "/status"}, std::pair{&readiness_, "/readyz"}}) {
    const http::response res = call(*h, target);
    EXPECT_EQ(res.content_type, "application/json") << target;
    EXPECT_EQ(header_value(res, "Vary"), "Accept") << target;
    EXPECT_TRUE(nlohmann::json::parse(res.body).contains("timestamp")) << target;
  }
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

  routed dispatch(std::string_view target) const {
    return dispatch_on(router_, get_request(target));
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

TEST_F(routes_test, options_root_answers_503_while_the_source_is_down_or_draining) {
  const auto options = [this](std::string_view target) {
    auto parsed =
        http::request_view::parse(verb::options, "OPTIONS", target, http::protocol::http1_0);
    return dispatch_on(router_, parsed.value()).outcome;
  };
  EXPECT_EQ(response_of(options("/")).status, beast_status::no_content);
  source_.set(status::degraded);
  EXPECT_EQ(response_of(options("*")).status, beast_status::no_content);
  source_.set(status::down, true);
  EXPECT_TRUE(is_error(options("/"), beast_status::service_unavailable, "SERVICE_UNAVAILABLE"));
  EXPECT_TRUE(is_error(options("*"), beast_status::service_unavailable, "SERVICE_UNAVAILABLE"));
  EXPECT_EQ(response_of(options("/status")).status, beast_status::no_content);
  source_.set(status::ok, true, true);  // draining, whatever the summary says
  EXPECT_TRUE(is_error(options("/"), beast_status::service_unavailable, "SERVICE_UNAVAILABLE"));
  source_.set(status::ok, false);  // not ready yet is not unavailable
  EXPECT_EQ(response_of(options("/")).status, beast_status::no_content);
}

TEST_F(routes_test, probe_endpoints_reject_unknown_query_parameters) {
  for (std::string_view target : {"/status?x=1", "/livez?x=1", "/livez?exclude=db", "/readyz?x=1",
                                  "/readyz/db?verbose", "/?x=1"}) {
    EXPECT_TRUE(is_error(dispatch(target).outcome, beast_status::bad_request, "UNKNOWN_PARAMETER"))
        << target;
  }
}

}  // namespace
}  // namespace badges_health::app
