// What a dependency check is, as validated from the config file: plain
// data, compared field by field on reload to keep the state of checks that
// did not change.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace badges_health::health {

enum class check_type { tcp, http, file, disk };

std::string_view to_string(check_type t) noexcept;

/// An inclusive range of HTTP status codes.
struct status_range {
  unsigned low;
  unsigned high;
  bool operator==(const status_range&) const = default;
};

struct check_spec {
  std::string name;
  check_type type = check_type::tcp;
  bool critical = true;
  std::chrono::milliseconds interval{10'000};
  std::chrono::milliseconds timeout{2'000};
  unsigned rise = 2;
  unsigned fall = 3;

  // tcp and http: where to connect.
  std::string host;
  unsigned short port = 0;

  // http: the URL as written, the request target, what passes.
  std::string url;
  std::string target = "/";
  std::vector<status_range> expect_status{{200, 399}};
  std::optional<std::string> expect_body;

  // file and disk.
  std::string path;
  // file: the check passes when the file is present (true) or absent (false).
  bool pass_when_present = false;
  // disk: thresholds of free space for unprivileged users.
  std::optional<std::uint64_t> min_free_bytes;
  std::optional<double> min_free_percent;

  /// Age after which the last result no longer counts: 2 x interval + timeout.
  std::chrono::milliseconds stale_after() const noexcept { return 2 * interval + timeout; }

  bool operator==(const check_spec&) const = default;
};

}  // namespace badges_health::health
