// Hysteresis and staleness of one check.
#include "badges_health/health/check_state.hpp"

#include <algorithm>

namespace badges_health::health {

namespace {

// pass < warn < fail: how bad a result is.
int badness(check_status s) noexcept {
  switch (s) {
    case check_status::pass:
      return 0;
    case check_status::warn:
      return 1;
    case check_status::fail:
    case check_status::pending:
      break;
  }
  return 2;
}

}  // namespace

std::string_view to_string(check_status s) noexcept {
  switch (s) {
    case check_status::pending:
      return "pending";
    case check_status::pass:
      return "pass";
    case check_status::warn:
      return "warn";
    case check_status::fail:
      return "fail";
  }
  return "fail";
}

bool check_state::apply(const check_result& r, unsigned rise, unsigned fall, steady_time now,
                        system_time wall_now, std::chrono::microseconds duration) {
  // A result is pass, warn or fail; anything else is a failure.
  const check_status result = r.status == check_status::pass || r.status == check_status::warn
                                  ? r.status
                                  : check_status::fail;
  observed_steady_ = now;
  observed_at_ = wall_now;
  duration_ = duration;
  observed_ = r.observed;
  last_output_ = r.output;
  consecutive_passes_ = result == check_status::pass ? consecutive_passes_ + 1 : 0;
  consecutive_failures_ = result == check_status::fail ? consecutive_failures_ + 1 : 0;
  if (result == check_status::fail) {
    ++total_failures_;
    failure_output_ = r.output;
  } else if (result == check_status::warn) {
    warning_output_ = r.output;
  }

  const check_status before = status_;
  if (status_ == check_status::pending) {
    // The first result decides at once, as Envoy does at start-up.
    status_ = result;
    streak_ = 1;
  } else if (badness(result) > badness(status_)) {
    better_run_ = 0;
    worse_reach_ =
        worse_run_ == 0 || badness(result) < badness(worse_reach_) ? result : worse_reach_;
    if (++worse_run_ >= fall) {
      status_ = worse_reach_;
      streak_ = worse_run_;
    }
  } else if (badness(result) < badness(status_)) {
    worse_run_ = 0;
    better_reach_ =
        better_run_ == 0 || badness(result) > badness(better_reach_) ? result : better_reach_;
    if (++better_run_ >= rise) {
      status_ = better_reach_;
      streak_ = better_run_;
    }
  } else {
    worse_run_ = better_run_ = 0;
  }
  if (status_ == before) return false;
  worse_run_ = better_run_ = 0;
  if (before != check_status::pending) ++total_transitions_;
  auto next = transitions_ ? std::make_shared<std::vector<transition>>(*transitions_)
                           : std::make_shared<std::vector<transition>>();
  if (next->size() == max_transitions) next->erase(next->begin());
  next->push_back(transition{wall_now, before, status_, r.output});
  transitions_ = std::move(next);
  return true;
}

const std::string& check_state::reason() const noexcept {
  switch (status_) {
    case check_status::fail:
      return failure_output_;
    case check_status::warn:
      return warning_output_;
    case check_status::pass:
    case check_status::pending:
      break;
  }
  return last_output_;
}

const std::vector<transition>& check_state::transitions() const noexcept {
  static const std::vector<transition> none;
  return transitions_ ? *transitions_ : none;
}

bool check_state::stale(steady_time now, std::chrono::milliseconds stale_after) const noexcept {
  return now > observed_steady_ + stale_after;
}

check_status check_state::effective(steady_time now,
                                    std::chrono::milliseconds stale_after) const noexcept {
  return stale(now, stale_after) ? check_status::fail : status_;
}

}  // namespace badges_health::health
