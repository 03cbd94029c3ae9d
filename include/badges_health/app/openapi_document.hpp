// The OpenAPI document of the service (openapi/badges-health.openapi.json),
// embedded at build time and served at GET /openapi.json.
#pragma once

#include <string_view>

namespace badges_health::app {

std::string_view openapi_document() noexcept;

}  // namespace badges_health::app
