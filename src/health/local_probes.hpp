// Checks answered from the local machine with one system call: `file`
// (the operator's maintenance switch) and `disk` (free space).
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include "badges_health/health/probe.hpp"

namespace badges_health::health {

/// The result of a file check right now (stat of the path).
probe_result check_file(const check_spec& spec);
/// The result of a disk check right now (statvfs of the path).
probe_result check_disk(const check_spec& spec);

/// Runs one of the functions above and posts its result, so every probe
/// completes asynchronously the same way.
class local_probe final : public probe {
 public:
  using check_fn = probe_result (*)(const check_spec&);
  local_probe(check_spec spec, check_fn fn, boost::asio::any_io_executor ex)
      : spec_(std::move(spec)), fn_(fn), ex_(std::move(ex)) {}
  void start(completion done) override;
  void cancel() noexcept override {}

 private:
  check_spec spec_;
  check_fn fn_;
  boost::asio::any_io_executor ex_;
};

}  // namespace badges_health::health
