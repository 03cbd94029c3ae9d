// Bearer-token checks for the endpoints that reveal internals (verbose
// status, metrics). The comparison takes the same time wherever the first
// difference is, so the token cannot be guessed byte by byte.
#pragma once

#include <optional>
#include <string_view>

#include "badges_health/http/http_error.hpp"

namespace badges_health::app {

/// True when `authorization` is "Bearer <token>" for exactly `token`.
bool bearer_matches(std::string_view authorization, std::string_view token) noexcept;

/// 401 (code UNAUTHORIZED, with WWW-Authenticate) unless `token` is empty
/// or the header carries it.
std::optional<http::http_error> check_bearer(std::string_view authorization,
                                             std::string_view token);

}  // namespace badges_health::app
