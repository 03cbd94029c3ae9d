// Hysteresis and staleness of one check.
#include "badges_health/health/check_state.hpp"

#include "badges_health/health/check_spec.hpp"

namespace badges_health::health {

std::string_view to_string(check_type t) noexcept {
  switch (t) {
    case check_type::tcp:
      return "tcp";
    case check_type::http:
      return "http";
    case check_type::file:
      return "file";
    case check_type::disk:
      return "disk";
    case check_type::postgres:
      return "postgres";
    case check_type::redis:
      return "redis";
  }
  return "unknown";
}

std::string_view to_string(check_status s) noexcept {
  switch (s) {
    case check_status::pending:
      return "pending";
    case check_status::pass:
      return "pass";
    case check_status::fail:
      return "fail";
  }
  return "fail";
}

bool check_state::apply(const probe_result& r, unsigned rise, unsigned fall, steady_time now,
                        system_time wall_now, std::chrono::microseconds duration) {
  observed_steady_ = now;
  observed_at_ = wall_now;
  duration_ = duration;
  last_output_ = r.output;
  if (r.pass) {
    ++consecutive_passes_;
    consecutive_failures_ = 0;
  } else {
    ++consecutive_failures_;
    consecutive_passes_ = 0;
    ++total_failures_;
    failure_output_ = r.output;
  }

  const check_status before = status_;
  if (status_ == check_status::pending) {
    // The first result decides at once, as Envoy does at start-up.
    status_ = r.pass ? check_status::pass : check_status::fail;
  } else if (status_ == check_status::pass && consecutive_failures_ >= fall) {
    status_ = check_status::fail;
  } else if (status_ == check_status::fail && consecutive_passes_ >= rise) {
    status_ = check_status::pass;
  }
  if (status_ == before) return false;
  auto next = transitions_ ? std::make_shared<std::vector<transition>>(*transitions_)
                           : std::make_shared<std::vector<transition>>();
  if (next->size() == max_transitions) next->erase(next->begin());
  next->push_back(transition{wall_now, before, status_, r.output});
  transitions_ = std::move(next);
  return true;
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
