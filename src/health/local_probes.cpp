// file and disk checks, and the probe factory for every check type.
#include "local_probes.hpp"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <cmath>
#include <cstring>

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

void local_probe::start(completion done) {
  boost::asio::post(
      ex_, [result = fn_(spec_), done = std::move(done)]() mutable { done(std::move(result)); });
}

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
