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

enum class check_type { tcp, http, file, disk, postgres, redis };

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

  // tcp, http and redis: where to connect.
  std::string host;
  unsigned short port = 0;

  // postgres: a libpq connection string (URI or key=value form, any
  // ${VAR} already replaced) and the query whose success is a pass. The
  // conninfo may hold a password: show it only through redact_conninfo.
  std::string conninfo;
  std::string query = "SELECT 1";

  // redis: AUTH credentials, empty when not given (never shown).
  std::string username;
  std::string password;

  // http: the URL as written, the request target, what passes.
  std::string url;
  std::string target = "/";
  std::vector<status_range> expect_status{{200, 399}};
  std::optional<std::string> expect_body;
  // http over TLS (an https:// URL): the certificate and host name are
  // verified against the system store, or `ca_file` when set; `insecure`
  // turns verification off (and is logged as a warning).
  bool tls = false;
  std::string ca_file;
  bool insecure = false;
  // http: a JSON Pointer (RFC 6901) into the body and the JSON value it
  // must equal, written as JSON text ("true", "\"ok\"", "3").
  struct json_expectation {
    std::string pointer;
    std::string equals;
    bool operator==(const json_expectation&) const = default;
  };
  std::optional<json_expectation> expect_json;

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
