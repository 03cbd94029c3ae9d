// Calls that may hang, on threads of their own.
#include "blocking_call.hpp"

#include <boost/asio/post.hpp>
#include <thread>

namespace badges_health::health {

namespace asio = boost::asio;

blocking_call::blocking_call(asio::any_io_executor ex) : ex_(std::move(ex)) {}

blocking_call::~blocking_call() {
  // Under the mutex: a thread returning now either posted before this (and
  // its handler finds self_ gone) or sees owner_gone and posts nothing, so
  // it never posts to an executor that may be going away.
  const std::lock_guard lock(state_->mutex);
  state_->owner_gone = true;
}

void blocking_call::start(std::function<check_result()> fn, checker::completion done,
                          std::string busy_output) {
  if (state_->busy.exchange(true)) {
    asio::post(ex_, [done = std::move(done), out = std::move(busy_output)] {
      done({check_status::fail, out});
    });
    return;
  }
  done_ = std::move(done);
  const std::uint64_t call = ++call_;
  try {
    std::thread([state = state_, fn = std::move(fn), ex = ex_,
                 self = std::weak_ptr<blocking_call*>(self_), call] {
      check_result result = fn();
      state->busy.store(false);
      const std::lock_guard lock(state->mutex);
      if (state->owner_gone) return;
      asio::post(ex, [self, call, result = std::move(result)]() mutable {
        if (const auto owner = self.lock()) (*owner)->finish(call, std::move(result));
      });
    }).detach();
  } catch (const std::system_error& e) {
    state_->busy.store(false);
    asio::post(ex_, [self = std::weak_ptr<blocking_call*>(self_), call,
                     why = std::string("cannot start a thread for the call: ") + e.what()] {
      if (const auto owner = self.lock()) (*owner)->finish(call, {check_status::fail, why});
    });
  }
}

void blocking_call::finish(std::uint64_t call, check_result r) {
  if (call != call_ || !done_) return;
  std::exchange(done_, nullptr)(std::move(r));
}

void blocking_call::cancel() noexcept {
  done_ = nullptr;
  ++call_;
}

}  // namespace badges_health::health
