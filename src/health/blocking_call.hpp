// A system call that may hang (stat on a dead NFS mount) for the file and
// disk checks: made on a thread of its own, never on the control thread,
// with the result posted back. While a checker's call has not returned, its
// next attempt fails at once instead of starting another thread: a hung
// mount costs one thread and stalls only its own check.
//
// One short-lived thread per call rather than a pool: a pool would be
// process-wide or have to be joined at exit, and a thread stuck in a dead
// mount can be neither joined nor reused. These checks run every few
// seconds; creating a thread costs microseconds.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>
#include <mutex>

#include "badges_health/health/checker.hpp"

namespace badges_health::health {

class blocking_call {
 public:
  explicit blocking_call(boost::asio::any_io_executor ex);
  /// A call still running posts nothing once its owner is gone.
  ~blocking_call();
  blocking_call(const blocking_call&) = delete;
  blocking_call& operator=(const blocking_call&) = delete;

  /// Runs `fn` on a new thread and calls `done` with its result on the
  /// executor, unless cancel() comes first. While the previous call has not
  /// returned, `done` gets (posted) a failure with `busy_output` instead.
  void start(std::function<check_result()> fn, checker::completion done, std::string busy_output);
  /// Drops the completion of the call in progress (which keeps running).
  void cancel() noexcept;

 private:
  // Shared with the thread, which may outlive the owner.
  struct shared_state {
    std::mutex mutex;
    bool owner_gone = false;
    std::atomic<bool> busy{false};
  };

  void finish(std::uint64_t call, check_result r);

  boost::asio::any_io_executor ex_;
  std::shared_ptr<shared_state> state_ = std::make_shared<shared_state>();
  // Lets the posted result find this object, if it still exists.
  std::shared_ptr<blocking_call*> self_ = std::make_shared<blocking_call*>(this);
  checker::completion done_;
  std::uint64_t call_ = 0;
};

/// The checker of a type whose attempt is one blocking call, `look(fields)`,
/// on a path (file and disk).
template <class Fields, check_result (*look)(const Fields&)>
class blocking_checker final : public checker {
 public:
  blocking_checker(Fields fields, boost::asio::any_io_executor ex)
      : fields_(std::move(fields)), call_(std::move(ex)) {}

  void start(completion done) override {
    call_.start(
        [f = fields_] { return look(f); }, std::move(done),
        "the previous check of " + fields_.path + " has not returned yet (a hung file system?)");
  }
  void cancel() noexcept override { call_.cancel(); }

 private:
  Fields fields_;
  blocking_call call_;
};

}  // namespace badges_health::health
