// Checks answered from the local machine with one system call: `file`
// (the operator's maintenance switch) and `disk` (free space), made off the
// control thread.
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <mutex>

#include "badges_health/health/probe.hpp"

namespace badges_health::health {

/// The result of a file check right now (stat of the path).
probe_result check_file(const check_spec& spec);
/// The result of a disk check right now (statvfs of the path).
probe_result check_disk(const check_spec& spec);

/// Runs one of the functions above on a small pool of threads of its own,
/// never on the control thread, and posts the result back: a hung mount
/// (stat on a dead NFS server) stalls only its own check, never the
/// scheduler or the other checks. While one attempt's system call has not
/// returned, the next attempt fails at once instead of taking a second
/// thread.
class local_probe final : public probe, public std::enable_shared_from_this<local_probe> {
 public:
  using check_fn = probe_result (*)(const check_spec&);
  local_probe(check_spec spec, check_fn fn, boost::asio::any_io_executor ex);
  ~local_probe() override;
  void start(completion done) override;
  void cancel() noexcept override;

 private:
  // Shared with the pool thread running the call: the probe may be gone
  // (and the control io_context with it) by the time the call returns.
  struct call_state {
    std::mutex mutex;
    bool probe_gone = false;
  };

  void finish(probe_result result);

  check_spec spec_;
  check_fn fn_;
  boost::asio::any_io_executor ex_;
  std::shared_ptr<call_state> state_ = std::make_shared<call_state>();
  // Set while a call of this check runs, shared by every probe of the
  // check (the scheduler builds a new probe per attempt) and by the pool
  // thread: attempts after a hung call fail at once instead of taking the
  // pool's other threads.
  std::shared_ptr<std::atomic<bool>> busy_;
  // The completion of the attempt in progress; touched on the control
  // thread only.
  completion pending_;
};

}  // namespace badges_health::health
