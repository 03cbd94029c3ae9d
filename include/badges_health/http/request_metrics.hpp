// Request counters and latency histograms. One request_metrics per worker
// thread, written only by that thread (no contended atomics on the hot
// path) and summed by a scrape from any thread.
#pragma once

#include <array>
#include <atomic>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace badges_health::http {

class request_metrics {
 public:
  /// Methods counted separately; anything else is "other".
  static constexpr std::array<std::string_view, 4> methods = {"GET", "HEAD", "OPTIONS", "other"};
  /// Status codes counted separately; anything else is counted under 0.
  static constexpr std::array<unsigned, 12> codes = {200, 204, 400, 401, 404, 405,
                                                     414, 431, 500, 503, 403, 0};
  /// Histogram bucket upper bounds, in seconds.
  static constexpr std::array<double, 10> buckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001,
                                                     0.0025,  0.005,  0.01,    0.05,   0.25};

  /// `routes` are the route labels; one more slot ("other") takes requests
  /// that matched no route.
  explicit request_metrics(std::size_t routes);
  ~request_metrics();
  request_metrics(const request_metrics&) = delete;
  request_metrics& operator=(const request_metrics&) = delete;

  /// Records one answered request; `route` is empty when none matched.
  /// Single writer: the owning worker.
  void record(std::optional<std::size_t> route, boost::beast::http::verb method, unsigned status,
              std::chrono::nanoseconds took) noexcept;

  struct route_totals {
    std::vector<std::uint64_t> requests;                            // [method][code], flattened
    std::array<std::uint64_t, buckets.size() + 1> bucket_counts{};  // non-cumulative; last is +Inf
    std::uint64_t sum_ns = 0;
  };
  /// Adds this worker's numbers into `into` (one entry per route slot).
  void add_to(std::vector<route_totals>& into) const;
  std::size_t route_slots() const noexcept { return routes_; }

 private:
  struct route_cells;
  std::size_t routes_;
  std::unique_ptr<route_cells[]> cells_;
};

/// The metrics of all workers plus the open-connection gauge.
class metrics_registry {
 public:
  /// Every request counts as "other" until set_routes() names the routes.
  explicit metrics_registry(std::size_t workers);
  metrics_registry(std::size_t workers, std::vector<std::string> route_labels);
  /// Names the routes (the router's paths, in order) and starts every
  /// worker's numbers afresh. Only before the server starts.
  void set_routes(std::vector<std::string> route_labels);
  request_metrics& worker(std::size_t i) { return *workers_[i]; }
  const std::vector<std::string>& route_labels() const noexcept { return labels_; }
  /// Sums every worker (labels_.size() + 1 entries; the last is "other").
  std::vector<request_metrics::route_totals> totals() const;
  std::atomic<std::size_t> open_connections{0};

 private:
  std::size_t workers_count_;
  std::vector<std::string> labels_;
  std::vector<std::unique_ptr<request_metrics>> workers_;
};

}  // namespace badges_health::http
