// http:// and https:// URLs as the http check and the probe command take them.
#pragma once

#include <string>

#include "badges_health/health/check_spec.hpp"

namespace badges_health::app {

/// Splits `url` (http[s]://host[:port][/path][?query], IPv6 literals in
/// brackets) into spec.host, spec.port, spec.target, spec.tls and spec.url. Returns
/// what is wrong with it, or an empty string.
std::string parse_http_url(const std::string& url, health::check_spec& spec);

}  // namespace badges_health::app
