#include "access_log.hpp"

#include <spdlog/spdlog.h>

namespace badges_health::http {

void record_answer(request_metrics* metrics, bool access_log, const answered& a) {
  if (metrics != nullptr) metrics->record(a.route, a.method, a.status, a.took);
  if (!access_log) return;
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(a.took).count();
  if (a.method_text.empty()) {
    spdlog::info("access - - - {} {}us", a.status, micros);
  } else {
    spdlog::info("access {} {} {} {} {}us", a.method_text, a.target, to_string(a.protocol),
                 a.status, micros);
  }
}

}  // namespace badges_health::http
