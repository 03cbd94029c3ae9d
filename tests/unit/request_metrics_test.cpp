// Per-worker request counters and their sums.
#include "badges_health/http/request_metrics.hpp"

#include <gtest/gtest.h>

#include <optional>
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
  const auto t = reg.totals();
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0].requests[cell(0, 200)], 2u);
  EXPECT_EQ(t[0].requests[cell(1, 503)], 1u);
  EXPECT_EQ(t[1].requests[cell(3, 405)], 1u);
}

TEST(request_metrics, unknown_route_and_code_go_to_other) {
  metrics_registry reg(1, {"/status"});
  reg.worker(0).record(99, verb::get, 418, 1us);
  const auto t = reg.totals();
  EXPECT_EQ(t[1].requests[cell(0, 0)], 1u);
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
