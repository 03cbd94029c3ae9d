// The Kubernetes-style text report of /readyz?verbose, /livez?verbose and
// /readyz/{name}: one line per check (`[+]db ok`, `[-]redis failed: ...`)
// and a last line, as kube-apiserver writes them for people with curl.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "badges_health/health/health_snapshot.hpp"
#include "badges_health/health/maintenance.hpp"
#include "badges_health/health/status.hpp"

namespace badges_health::app {

/// The Content-Type of every report.
inline constexpr std::string_view text_report_type = "text/plain; charset=utf-8";

/// Whether a report says why a check fails or warns: only to the bearer of
/// the details token (or anyone when none is set).
enum class report_reasons { withheld, shown };

/// Whether check `c` lets the service be ready at `now`: it has a result
/// and passes or warns.
bool check_passes(const health::check_snapshot& c, std::chrono::steady_clock::time_point now);

/// Appends the line of check `c` judged at `now`, newline included:
///   `[+]db ok`, `[+]db warn: <reason>`, `[-]db pending: no result yet`,
///   `[-]db failed: <reason>`, `[-]cache failed (not critical): <reason>`;
/// an excluded check is `[+]db excluded: ` and what its line would say.
/// A withheld reason reads `reason withheld`; control characters in a
/// reason become spaces, so a line stays one line.
void append_check_line(std::string& out, const health::check_snapshot& c,
                       std::chrono::steady_clock::time_point now, bool excluded,
                       report_reasons reasons);

/// /readyz?verbose: a line per check of `snap` in order (`skip` marks the
/// excluded ones, one flag per check), `[-]shutdown draining` while
/// `s` says so, `[-]maintenance until <end>: <reason>` while `maintenance`
/// is not null, then `readyz check passed` or `readyz check failed` as
/// `s.readiness()` says.
std::string readiness_report(const health::health_snapshot& snap, const std::vector<bool>& skip,
                             const health::summary& s,
                             const health::maintenance_window* maintenance, report_reasons reasons);

/// /readyz/{name} when that check does not let the service be ready, or the
/// service drains or is in maintenance: its line, `[-]shutdown draining`
/// while draining, the maintenance line while `maintenance` is not null,
/// then `readyz check failed`.
std::string check_failure_report(const health::check_snapshot& c,
                                 std::chrono::steady_clock::time_point now, bool draining,
                                 const health::maintenance_window* maintenance,
                                 report_reasons reasons);

/// /livez?verbose: liveness depends on no check, so its one check is that
/// the process answers: `[+]ping ok`, `livez check passed`.
std::string_view liveness_report() noexcept;

}  // namespace badges_health::app
