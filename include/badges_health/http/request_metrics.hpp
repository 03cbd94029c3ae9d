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

#include "badges_health/http/http_error.hpp"
#include "badges_health/util/grpc_wire.hpp"

namespace badges_health::http {

namespace detail_metrics {

// The statuses of answers that are not errors: 200, 204 (OPTIONS) and 503
// (/status down, /readyz not ready).
inline constexpr std::array<unsigned, 3> answer_statuses = {200, 204, 503};

constexpr std::size_t count_statuses() {
  std::array<unsigned, answer_statuses.size() + errors::all.size()> all{};
  std::size_t n = 0;
  for (unsigned s : answer_statuses) all[n++] = s;
  for (const auto& e : errors::all) all[n++] = static_cast<unsigned>(e.status);
  std::size_t unique = 0;
  for (std::size_t i = 0; i < n; ++i) {
    bool seen = false;
    for (std::size_t j = 0; j < i; ++j) seen = seen || all[j] == all[i];
    unique += seen ? 0 : 1;
  }
  return unique;
}

template <std::size_t N>
constexpr std::array<unsigned, N> sorted_statuses() {
  std::array<unsigned, N> out{};
  std::size_t n = 0;
  const auto add = [&](unsigned s) {
    for (std::size_t j = 0; j < n; ++j) {
      if (out[j] == s) return;
    }
    std::size_t at = n++;
    while (at > 0 && out[at - 1] > s) {
      out[at] = out[at - 1];
      --at;
    }
    out[at] = s;
  };
  for (unsigned s : answer_statuses) add(s);
  for (const auto& e : errors::all) add(static_cast<unsigned>(e.status));
  return out;
}

}  // namespace detail_metrics

class request_metrics {
 public:
  /// Methods counted separately; anything else is "other".
  static constexpr std::array<std::string_view, 6> methods = {"GET", "HEAD",   "OPTIONS",
                                                              "PUT", "DELETE", "other"};
  /// Every status the server answers with: the statuses of the error
  /// table and of the answers that are not errors, and nothing else.
  static constexpr auto codes = detail_metrics::sorted_statuses<detail_metrics::count_statuses()>();
  /// The gRPC methods counted separately; anything else is "other".
  static constexpr std::array<std::string_view, 4> grpc_methods = {"Check", "Watch", "List",
                                                                   "other"};
  /// Every gRPC status the server ends a call with.
  static constexpr std::array<util::grpc::status_code, 7> grpc_statuses = {
      util::grpc::status_code::ok,
      util::grpc::status_code::deadline_exceeded,
      util::grpc::status_code::not_found,
      util::grpc::status_code::resource_exhausted,
      util::grpc::status_code::unimplemented,
      util::grpc::status_code::internal,
      util::grpc::status_code::unavailable};
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
  /// `took` is empty for a request refused before it was handled (a parse
  /// error, a limit): counted, but no sample of the latency of handling.
  /// Single writer: the owning worker.
  void record(std::optional<std::size_t> route, boost::beast::http::verb method, unsigned status,
              std::optional<std::chrono::nanoseconds> took) noexcept;

  /// Records one gRPC call, from its request's first frame to its status.
  void record_grpc(std::size_t method, util::grpc::status_code status,
                   std::chrono::nanoseconds took) noexcept;

  struct grpc_totals {
    std::array<std::uint64_t, grpc_methods.size() * grpc_statuses.size()> calls{};
    std::array<std::array<std::uint64_t, buckets.size() + 1>, grpc_methods.size()> bucket_counts{};
    std::array<std::uint64_t, grpc_methods.size()> sum_ns{};
  };
  void add_grpc_to(grpc_totals& into) const;

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
  struct grpc_cells;
  std::size_t routes_;
  std::unique_ptr<route_cells[]> cells_;
  std::unique_ptr<grpc_cells> grpc_;
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
  /// Sums every worker's gRPC calls.
  request_metrics::grpc_totals grpc_totals() const;
  std::atomic<std::size_t> open_connections{0};

 private:
  std::size_t workers_count_;
  std::vector<std::string> labels_;
  std::vector<std::unique_ptr<request_metrics>> workers_;
};

}  // namespace badges_health::http
