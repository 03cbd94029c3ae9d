// file and disk checks, and the probe factory for every check type.
#include "local_probes.hpp"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "http_probe.hpp"
#include "postgres_probe.hpp"
#include "redis_probe.hpp"
#include "tcp_probe.hpp"

namespace badges_health::health {

probe_result check_file(const check_spec& spec) {
  struct stat st {};
  const bool present = ::stat(spec.path.c_str(), &st) == 0;
  if (!present && errno != ENOENT && errno != ENOTDIR) {
    return {false, "stat " + spec.path + ": " + std::strerror(errno)};
  }
  const std::string seen = spec.path + (present ? " is present" : " is absent");
  return {present == spec.pass_when_present, seen};
}

probe_result check_disk(const check_spec& spec) {
  struct statvfs vfs {};
  if (::statvfs(spec.path.c_str(), &vfs) != 0) {
    return {false, "statvfs " + spec.path + ": " + std::strerror(errno)};
  }
  const auto free_bytes = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  const double percent = vfs.f_blocks == 0 ? 0.0
                                           : 100.0 * static_cast<double>(vfs.f_bavail) /
                                                 static_cast<double>(vfs.f_blocks);
  char pct[32];
  std::snprintf(pct, sizeof pct, "%.1f%%", percent);
  const std::string seen = std::to_string(free_bytes) + " bytes (" + pct + ") free on " + spec.path;
  if (spec.min_free_bytes && free_bytes < *spec.min_free_bytes) {
    return {false, seen + ", below min_free_bytes " + std::to_string(*spec.min_free_bytes)};
  }
  if (spec.min_free_percent && percent < *spec.min_free_percent) {
    char want[32];
    std::snprintf(want, sizeof want, "%g%%", *spec.min_free_percent);
    return {false, seen + ", below min_free_percent " + want};
  }
  return {true, seen};
}

namespace {

// The threads that make the file and disk checks' system calls. Never
// destroyed: a thread stuck in a dead mount must not hold up the exit.
boost::asio::thread_pool& blocking_calls() {
  static auto* pool = new boost::asio::thread_pool(2);
  return *pool;
}

// The busy flag of a check (by name, unique in a config): the same one for
// every probe of the check while any of them (or a call still running on
// the pool) holds it.
std::shared_ptr<std::atomic<bool>> busy_flag(const std::string& check) {
  static std::mutex mutex;
  static std::unordered_map<std::string, std::weak_ptr<std::atomic<bool>>> flags;
  const std::lock_guard lock(mutex);
  auto& slot = flags[check];
  if (auto flag = slot.lock()) return flag;
  auto flag = std::make_shared<std::atomic<bool>>(false);
  slot = flag;
  // Forget the checks no probe uses any more (those of an old config).
  std::erase_if(flags, [](const auto& entry) { return entry.second.expired(); });
  return flag;
}

}  // namespace

local_probe::local_probe(check_spec spec, check_fn fn, boost::asio::any_io_executor ex)
    : spec_(std::move(spec)), fn_(fn), ex_(std::move(ex)), busy_(busy_flag(spec_.name)) {}

local_probe::~local_probe() {
  const std::lock_guard lock(state_->mutex);
  state_->probe_gone = true;
}

void local_probe::start(completion done) {
  if (busy_->exchange(true)) {
    boost::asio::post(ex_, [done = std::move(done), path = spec_.path] {
      done(
          {false, "the previous check of " + path + " has not returned yet (a hung file system?)"});
    });
    return;
  }
  pending_ = std::move(done);
  boost::asio::post(blocking_calls(),
                    [state = state_, busy = busy_, fn = fn_, spec = spec_, ex = ex_,
                     self = std::weak_ptr<local_probe>(weak_from_this())] {
                      probe_result result = fn(spec);
                      busy->store(false);
                      const std::lock_guard lock(state->mutex);
                      // Posting to the control io_context only while the probe lives: it is
                      // destroyed (under this mutex) before that io_context is.
                      if (state->probe_gone) return;
                      boost::asio::post(ex, [self, result = std::move(result)]() mutable {
                        if (auto alive = self.lock()) alive->finish(std::move(result));
                      });
                    });
}

void local_probe::finish(probe_result result) {
  if (auto done = std::exchange(pending_, nullptr)) done(std::move(result));
}

void local_probe::cancel() noexcept { pending_ = nullptr; }

std::shared_ptr<probe> make_probe(const check_spec& spec, boost::asio::any_io_executor ex) {
  switch (spec.type) {
    case check_type::tcp:
      return std::make_shared<tcp_probe>(spec.host, spec.port, std::move(ex));
    case check_type::http:
      return std::make_shared<http_probe>(spec, std::move(ex));
    case check_type::file:
      return std::make_shared<local_probe>(spec, &check_file, std::move(ex));
    case check_type::disk:
      return std::make_shared<local_probe>(spec, &check_disk, std::move(ex));
    case check_type::postgres:
      return std::make_shared<postgres_probe>(spec, std::move(ex));
    case check_type::redis:
      return std::make_shared<redis_probe>(spec, std::move(ex));
  }
  return nullptr;
}

}  // namespace badges_health::health
