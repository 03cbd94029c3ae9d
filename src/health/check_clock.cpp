// The real clock on Asio's steady_timer, and the manual clock of the tests.
#include "badges_health/health/check_clock.hpp"

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace badges_health::health {

namespace asio = boost::asio;

namespace {

class steady_check_timer final : public check_clock::timer {
 public:
  explicit steady_check_timer(asio::any_io_executor ex) : timer_(std::move(ex)) {}
  ~steady_check_timer() override { cancel(); }

  void wait_until(check_clock::time_point at, std::function<void()> handler) override {
    // A handler already queued when the wait is replaced or cancelled finds
    // a newer generation and does nothing.
    const std::uint64_t gen = ++*generation_;
    timer_.expires_at(at);
    timer_.async_wait([generation = generation_, gen,
                       handler = std::move(handler)](boost::system::error_code ec) {
      if (ec || *generation != gen) return;
      handler();
    });
  }

  void cancel() noexcept override {
    ++*generation_;
    timer_.cancel();
  }

 private:
  asio::steady_timer timer_;
  std::shared_ptr<std::uint64_t> generation_ = std::make_shared<std::uint64_t>(0);
};

class steady_clock_source final : public check_clock {
 public:
  time_point now() const noexcept override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point wall_now() const noexcept override {
    return std::chrono::system_clock::now();
  }
  std::unique_ptr<timer> make_timer(asio::any_io_executor ex) const override {
    return std::make_unique<steady_check_timer>(std::move(ex));
  }
};

}  // namespace

const check_clock& system_clock() {
  static const steady_clock_source clock;
  return clock;
}

// ---- manual_clock ----

struct manual_clock::state {
  // A wait in progress: fired once, or dropped.
  struct wait {
    time_point at;
    asio::any_io_executor ex;
    std::function<void()> handler;
    bool done = false;
  };

  // Far from the epoch, so that times computed before "now" stay positive.
  std::atomic<time_point::rep> now{
      std::chrono::duration_cast<time_point::duration>(std::chrono::hours(1000)).count()};
  mutable std::mutex mutex;
  std::vector<std::weak_ptr<wait>> waits;

  time_point current() const noexcept { return time_point(time_point::duration(now.load())); }

  // Posts the handlers of the waits due by `t`, earliest first.
  void fire_due(time_point t) {
    std::vector<std::shared_ptr<wait>> due;
    {
      const std::lock_guard lock(mutex);
      std::erase_if(waits, [&](const std::weak_ptr<wait>& w) {
        const auto live = w.lock();
        if (!live || live->done) return true;
        if (live->at > t) return false;
        live->done = true;
        due.push_back(live);
        return true;
      });
    }
    std::stable_sort(due.begin(), due.end(),
                     [](const auto& a, const auto& b) { return a->at < b->at; });
    for (auto& w : due) asio::post(w->ex, std::move(w->handler));
  }
};

class manual_clock::manual_timer final : public check_clock::timer {
 public:
  manual_timer(std::shared_ptr<state> s, asio::any_io_executor ex)
      : state_(std::move(s)), ex_(std::move(ex)) {}
  ~manual_timer() override { cancel(); }

  void wait_until(time_point at, std::function<void()> handler) override {
    cancel();
    // The handler runs only while this wait is the timer's current one.
    current_ = std::make_shared<state::wait>();
    current_->at = at;
    current_->ex = ex_;
    current_->handler = [w = std::weak_ptr<state::wait>(current_), handler = std::move(handler)] {
      if (!w.expired()) handler();
    };
    {
      const std::lock_guard lock(state_->mutex);
      state_->waits.push_back(current_);
    }
    // A time that has already come fires at once, as an expired timer does.
    if (at <= state_->current()) state_->fire_due(state_->current());
  }

  void cancel() noexcept override {
    if (!current_) return;
    {
      const std::lock_guard lock(state_->mutex);
      current_->done = true;
    }
    current_.reset();
  }

 private:
  std::shared_ptr<state> state_;
  asio::any_io_executor ex_;
  // Owned here only: once replaced or cancelled, its posted handler finds
  // it gone and does nothing.
  std::shared_ptr<state::wait> current_;
};

manual_clock::manual_clock() : state_(std::make_shared<state>()) {}
manual_clock::~manual_clock() = default;

check_clock::time_point manual_clock::now() const noexcept { return state_->current(); }

std::chrono::system_clock::time_point manual_clock::wall_now() const noexcept {
  // 2026-01-01T00:00:00Z plus the time that has passed on this clock.
  const std::chrono::system_clock::time_point start{std::chrono::seconds(1'767'225'600)};
  const time_point origin{std::chrono::hours(1000)};
  return start + std::chrono::duration_cast<std::chrono::system_clock::duration>(now() - origin);
}

std::unique_ptr<check_clock::timer> manual_clock::make_timer(asio::any_io_executor ex) const {
  return std::make_unique<manual_timer>(state_, std::move(ex));
}

void manual_clock::advance(duration d) {
  state_->now.fetch_add(d.count());
  state_->fire_due(state_->current());
}

check_clock::time_point manual_clock::next_wait() const {
  time_point next = time_point::max();
  const std::lock_guard lock(state_->mutex);
  for (const auto& w : state_->waits) {
    if (const auto live = w.lock(); live && !live->done) next = std::min(next, live->at);
  }
  return next;
}

void manual_clock::run_for(asio::io_context& io, duration d) {
  const time_point end = now() + d;
  io.restart();
  io.poll();
  for (;;) {
    const time_point next = next_wait();
    if (next > end) break;
    advance(std::max(next - now(), duration::zero()));
    io.restart();
    io.poll();
  }
  if (end > now()) advance(end - now());
  io.restart();
  io.poll();
}

}  // namespace badges_health::health
