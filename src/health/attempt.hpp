// The completion of a checker's attempt in flight. Attempts are numbered,
// so a checker can keep its sockets and resolver across attempts: a handler
// of an earlier attempt (cancelled, its completion dropped) finds another
// number and completes nothing.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/post.hpp>
#include <cstdint>
#include <utility>

#include "badges_health/health/checker.hpp"

namespace badges_health::health {

class attempt_slot {
 public:
  explicit attempt_slot(boost::asio::any_io_executor ex) : ex_(std::move(ex)) {}

  const boost::asio::any_io_executor& executor() const noexcept { return ex_; }

  /// A new attempt completing with `done`; its number.
  std::uint64_t begin(checker::completion done) {
    done_ = std::move(done);
    return ++number_;
  }
  /// Attempt `n` is the one in flight, not cancelled nor finished.
  bool current(std::uint64_t n) const noexcept { return n == number_ && static_cast<bool>(done_); }
  bool in_flight() const noexcept { return static_cast<bool>(done_); }

  /// Completes attempt `n` with `r`, if it is still in flight. From an I/O
  /// handler (never from within start()).
  void finish(std::uint64_t n, check_result r) {
    if (!current(n)) return;
    std::exchange(done_, nullptr)(std::move(r));
  }
  /// finish(), posted: for an attempt that fails within start().
  void finish_later(std::uint64_t n, check_result r) {
    if (!current(n)) return;
    boost::asio::post(ex_, [done = std::exchange(done_, nullptr), r = std::move(r)]() mutable {
      done(std::move(r));
    });
  }
  /// Drops the completion of the attempt in flight.
  void cancel() noexcept {
    done_ = nullptr;
    ++number_;
  }

 private:
  boost::asio::any_io_executor ex_;
  checker::completion done_;
  std::uint64_t number_ = 0;
};

}  // namespace badges_health::health
