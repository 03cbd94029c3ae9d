// Scheduling, timeouts and publication of check results.
#include "badges_health/health/check_scheduler.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "badges_health/health/check_timetable.hpp"
#include "badges_health/health/health_snapshot.hpp"
#include "badges_health/health/probe.hpp"
#include "badges_health/util/duration.hpp"

namespace badges_health::health {

using util::format_duration;

namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

// One check: its entry in the timetable, its state and the attempt in
// flight. A fresh probe per attempt, so a late completion of an abandoned
// attempt can never touch the sockets of the next one.
class check_scheduler::runner : public std::enable_shared_from_this<runner> {
 public:
  runner(std::shared_ptr<const check_spec> spec, asio::any_io_executor ex, check_scheduler& owner)
      : spec_(std::move(spec)),
        ex_(ex),
        slot_(timetable_slot(spec_->interval)),
        owner_(&owner),
        state_(steady_clock::now()) {}

  const std::shared_ptr<const check_spec>& spec() const noexcept { return spec_; }
  const check_state& state() const noexcept { return state_; }
  /// Position of the check in the health model's table.
  std::size_t index() const noexcept { return index_; }
  void set_index(std::size_t i) noexcept { index_ = i; }
  milliseconds slot() const noexcept { return slot_; }

  bool stopped() const noexcept { return stopped_; }

  /// The scheduler takes the runner out of its timetable.
  void stop() {
    if (stopped_) return;
    stopped_ = true;
    if (probe_) probe_->cancel();
  }

  /// The entry is due: the next attempt, or the deadline of this one.
  void due() {
    if (probe_) {
      probe_->cancel();
      finish({false, "timed out after " + format_duration(spec_->timeout)});
    } else {
      run();
    }
  }

 private:
  void run() {
    const std::uint64_t attempt = ++attempt_;
    started_ = steady_clock::now();
    try {
      probe_ = make_probe(*spec_, ex_);
      // The timeout counts from here: building a probe can take a while
      // (an https check loads the system's CA store). Deadlines are not
      // coalesced: a server-side timeout set just past it (postgres's
      // statement_timeout) must not win.
      owner_->reschedule(*this, steady_clock::now() + spec_->timeout, milliseconds{1});
      probe_->start([self = shared_from_this(), attempt](probe_result r) {
        if (self->stopped_ || attempt != self->attempt_ || !self->probe_) return;
        self->finish(std::move(r));
      });
    } catch (const std::exception& e) {
      // A probe that cannot even start (a CA file that is not PEM) is a
      // failed attempt; the check keeps its schedule.
      if (probe_) probe_->cancel();
      finish({false, std::string("cannot start the check: ") + e.what()});
    }
  }

  void finish(probe_result r) {
    probe_.reset();
    const auto now = steady_clock::now();
    const auto took = std::chrono::duration_cast<std::chrono::microseconds>(now - started_);
    const check_status before = state_.status();
    const bool changed =
        state_.apply(r, spec_->rise, spec_->fall, now, std::chrono::system_clock::now(), took);
    owner_->on_result(*this, changed, before);
    // The interval runs from the start of an attempt, so a slow dependency
    // does not stretch the schedule; jitter keeps checks out of lockstep.
    const auto elapsed = std::chrono::duration_cast<milliseconds>(now - started_);
    const auto wait = std::max(milliseconds{0}, spec_->interval - elapsed);
    owner_->reschedule(*this, now + wait + owner_->jitter(spec_->interval), slot_);
  }

  std::shared_ptr<const check_spec> spec_;
  asio::any_io_executor ex_;
  milliseconds slot_;
  check_scheduler* owner_;
  check_state state_;
  std::size_t index_ = 0;
  std::shared_ptr<probe> probe_;
  std::uint64_t attempt_ = 0;
  steady_clock::time_point started_;
  bool stopped_ = false;
};

check_scheduler::check_scheduler(asio::any_io_executor ex, health_model& model)
    : ex_(std::move(ex)), model_(model), tick_(ex_), rng_(std::random_device{}()) {}

check_scheduler::~check_scheduler() { stop(); }

milliseconds check_scheduler::jitter(milliseconds interval) {
  const auto spread = std::max<long long>(1, interval.count() / 10);
  return milliseconds{std::uniform_int_distribution<long long>(0, spread)(rng_)};
}

void check_scheduler::apply(const std::vector<check_spec>& specs) {
  const auto now = steady_clock::now();
  std::vector<std::shared_ptr<runner>> next;
  // When each runner of `next` is due: a kept one keeps its place.
  std::vector<steady_clock::time_point> due;
  next.reserve(specs.size());
  due.reserve(specs.size());
  for (const auto& spec : specs) {
    std::shared_ptr<runner> kept;
    for (auto& r : runners_) {
      if (r && !r->stopped() && *r->spec() == spec) {
        kept = std::move(r);
        break;
      }
    }
    if (kept) {
      due.push_back(timetable_.contains(kept->index()) ? timetable_.key_of(kept->index()) : now);
      next.push_back(std::move(kept));
      continue;
    }
    auto r = std::make_shared<runner>(std::make_shared<const check_spec>(spec), ex_, *this);
    // First attempts go out at once (spread over a few milliseconds) so
    // readiness does not wait a whole interval.
    due.push_back(
        timetable_round(now + jitter(std::min(spec.interval, milliseconds{500})), now, r->slot()));
    next.push_back(std::move(r));
  }
  for (auto& r : runners_) {
    if (r) r->stop();
  }
  runners_ = std::move(next);
  timetable_.reset(runners_.size());

  std::vector<check_snapshot> checks;
  checks.reserve(runners_.size());
  for (std::size_t i = 0; i < runners_.size(); ++i) {
    runners_[i]->set_index(i);
    timetable_.set(i, due[i]);
    checks.push_back({runners_[i]->spec(), runners_[i]->state()});
  }
  arm();
  auto snap = make_snapshot(std::move(checks), now);
  const status overall = snap->base.overall;
  model_.publish(std::move(snap));
  report(overall, now);
}

void check_scheduler::stop() {
  for (auto& r : runners_) r->stop();
  timetable_.reset(0);
  tick_.cancel();
  armed_ = steady_clock::time_point::max();
}

void check_scheduler::reschedule(runner& r, steady_clock::time_point at, milliseconds slot) {
  timetable_.set(r.index(), timetable_round(at, steady_clock::now(), slot));
  arm();
}

void check_scheduler::turn() {
  const auto now = steady_clock::now();
  // arm() once, at the end of the turn, even if a due() throws.
  struct end_of_turn {
    check_scheduler& s;
    ~end_of_turn() {
      s.in_turn_ = false;
      s.arm();
    }
  };
  in_turn_ = true;
  const end_of_turn guard{*this};
  // Every due() moves the runner's entry past `now` (timetable_round), so
  // the loop ends.
  while (!timetable_.empty() && timetable_.top_key() <= now) {
    runners_[timetable_.top_id()]->due();
  }
}

void check_scheduler::arm() {
  if (in_turn_) return;  // once, at the end of the turn
  const auto next = timetable_.empty() ? steady_clock::time_point::max() : timetable_.top_key();
  if (next == armed_) return;
  armed_ = next;
  if (next == steady_clock::time_point::max()) {
    tick_.cancel();
    return;
  }
  // Replaces a wait for another time; its handler sees operation_aborted.
  tick_.expires_at(next);
  tick_.async_wait([this, alive = std::weak_ptr<char>(alive_)](boost::system::error_code ec) {
    if (ec || alive.expired()) return;
    armed_ = steady_clock::time_point::max();
    turn();
  });
}

void check_scheduler::on_result(runner& r, bool changed, check_status before) {
  const auto& spec = *r.spec();
  const auto& st = r.state();
  if (changed) {
    const std::string reason =
        st.status() == check_status::fail ? st.failure_output() : st.last_output();
    const auto level =
        st.status() == check_status::fail ? spdlog::level::warn : spdlog::level::info;
    spdlog::log(
        level, "check {}: {} -> {} ({} consecutive {}): {}", spec.name, to_string(before),
        to_string(st.status()),
        st.status() == check_status::fail ? st.consecutive_failures() : st.consecutive_passes(),
        st.status() == check_status::fail ? "failures" : "passes", reason);
  }
  // One cell and a few counters: the cost does not grow with the number
  // of checks.
  report(model_.update(r.index(), st).overall, steady_clock::now());
}

void check_scheduler::report(status overall, steady_clock::time_point now) {
  if (overall == last_overall_) return;
  std::string why;
  for (const auto& r : runners_) {
    const auto& spec = *r->spec();
    if (r->state().effective(now, spec.stale_after()) != check_status::fail) continue;
    why += (why.empty() ? "" : ", ") + spec.name + (spec.critical ? " (critical)" : "");
  }
  const auto level = overall == status::ok ? spdlog::level::info : spdlog::level::warn;
  spdlog::log(level, "status {} -> {}: {}", to_string(last_overall_), to_string(overall),
              why.empty() ? std::string("all checks pass") : "failing: " + why);
  last_overall_ = overall;
}

}  // namespace badges_health::health
