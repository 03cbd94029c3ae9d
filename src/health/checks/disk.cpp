// The disk check: free space for unprivileged users on the file system of
// `path`, against thresholds that fail (min_free_*) and that warn
// (warn_free_*). Its observed value is the free space in bytes. The
// statvfs() runs on a thread of its own (blocking_call).
#include <sys/statvfs.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <optional>

#include "../blocking_call.hpp"
#include "badges_health/health/check_reader.hpp"
#include "badges_health/health/checker.hpp"

namespace badges_health::health {

namespace checks {
extern const check_type disk;
}  // namespace checks

namespace disk_check {
namespace {

struct disk_fields {
  std::string path;
  std::optional<std::uint64_t> min_free_bytes;
  std::optional<double> min_free_percent;
  std::optional<std::uint64_t> warn_free_bytes;
  std::optional<double> warn_free_percent;
  bool operator==(const disk_fields&) const = default;
};

std::string percent_text(double percent) {
  char text[32];
  std::snprintf(text, sizeof text, "%g%%", percent);
  return text;
}

// What is below which threshold, or empty.
std::string below(std::uint64_t free_bytes, double percent, std::optional<std::uint64_t> bytes,
                  const char* bytes_name, std::optional<double> min_percent,
                  const char* percent_name) {
  if (bytes && free_bytes < *bytes) return std::string(bytes_name) + " " + std::to_string(*bytes);
  if (min_percent && percent < *min_percent) {
    return std::string(percent_name) + " " + percent_text(*min_percent);
  }
  return {};
}

check_result measure(const disk_fields& f) {
  struct statvfs vfs {};
  if (::statvfs(f.path.c_str(), &vfs) != 0) {
    return {check_status::fail, "statvfs " + f.path + ": " + std::strerror(errno)};
  }
  const auto free_bytes = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  const double percent = vfs.f_blocks == 0 ? 0.0
                                           : 100.0 * static_cast<double>(vfs.f_bavail) /
                                                 static_cast<double>(vfs.f_blocks);
  char pct[32];
  std::snprintf(pct, sizeof pct, "%.1f%%", percent);
  const std::string seen = std::to_string(free_bytes) + " bytes (" + pct + ") free on " + f.path;
  const observation free{static_cast<double>(free_bytes), "bytes"};
  if (auto why = below(free_bytes, percent, f.min_free_bytes, "min_free_bytes", f.min_free_percent,
                       "min_free_percent");
      !why.empty()) {
    return {check_status::fail, seen + ", below " + why, free};
  }
  if (auto why = below(free_bytes, percent, f.warn_free_bytes, "warn_free_bytes",
                       f.warn_free_percent, "warn_free_percent");
      !why.empty()) {
    return {check_status::warn, seen + ", below " + why, free};
  }
  return {check_status::pass, seen, free};
}

class disk_settings final : public typed_settings<disk_fields> {
 public:
  using typed_settings::typed_settings;
  const check_type& type() const noexcept override { return checks::disk; }
  void describe(nlohmann::ordered_json& out) const override {
    out["path"] = fields_.path;
    const auto put = [&](const char* name, const auto& v) {
      if (v) out[name] = *v;
    };
    put("minFreeBytes", fields_.min_free_bytes);
    put("minFreePercent", fields_.min_free_percent);
    put("warnFreeBytes", fields_.warn_free_bytes);
    put("warnFreePercent", fields_.warn_free_percent);
  }
  std::shared_ptr<checker> make_checker(const check_spec&,
                                        const checker_context& context) const override {
    return std::make_shared<blocking_checker<disk_fields, &measure>>(fields_, context.executor);
  }
};

std::shared_ptr<const check_settings> read(const check_reader& in, check_spec&) {
  disk_fields f;
  f.path = in.non_empty_string("path");
  const auto bytes = [&](const char* name, std::optional<std::uint64_t>& out) {
    if (in.has(name)) out = in.integer(name, 0, UINT64_MAX);
  };
  const auto percent = [&](const char* name, std::optional<double>& out) {
    if (in.has(name)) out = in.number(name, 0, 100);
  };
  bytes("min_free_bytes", f.min_free_bytes);
  percent("min_free_percent", f.min_free_percent);
  bytes("warn_free_bytes", f.warn_free_bytes);
  percent("warn_free_percent", f.warn_free_percent);
  if (!f.min_free_bytes && !f.min_free_percent && !f.warn_free_bytes && !f.warn_free_percent) {
    in.fail_check(
        "a disk check needs min_free_bytes, min_free_percent, warn_free_bytes or "
        "warn_free_percent");
  }
  // A warning comes before the failure, or never.
  if (f.warn_free_bytes && f.min_free_bytes && *f.warn_free_bytes <= *f.min_free_bytes) {
    in.fail("warn_free_bytes",
            "must be above min_free_bytes (" + std::to_string(*f.min_free_bytes) + ")");
  }
  if (f.warn_free_percent && f.min_free_percent && *f.warn_free_percent <= *f.min_free_percent) {
    in.fail("warn_free_percent",
            "must be above min_free_percent (" + percent_text(*f.min_free_percent) + ")");
  }
  return std::make_shared<disk_settings>(std::move(f));
}

constexpr std::string_view fields[] = {"path", "min_free_bytes", "min_free_percent",
                                       "warn_free_bytes", "warn_free_percent"};

}  // namespace
}  // namespace disk_check

const check_type checks::disk{"disk", "system", disk_check::fields, false, &disk_check::read};

}  // namespace badges_health::health
