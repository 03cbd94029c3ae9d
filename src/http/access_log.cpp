// Metrics first (always), the access log after (when on).
#include "badges_health/http/access_log.hpp"

namespace badges_health::http {

void record_answer(const answer_recorder& to, const answered& a) {
  if (to.metrics != nullptr) to.metrics->record(a.route, a.method, a.entry.status, a.handled_in);
  if (to.log != nullptr && *to.log) (*to.log)(a.entry);
}

void record_grpc_call(const answer_recorder& to, std::size_t method, util::grpc::status_code status,
                      const access_entry& entry) {
  if (to.metrics != nullptr) to.metrics->record_grpc(method, status, entry.duration);
  if (to.log != nullptr && *to.log) (*to.log)(entry);
}

}  // namespace badges_health::http
