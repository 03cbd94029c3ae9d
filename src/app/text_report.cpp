// Lines of the Kubernetes-style report. `[+]` marks a check that does not
// stand in the way of readiness (it passes or warns, or is excluded), `[-]`
// one that fails or has no result yet; a failing check that is not
// critical is `[-]` too, and `(not critical)` says why the report can
// still pass.
#include "badges_health/app/text_report.hpp"

#include "badges_health/util/timestamp.hpp"

namespace badges_health::app {

namespace {

constexpr std::string_view withheld_reason = "reason withheld";

// Appends `text` with its control characters made spaces, so that a
// line of the report stays one line.
void append_on_one_line(std::string& out, std::string_view text) {
  for (const char ch : text) {
    const auto byte = static_cast<unsigned char>(ch);
    out.push_back(byte < 0x20 || byte == 0x7f ? ' ' : ch);
  }
}

void append_reason_text(std::string& out, const health::check_snapshot& c,
                        std::chrono::steady_clock::time_point now, report_reasons reasons) {
  if (reasons == report_reasons::withheld) {
    out.append(withheld_reason);
    return;
  }
  append_on_one_line(out, health::effective_reason(c, now));
}

// The lines that stand for the service as a whole: draining, and an
// operator's maintenance window with its end (and its reason, the
// operator's words, for those who may see reasons).
void append_service_lines(std::string& out, bool draining,
                          const health::maintenance_window* maintenance, report_reasons reasons) {
  if (draining) out.append("[-]shutdown draining\n");
  if (maintenance == nullptr) return;
  out.append("[-]maintenance until ").append(util::format_iso8601(maintenance->until));
  out.append(": ");
  if (reasons == report_reasons::withheld) {
    out.append(withheld_reason);
  } else {
    append_on_one_line(out, maintenance->reason);
  }
  out.push_back('\n');
}

}  // namespace

bool check_passes(const health::check_snapshot& c, std::chrono::steady_clock::time_point now) {
  if (!c.state.has_result()) return false;
  const auto effective = c.state.effective(now, c.spec->stale_after());
  return effective == health::check_status::pass || effective == health::check_status::warn;
}

void append_check_line(std::string& out, const health::check_snapshot& c,
                       std::chrono::steady_clock::time_point now, bool excluded,
                       report_reasons reasons) {
  out.append(excluded || check_passes(c, now) ? "[+]" : "[-]");
  out.append(c.spec->name);
  out.append(excluded ? " excluded: " : " ");
  if (!c.state.has_result()) {
    out.append("pending: no result yet\n");
    return;
  }
  switch (c.state.effective(now, c.spec->stale_after())) {
    case health::check_status::pass:
      out.append("ok");
      break;
    case health::check_status::warn:
      out.append("warn: ");
      append_reason_text(out, c, now, reasons);
      break;
    case health::check_status::pending:  // has a result: not reached
    case health::check_status::fail:
      out.append(c.spec->critical ? "failed: " : "failed (not critical): ");
      append_reason_text(out, c, now, reasons);
      break;
  }
  out.push_back('\n');
}

std::string readiness_report(const health::health_snapshot& snap, const std::vector<bool>& skip,
                             const health::summary& s,
                             const health::maintenance_window* maintenance,
                             report_reasons reasons) {
  std::string out;
  out.reserve(32 + snap.checks.size() * 48);
  for (std::size_t i = 0; i < snap.checks.size(); ++i) {
    append_check_line(out, snap.checks[i], snap.taken_at, i < skip.size() && skip[i], reasons);
  }
  append_service_lines(out, s.draining, s.maintenance ? maintenance : nullptr, reasons);
  out.append(s.readiness() ? "readyz check passed\n" : "readyz check failed\n");
  return out;
}

std::string check_failure_report(const health::check_snapshot& c,
                                 std::chrono::steady_clock::time_point now, bool draining,
                                 const health::maintenance_window* maintenance,
                                 report_reasons reasons) {
  std::string out;
  append_check_line(out, c, now, false, reasons);
  append_service_lines(out, draining, maintenance, reasons);
  out.append("readyz check failed\n");
  return out;
}

std::string_view liveness_report() noexcept { return "[+]ping ok\nlivez check passed\n"; }

}  // namespace badges_health::app
