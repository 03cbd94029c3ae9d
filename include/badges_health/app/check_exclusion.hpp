// The `exclude` query parameter of /status and /readyz: the checks a
// request leaves out of the answer, as kube-apiserver's `?exclude=etcd`
// (repeated, `?exclude=a&exclude=b`, or comma-separated, `?exclude=a,b`).
#pragma once

#include <boost/system/result.hpp>
#include <vector>

#include "badges_health/health/health_snapshot.hpp"
#include "badges_health/http/http_error.hpp"
#include "badges_health/http/request.hpp"

namespace badges_health::app {

/// Whether the request names `exclude` at all. Without it a handler
/// answers from the published summary and builds no snapshot.
bool requests_exclusion(const std::vector<http::query_param>& query) noexcept;

/// One flag per check of `snap`, in order: true for a check that an
/// `exclude` parameter of `query` names. Spaces around a name are ignored
/// and a name may come more than once; an empty name, or one that is no
/// check of `snap`, is a 400 INVALID_PARAMETER naming it.
boost::system::result<std::vector<bool>, http::http_error> excluded_checks(
    const std::vector<http::query_param>& query, const health::health_snapshot& snap);

}  // namespace badges_health::app
