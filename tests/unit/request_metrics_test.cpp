// Per-worker request counters and their sums.
#include "badges_health/http/request_metrics.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace badges_health::http {
namespace {

using namespace std::chrono_literals;
using boost::beast::http::verb;

std::size_t cell(std::size_t method, unsigned code) {
  std::size_t c = 0;
  while (c + 1 < request_metrics::codes.size() && request_metrics::codes[c] != code) ++c;
  return method * request_metrics::codes.size() + c;
}

TEST(request_metrics, counts_by_route_method_and_code_across_workers) {
  metrics_registry reg(2, {"/status", "/livez"});
  reg.worker(0).record(0, verb::get, 200, 10us);
  reg.worker(1).record(0, verb::get, 200, 10us);
  reg.worker(1).record(0, verb::head, 503, 10us);
  reg.worker(0).record(1, verb::post, 405, 10us);
  reg.worker(0).record(1, verb::delete_, 204, 10us);
  const auto t = reg.totals();
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].requests[cell(0, 200)], 2u);
  EXPECT_EQ(t[0].requests[cell(1, 503)], 1u);
  EXPECT_EQ(request_metrics::methods[4], "DELETE");
  EXPECT_EQ(t[1].requests[cell(4, 204)], 1u);
  EXPECT_EQ(request_metrics::methods[5], "other");
  EXPECT_EQ(t[1].requests[cell(5, 405)], 1u);
}

TEST(request_metrics, the_status_labels_are_exactly_the_statuses_the_server_sends) {
  // Derived from the error table, plus the answers that are not errors:
  // 200, 204 (OPTIONS) and 503 (/status down, /readyz not ready).
  std::set<unsigned> sent = {200, 204, 503};
  for (const auto& e : errors::all) sent.insert(static_cast<unsigned>(e.status));
  const std::set<unsigned> labels(request_metrics::codes.begin(), request_metrics::codes.end());
  EXPECT_EQ(labels, sent);
  EXPECT_EQ(labels.size(), request_metrics::codes.size()) << "a status listed twice";
  EXPECT_TRUE(labels.count(505)) << "HTTP_VERSION_NOT_SUPPORTED is sent";
  EXPECT_FALSE(labels.count(403)) << "403 is never sent";
}

TEST(request_metrics, unknown_route_goes_to_other) {
  metrics_registry reg(1, {"/status"});
  reg.worker(0).record(99, verb::get, 404, 1us);
  const auto t = reg.totals();
  EXPECT_EQ(t[1].requests[cell(0, 404)], 1u);
}

TEST(request_metrics, a_refused_request_is_counted_without_a_latency_sample) {
  metrics_registry reg(1, {"/status"});
  reg.worker(0).record(std::nullopt, verb::unknown, 400, std::nullopt);
  reg.worker(0).record(std::nullopt, verb::get, 404, 3us);
  const auto t = reg.totals();
  EXPECT_EQ(t[1].requests[cell(5, 400)], 1u);
  std::uint64_t samples = 0;
  for (auto n : t[1].bucket_counts) samples += n;
  EXPECT_EQ(samples, 1u) << "the refused request added a sample";
  EXPECT_EQ(t[1].sum_ns, 3'000u);
}

TEST(request_metrics, grpc_calls_have_their_own_series_with_real_durations) {
  metrics_registry reg(2, {"/status"});
  reg.worker(0).record_grpc(0, util::grpc::status_code::ok, 40us);
  reg.worker(1).record_grpc(0, util::grpc::status_code::not_found, 2ms);
  reg.worker(1).record_grpc(1, util::grpc::status_code::deadline_exceeded, 2s);
  const auto g = reg.grpc_totals();
  const auto at = [](std::size_t method, util::grpc::status_code s) {
    std::size_t i = 0;
    while (request_metrics::grpc_statuses[i] != s) ++i;
    return method * request_metrics::grpc_statuses.size() + i;
  };
  EXPECT_EQ(g.calls[at(0, util::grpc::status_code::ok)], 1u);
  EXPECT_EQ(g.calls[at(0, util::grpc::status_code::not_found)], 1u);
  EXPECT_EQ(g.calls[at(1, util::grpc::status_code::deadline_exceeded)], 1u);
  EXPECT_EQ(g.sum_ns[0], 2'040'000u);
  EXPECT_EQ(g.bucket_counts[1].back(), 1u);
  // Nothing of it in the HTTP series.
  for (const auto& route : reg.totals()) {
    for (auto n : route.requests) EXPECT_EQ(n, 0u);
  }
}

TEST(request_metrics, no_route_goes_to_other) {
  metrics_registry reg(1, {"/status"});
  reg.worker(0).record(std::nullopt, verb::get, 404, 1us);
  reg.worker(0).record(1, verb::get, 404, 1us);  // one past the last route
  const auto t = reg.totals();
  EXPECT_EQ(t[1].requests[cell(0, 404)], 2u);
  EXPECT_EQ(t[0].requests[cell(0, 404)], 0u);
}

TEST(metrics_registry, counts_everything_as_other_until_routes_are_named) {
  metrics_registry reg(2);
  EXPECT_TRUE(reg.route_labels().empty());
  reg.worker(1).record(0, verb::get, 200, 1us);
  const auto t = reg.totals();
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].requests[cell(0, 200)], 1u);
}

TEST(metrics_registry, set_routes_names_the_routes_and_starts_afresh) {
  metrics_registry reg(2);
  reg.worker(0).record(std::nullopt, verb::get, 404, 1us);
  reg.set_routes({"/status", "/livez"});
  EXPECT_EQ(reg.route_labels(), (std::vector<std::string>{"/status", "/livez"}));
  reg.worker(1).record(1, verb::get, 200, 1us);
  const auto t = reg.totals();
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[1].requests[cell(0, 200)], 1u);
  EXPECT_EQ(t[2].requests[cell(0, 404)], 0u);  // counted before set_routes
}

TEST(request_metrics, histogram_puts_durations_in_their_buckets) {
  metrics_registry reg(1, {"/status"});
  reg.worker(0).record(0, verb::get, 200, 40us);   // <= 50us: bucket 0
  reg.worker(0).record(0, verb::get, 200, 700us);  // <= 1ms: bucket 4
  reg.worker(0).record(0, verb::get, 200, 2s);     // +Inf
  const auto t = reg.totals();
  EXPECT_EQ(t[0].bucket_counts[0], 1u);
  EXPECT_EQ(t[0].bucket_counts[4], 1u);
  EXPECT_EQ(t[0].bucket_counts.back(), 1u);
  EXPECT_EQ(t[0].sum_ns, 2'000'740'000u);
}

}  // namespace
}  // namespace badges_health::http
