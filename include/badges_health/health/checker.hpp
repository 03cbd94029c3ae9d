// A check's long-lived part: made when the check is configured, kept
// across attempts, replaced only when the check's spec changes. It owns
// what attempts share (a TLS context, a resolver, a kept connection, a busy
// flag) and runs one attempt at a time on the control executor.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>

#include "badges_health/health/check_state.hpp"

namespace badges_health::health {

class check_clock;

/// The most child processes exec checks may run at once (--max-exec-checks),
/// shared by every exec checker. Control executor only.
class child_process_limit {
 public:
  explicit child_process_limit(unsigned max) noexcept : max_(max) {}
  unsigned max() const noexcept { return max_; }
  unsigned running() const noexcept { return running_; }
  /// Takes a slot; false when all are taken.
  bool try_acquire() noexcept {
    if (running_ >= max_) return false;
    ++running_;
    return true;
  }
  void release() noexcept {
    if (running_ > 0) --running_;
  }

 private:
  unsigned max_;
  unsigned running_ = 0;
};

/// What checkers are made with.
struct checker_context {
  /// The control executor: every checker's I/O and completions run there.
  boost::asio::any_io_executor executor;
  const check_clock* clock = nullptr;
  std::shared_ptr<child_process_limit> child_processes;
};

class checker {
 public:
  using completion = std::function<void(check_result)>;
  virtual ~checker() = default;

  /// Starts one attempt (never while one is in flight). `done` is called
  /// once, on the executor (possibly before start() returns, for an attempt
  /// that cannot even begin), unless cancel() comes first; after cancel()
  /// it is not called.
  virtual void start(completion done) = 0;
  /// Abandons the attempt in progress (the scheduler's timeout): closes its
  /// sockets, kills its processes.
  virtual void cancel() noexcept = 0;
  /// SIGHUP, the check unchanged: reload what was loaded once (a CA store).
  virtual void reload() {}
  /// A report for a check whose type is `reported` (a ttl check): what to
  /// record. Such a checker's start() is called when no report has come
  /// for an interval.
  virtual check_result on_report(check_result r) { return r; }
};

}  // namespace badges_health::health
