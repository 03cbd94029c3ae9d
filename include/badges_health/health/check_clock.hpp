// Where the check engine reads the time and waits for it: the steady and
// system clocks in the service; a manual clock in tests, so that cadence,
// timeouts, ttl expiry and staleness are exact and nothing sleeps.
//
// An interface rather than Asio's basic_waitable_timer with a custom clock:
// a waitable timer's clock is a type with a static now(), so a manual one
// would be one global time shared by every test, and every class that reads
// the time (scheduler, health model, checkers) would become a template on
// it. Here the time is an object handed to whoever needs it.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace badges_health::health {

class check_clock {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;

  /// One pending wait at a time, like a steady_timer that is re-armed.
  class timer {
   public:
    virtual ~timer() = default;
    /// Calls `handler` on the timer's executor once `at` has come. Replaces
    /// the wait in progress, whose handler is then never called.
    virtual void wait_until(time_point at, std::function<void()> handler) = 0;
    /// Drops the wait in progress; its handler is never called.
    virtual void cancel() noexcept = 0;
  };

  virtual ~check_clock() = default;
  /// Monotonic time: schedules, deadlines, staleness. Safe from any thread.
  virtual time_point now() const noexcept = 0;
  /// Calendar time of the same instant, for the times shown to people.
  virtual std::chrono::system_clock::time_point wall_now() const noexcept = 0;
  virtual std::unique_ptr<timer> make_timer(boost::asio::any_io_executor ex) const = 0;
};

/// The steady and system clocks, and Asio's steady_timer.
const check_clock& system_clock();

/// A clock that moves only when told. advance() posts the handler of every
/// wait that has come due to its executor (in the order of their times);
/// the test then runs the io_context. Calendar time moves with it from a
/// fixed start.
class manual_clock final : public check_clock {
 public:
  manual_clock();
  ~manual_clock() override;

  time_point now() const noexcept override;
  std::chrono::system_clock::time_point wall_now() const noexcept override;
  std::unique_ptr<timer> make_timer(boost::asio::any_io_executor ex) const override;

  /// Moves the time forward by `d` and posts the handler of every wait that
  /// is due by then; they run when their executor runs.
  void advance(duration d);
  /// Moves the time forward by `d` in steps, stopping at each wait that
  /// falls due on the way to run `io`'s ready handlers (poll), so that each
  /// handler runs at its own time, as it would in real time.
  void run_for(boost::asio::io_context& io, duration d);
  /// The earliest pending wait, or time_point::max().
  time_point next_wait() const;

 private:
  class manual_timer;
  struct state;
  std::shared_ptr<state> state_;
};

}  // namespace badges_health::health
