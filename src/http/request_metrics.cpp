// Per-worker request counters, summed on scrape.
#include "badges_health/http/request_metrics.hpp"

#include <algorithm>

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
    case boost::beast::http::verb::put:
      return 3;
    case boost::beast::http::verb::delete_:
      return 4;
    default:
      return 5;
  }
}

std::size_t code_index(unsigned status) noexcept {
  for (std::size_t i = 0; i < request_metrics::codes.size(); ++i) {
    if (request_metrics::codes[i] == status) return i;
  }
  // Not reached: codes lists every status the server sends. Counted as
  // the internal error it would be.
  return code_index(500);
}

std::size_t bucket_of(std::chrono::nanoseconds took) noexcept {
  const double seconds = static_cast<double>(took.count()) / 1e9;
  std::size_t b = 0;
  while (b < request_metrics::buckets.size() && seconds > request_metrics::buckets[b]) ++b;
  return b;
}

std::uint64_t nanos(std::chrono::nanoseconds took) noexcept {
  return static_cast<std::uint64_t>(took.count() < 0 ? 0 : took.count());
}

}  // namespace

struct request_metrics::route_cells {
  std::array<std::atomic<std::uint64_t>, methods.size() * codes.size()> requests{};
  std::array<std::atomic<std::uint64_t>, buckets.size() + 1> bucket_counts{};
  std::atomic<std::uint64_t> sum_ns{0};
};

struct request_metrics::grpc_cells {
  std::array<std::atomic<std::uint64_t>, grpc_methods.size() * grpc_statuses.size()> calls{};
  std::array<std::array<std::atomic<std::uint64_t>, buckets.size() + 1>, grpc_methods.size()>
      bucket_counts{};
  std::array<std::atomic<std::uint64_t>, grpc_methods.size()> sum_ns{};
};

request_metrics::request_metrics(std::size_t routes)
    : routes_(routes + 1),
      cells_(std::make_unique<route_cells[]>(routes + 1)),
      grpc_(std::make_unique<grpc_cells>()) {}

request_metrics::~request_metrics() = default;

void request_metrics::record(std::optional<std::size_t> matched, boost::beast::http::verb method,
                             unsigned status,
                             std::optional<std::chrono::nanoseconds> took) noexcept {
  // Requests that matched no route share the last slot ("other").
  const std::size_t route = matched && *matched < routes_ - 1 ? *matched : routes_ - 1;
  auto& c = cells_[route];
  bump(c.requests[method_index(method) * codes.size() + code_index(status)]);
  if (!took) return;
  bump(c.bucket_counts[bucket_of(*took)]);
  bump(c.sum_ns, nanos(*took));
}

void request_metrics::record_grpc(std::size_t method, util::grpc::status_code status,
                                  std::chrono::nanoseconds took) noexcept {
  const std::size_t m = std::min(method, grpc_methods.size() - 1);
  std::size_t s = 0;
  while (s + 1 < grpc_statuses.size() && grpc_statuses[s] != status) ++s;
  bump(grpc_->calls[m * grpc_statuses.size() + s]);
  bump(grpc_->bucket_counts[m][bucket_of(took)]);
  bump(grpc_->sum_ns[m], nanos(took));
}

void request_metrics::add_grpc_to(grpc_totals& into) const {
  for (std::size_t i = 0; i < into.calls.size(); ++i) {
    into.calls[i] += grpc_->calls[i].load(std::memory_order_relaxed);
  }
  for (std::size_t m = 0; m < grpc_methods.size(); ++m) {
    for (std::size_t b = 0; b < into.bucket_counts[m].size(); ++b) {
      into.bucket_counts[m][b] += grpc_->bucket_counts[m][b].load(std::memory_order_relaxed);
    }
    into.sum_ns[m] += grpc_->sum_ns[m].load(std::memory_order_relaxed);
  }
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

request_metrics::grpc_totals metrics_registry::grpc_totals() const {
  request_metrics::grpc_totals out;
  for (const auto& w : workers_) w->add_grpc_to(out);
  return out;
}

}  // namespace badges_health::http
