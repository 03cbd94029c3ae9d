// One kind of check attempt. The scheduler starts an attempt, enforces the
// timeout by calling cancel(), and ignores a completion that comes after.
//
// The health layer knows nothing about the server's sockets; the tcp and
// http probes do their own outbound I/O with Asio (and Beast's client-side
// parser for http), on the control io_context.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <memory>

#include "badges_health/health/check_spec.hpp"
#include "badges_health/health/check_state.hpp"

namespace badges_health::health {

class probe {
 public:
  using completion = std::function<void(probe_result)>;
  virtual ~probe() = default;
  /// Starts one attempt; `done` is called once, on the executor, unless the
  /// attempt was cancelled first (then it may or may not be called).
  virtual void start(completion done) = 0;
  /// Abandons the attempt in progress (closes sockets, cancels lookups).
  virtual void cancel() noexcept = 0;
};

/// Builds the probe for a spec's type.
std::shared_ptr<probe> make_probe(const check_spec& spec, boost::asio::any_io_executor ex);

}  // namespace badges_health::health
