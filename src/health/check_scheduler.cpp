// Scheduling, timeouts and publication of check results.
#include "badges_health/health/check_scheduler.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "badges_health/health/check_timetable.hpp"
#include "badges_health/health/health_snapshot.hpp"
#include "badges_health/util/duration.hpp"

namespace badges_health::health {

using util::format_duration;

namespace asio = boost::asio;
using std::chrono::microseconds;
using std::chrono::milliseconds;

// One check: its entry in the timetable, its state, its checker and the
// attempt in flight.
class check_scheduler::runner : public std::enable_shared_from_this<runner> {
 public:
  runner(std::shared_ptr<const check_spec> spec, check_scheduler& owner)
      : spec_(std::move(spec)),
        // A reported check's expiry is exact to the millisecond; attempts
        // share slots.
        slot_(reported() ? milliseconds{1} : timetable_slot(spec_->interval)),
        owner_(&owner),
        state_(owner.clock_.now()) {
    build_checker();
  }

  const std::shared_ptr<const check_spec>& spec() const noexcept { return spec_; }
  const check_state& state() const noexcept { return state_; }
  /// Position of the check in the health model's table.
  std::size_t index() const noexcept { return index_; }
  void set_index(std::size_t i) noexcept { index_ = i; }
  milliseconds slot() const noexcept { return slot_; }
  bool reported() const noexcept { return spec_->type().reported; }
  bool stopped() const noexcept { return stopped_; }

  /// The scheduler takes the runner out of its timetable.
  void stop() {
    if (stopped_) return;
    stopped_ = true;
    abandon();
  }

  /// SIGHUP with this check unchanged.
  void reload() {
    if (!checker_) return build_checker();
    try {
      checker_->reload();
    } catch (const std::exception& e) {
      spdlog::warn("check {}: reload: {}", spec_->name, e.what());
    }
  }

  /// The entry is due: the next attempt, the deadline of this one, or (a
  /// reported check) the end of the ttl.
  void due() {
    if (in_flight_) {
      abandon();
      finish({check_status::fail, "timed out after " + format_duration(spec_->timeout)});
    } else {
      run();
    }
  }

  /// A report, on the executor: recorded, and the ttl starts again.
  void report(check_result r) {
    if (stopped_ || !checker_) return;
    abandon();
    r = checker_->on_report(std::move(r));
    const auto now = owner_->clock_.now();
    record(r, now, microseconds{0});
    owner_->reschedule(*this, now + spec_->interval, slot_);
  }

 private:
  void build_checker() {
    try {
      checker_ = spec_->settings->make_checker(*spec_, owner_->context_);
      broken_.clear();
    } catch (const std::exception& e) {
      // A checker that cannot be made (a CA file that is not PEM) fails
      // every attempt, saying why; the check keeps its schedule.
      checker_.reset();
      broken_ = std::string("cannot start the check: ") + e.what();
    }
  }

  // Cancels the attempt in flight, if any.
  void abandon() noexcept {
    if (in_flight_ && checker_) checker_->cancel();
    in_flight_ = false;
  }

  void run() {
    const std::uint64_t attempt = ++attempt_;
    started_ = owner_->clock_.now();
    if (!checker_) return finish({check_status::fail, broken_});
    in_flight_ = true;
    // Deadlines are not coalesced: a server-side timeout set just past it
    // (postgres's statement_timeout) must not win.
    owner_->reschedule(*this, started_ + spec_->timeout, milliseconds{1});
    try {
      checker_->start([self = shared_from_this(), attempt](check_result r) {
        if (self->stopped_ || attempt != self->attempt_ || !self->in_flight_) return;
        self->in_flight_ = false;
        self->finish(std::move(r));
      });
    } catch (const std::exception& e) {
      abandon();
      finish({check_status::fail, std::string("cannot start the check: ") + e.what()});
    }
  }

  void finish(check_result r) {
    const auto now = owner_->clock_.now();
    record(r, now, std::chrono::duration_cast<microseconds>(now - started_));
    // The interval runs from the start of an attempt, so a slow dependency
    // does not stretch the schedule; jitter keeps checks out of lockstep.
    // A reported check's next expiry is one interval (its ttl) away.
    if (reported()) return owner_->reschedule(*this, now + spec_->interval, slot_);
    const auto elapsed = std::chrono::duration_cast<milliseconds>(now - started_);
    const auto wait = std::max(milliseconds{0}, spec_->interval - elapsed);
    owner_->reschedule(*this, now + wait + owner_->jitter(spec_->interval), slot_);
  }

  void record(const check_result& r, check_clock::time_point now, microseconds took) {
    const check_status before = state_.status();
    const bool changed =
        state_.apply(r, spec_->rise, spec_->fall, now, owner_->clock_.wall_now(), took);
    owner_->on_result(*this, changed, before);
  }

  std::shared_ptr<const check_spec> spec_;
  milliseconds slot_;
  check_scheduler* owner_;
  check_state state_;
  std::shared_ptr<checker> checker_;
  // Why there is no checker.
  std::string broken_;
  std::size_t index_ = 0;
  bool in_flight_ = false;
  std::uint64_t attempt_ = 0;
  check_clock::time_point started_;
  bool stopped_ = false;
};

check_scheduler::check_scheduler(checker_context context, health_model& model)
    : context_(std::move(context)),
      clock_(context_.clock != nullptr ? *context_.clock : system_clock()),
      model_(model),
      tick_(clock_.make_timer(context_.executor)),
      rng_(std::random_device{}()) {
  context_.clock = &clock_;
}

check_scheduler::~check_scheduler() { stop(); }

milliseconds check_scheduler::jitter(milliseconds interval) {
  const auto spread = std::max<long long>(1, interval.count() / 10);
  return milliseconds{std::uniform_int_distribution<long long>(0, spread)(rng_)};
}

void check_scheduler::apply(const std::vector<check_spec>& specs) {
  const auto now = clock_.now();
  std::vector<std::shared_ptr<runner>> next;
  // When each runner of `next` is due: a kept one keeps its place.
  std::vector<time_point> due;
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
      kept->reload();
      due.push_back(timetable_.contains(kept->index()) ? timetable_.key_of(kept->index()) : now);
      next.push_back(std::move(kept));
      continue;
    }
    auto r = std::make_shared<runner>(std::make_shared<const check_spec>(spec), *this);
    // First attempts go out at once (spread over a few milliseconds) so
    // readiness does not wait a whole interval; a reported check's first
    // expiry is a whole ttl away.
    const auto first = r->reported() ? now + spec.interval
                                     : now + jitter(std::min(spec.interval, milliseconds{500}));
    due.push_back(timetable_round(first, now, r->slot()));
    next.push_back(std::move(r));
  }
  for (auto& r : runners_) {
    if (r) r->stop();
  }
  runners_ = std::move(next);
  timetable_.reset(runners_.size());
  reported_.clear();

  std::vector<check_snapshot> checks;
  checks.reserve(runners_.size());
  std::map<std::string, bool, std::less<>> takes_reports;
  for (std::size_t i = 0; i < runners_.size(); ++i) {
    runners_[i]->set_index(i);
    timetable_.set(i, due[i]);
    checks.push_back({runners_[i]->spec(), runners_[i]->state()});
    takes_reports.emplace(runners_[i]->spec()->name, runners_[i]->reported());
    if (runners_[i]->reported()) reported_.emplace(runners_[i]->spec()->name, runners_[i].get());
  }
  {
    const std::lock_guard lock(names_mutex_);
    takes_reports_ = std::move(takes_reports);
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
  reported_.clear();
  {
    const std::lock_guard lock(names_mutex_);
    takes_reports_.clear();
  }
  tick_->cancel();
  armed_ = time_point::max();
}

report_outcome check_scheduler::submit(std::string_view name, check_result result) {
  {
    const std::lock_guard lock(names_mutex_);
    const auto it = takes_reports_.find(name);
    if (it == takes_reports_.end()) return report_outcome::unknown_check;
    if (!it->second) return report_outcome::not_reported;
  }
  asio::post(context_.executor, [this, alive = std::weak_ptr<char>(alive_),
                                 name = std::string(name), result = std::move(result)]() mutable {
    if (!alive.expired()) deliver(name, std::move(result));
  });
  return report_outcome::accepted;
}

void check_scheduler::deliver(const std::string& name, check_result result) {
  // The check may have gone with a reload since the report was accepted.
  const auto it = reported_.find(name);
  if (it != reported_.end()) it->second->report(std::move(result));
}

void check_scheduler::reschedule(runner& r, time_point at, milliseconds slot) {
  timetable_.set(r.index(), timetable_round(at, clock_.now(), slot));
  arm();
}

void check_scheduler::turn() {
  const auto now = clock_.now();
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
  const auto next = timetable_.empty() ? time_point::max() : timetable_.top_key();
  if (next == armed_) return;
  armed_ = next;
  if (next == time_point::max()) {
    tick_->cancel();
    return;
  }
  // Replaces the wait for another time, whose handler then never runs.
  tick_->wait_until(next, [this] {
    armed_ = time_point::max();
    turn();
  });
}

void check_scheduler::on_result(runner& r, bool changed, check_status before) {
  const auto& spec = *r.spec();
  const auto& st = r.state();
  if (changed) {
    const auto level =
        st.status() == check_status::pass ? spdlog::level::info : spdlog::level::warn;
    const char* run = "consecutive passes";
    if (before == check_status::pending) {
      run = "first result";
    } else if (st.status() == check_status::fail) {
      run = "consecutive failures";
    } else if (st.status() == check_status::warn) {
      run = before == check_status::fail ? "consecutive results at warn or better"
                                         : "consecutive results at warn or worse";
    }
    const std::string count =
        before == check_status::pending ? std::string() : std::to_string(st.streak()) + " ";
    spdlog::log(level, "check {}: {} -> {} ({}{}): {}", spec.name, to_string(before),
                to_string(st.status()), count, run, st.reason());
  }
  // One cell and a few counters: the cost does not grow with the number
  // of checks.
  report(model_.update(r.index(), st).overall, clock_.now());
}

void check_scheduler::report(status overall, time_point now) {
  if (overall == last_overall_) return;
  std::string failing;
  std::string warning;
  for (const auto& r : runners_) {
    const auto& spec = *r->spec();
    const auto effective = r->state().effective(now, spec.stale_after());
    if (effective == check_status::fail) {
      failing += (failing.empty() ? "" : ", ") + spec.name + (spec.critical ? " (critical)" : "");
    } else if (effective == check_status::warn) {
      warning += (warning.empty() ? "" : ", ") + spec.name;
    }
  }
  std::string why = failing.empty() ? std::string() : "failing: " + failing;
  if (!warning.empty()) why += (why.empty() ? "" : "; ") + ("warning: " + warning);
  const auto level = overall == status::ok ? spdlog::level::info : spdlog::level::warn;
  spdlog::log(level, "status {} -> {}: {}", to_string(last_overall_), to_string(overall),
              why.empty() ? std::string("all checks pass") : why);
  last_overall_ = overall;
}

}  // namespace badges_health::health
