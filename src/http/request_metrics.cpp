// Per-worker request counters, summed on scrape.
#include "badges_health/http/request_metrics.hpp"

namespace badges_health::http {

namespace {

// Single writer: a relaxed load and store compile to plain moves, and the
// scrape still reads whole values.
void bump(std::atomic<std::uint64_t>& cell, std::uint64_t by = 1) noexcept {
  cell.store(cell.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

std::size_t method_index(boost::beast::http::verb v) noexcept {
  switch (v) {
    case boost::beast::http::verb::get:
      return 0;
    case boost::beast::http::verb::head:
      return 1;
    case boost::beast::http::verb::options:
      return 2;
    default:
      return 3;
  }
}

std::size_t code_index(unsigned status) noexcept {
  for (std::size_t i = 0; i + 1 < request_metrics::codes.size(); ++i) {
    if (request_metrics::codes[i] == status) return i;
  }
  return request_metrics::codes.size() - 1;
}

}  // namespace

struct request_metrics::route_cells {
  std::array<std::atomic<std::uint64_t>, methods.size() * codes.size()> requests{};
  std::array<std::atomic<std::uint64_t>, buckets.size() + 1> bucket_counts{};
  std::atomic<std::uint64_t> sum_ns{0};
};

request_metrics::request_metrics(std::size_t routes)
    : routes_(routes + 1), cells_(std::make_unique<route_cells[]>(routes + 1)) {}

request_metrics::~request_metrics() = default;

void request_metrics::record(std::optional<std::size_t> matched, boost::beast::http::verb method,
                             unsigned status, std::chrono::nanoseconds took) noexcept {
  // Requests that matched no route share the last slot ("other").
  const std::size_t route = matched && *matched < routes_ - 1 ? *matched : routes_ - 1;
  auto& c = cells_[route];
  bump(c.requests[method_index(method) * codes.size() + code_index(status)]);
  const double seconds = static_cast<double>(took.count()) / 1e9;
  std::size_t b = 0;
  while (b < buckets.size() && seconds > buckets[b]) ++b;
  bump(c.bucket_counts[b]);
  bump(c.sum_ns, static_cast<std::uint64_t>(took.count() < 0 ? 0 : took.count()));
}

void request_metrics::add_to(std::vector<route_totals>& into) const {
  if (into.size() < routes_) into.resize(routes_);
  for (std::size_t r = 0; r < routes_; ++r) {
    auto& t = into[r];
    const auto& c = cells_[r];
    if (t.requests.size() < c.requests.size()) t.requests.resize(c.requests.size());
    for (std::size_t i = 0; i < c.requests.size(); ++i) {
      t.requests[i] += c.requests[i].load(std::memory_order_relaxed);
    }
    for (std::size_t i = 0; i < c.bucket_counts.size(); ++i) {
      t.bucket_counts[i] += c.bucket_counts[i].load(std::memory_order_relaxed);
    }
    t.sum_ns += c.sum_ns.load(std::memory_order_relaxed);
  }
}

metrics_registry::metrics_registry(std::size_t workers) : workers_count_(workers) {
  set_routes({});
}

metrics_registry::metrics_registry(std::size_t workers, std::vector<std::string> route_labels)
    : workers_count_(workers) {
  set_routes(std::move(route_labels));
}

void metrics_registry::set_routes(std::vector<std::string> route_labels) {
  labels_ = std::move(route_labels);
  workers_.clear();
  for (std::size_t i = 0; i < workers_count_; ++i) {
    workers_.push_back(std::make_unique<request_metrics>(labels_.size()));
  }
}

std::vector<request_metrics::route_totals> metrics_registry::totals() const {
  std::vector<request_metrics::route_totals> out(labels_.size() + 1);
  for (const auto& w : workers_) w->add_to(out);
  return out;
}

}  // namespace badges_health::http
