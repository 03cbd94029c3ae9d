// The worker's registry and its deadline sweep. One timer per worker waits
// for the earliest deadline of all its connections, so an idle worker does
// not wake at all and a busy one re-arms only when a deadline comes
// earlier than the one it waits for: a connection per request costs no
// timer call, since each new deadline lies past the one already set.
#include "connection.hpp"

#include <algorithm>

namespace badges_health::http {

namespace {

// Deadlines are enforced within this much of their time: a quarter of the
// smallest timeout, between 10 ms and 250 ms. Wake-ups are rounded up to
// it, so deadlines close together cost one.
connection::clock::duration sweep_granularity(const server_options& o) {
  const auto smallest =
      std::min({o.request_timeout, o.idle_timeout, o.write_timeout, o.linger_timeout});
  return std::clamp(smallest / 4, std::chrono::milliseconds{10}, std::chrono::milliseconds{250});
}

// Reads of up to this size; one request of a prober, or a burst of
// pipelined ones or of HTTP/2 frames.
constexpr std::size_t read_buffer_bytes = 16 * 1024;

}  // namespace

connection_context::connection_context(boost::asio::io_context& ioc,
                                       const server_options& options_in,
                                       const error_middleware& middleware_in,
                                       std::atomic<std::size_t>& open, request_metrics& metrics_in,
                                       const std::atomic<bool>& draining_in,
                                       const grpc_health_source* grpc_in, now_function now_in)
    : options(options_in),
      middleware(middleware_in),
      open_connections(open),
      metrics(metrics_in),
      draining(draining_in),
      grpc(grpc_in),
      ioc_(ioc),
      now_(now_in),
      read_buffer_(std::max(read_buffer_bytes, options_in.max_header_bytes)),
      timer_(std::in_place, ioc),
      granularity_(sweep_granularity(options_in)) {}

void connection_context::track(connection& c) noexcept { connections_.push_back(c); }

void connection_context::forget(connection& c) noexcept {
  c.unlink();
  if (stopping_) stop_if_empty();
}

void connection_context::stop_when_empty(std::function<void()> then) {
  stopping_ = true;
  on_empty_ = std::move(then);
  stop_if_empty();
}

void connection_context::stop_if_empty() {
  if (!connections_.empty() || !timer_) return;
  if (armed_ != clock::time_point::max()) {
    armed_ = clock::time_point::max();
    timer_->cancel();
  }
  if (auto then = std::move(on_empty_)) {
    on_empty_ = nullptr;
    try {
      then();
    } catch (...) {
      // Closing a listening socket does not throw; nothing to undo.
    }
  }
}

void connection_context::detach() noexcept {
  timer_.reset();
  armed_ = clock::time_point::min();  // never armed again
}

void connection_context::deadline_set(clock::time_point at) {
  if (at < armed_) arm(at);
}

void connection_context::arm(clock::time_point at) {
  if (at == clock::time_point::max() || !timer_) return;
  // Rounded up to the granularity, counted from the clock's epoch, so that
  // deadlines set a little apart share one wake-up.
  const auto ticks = (at.time_since_epoch() + granularity_ - clock::duration{1}) / granularity_;
  armed_ = clock::time_point{ticks * granularity_};
  timer_->expires_at(armed_);
  timer_->async_wait([this](boost::system::error_code ec) {
    if (ec) return;  // replaced by an earlier wait, or cancelled
    armed_ = clock::time_point::max();
    sweep(now());
  });
}

void connection_context::sweep(clock::time_point now) {
  auto next = clock::time_point::max();
  for_each_connection([&](connection& c) {
    if (c.deadline() <= now) c.expire();  // closes; destroyed later, by its handlers
    next = std::min(next, c.deadline());
  });
  if (stopping_ && connections_.empty()) return;
  if (next < armed_) arm(next);
}

}  // namespace badges_health::http
