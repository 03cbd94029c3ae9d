// The registry of check types: one row per type, each defined in its own
// unit under src/health/checks/. Adding a type is a new unit and a row in
// check_registry.cpp; nothing else switches on the type.
#pragma once

#include <span>
#include <string_view>

#include "badges_health/health/check_spec.hpp"

namespace badges_health::health {

/// Every type, in the order the documentation lists them.
std::span<const check_type* const> check_types() noexcept;

/// The type named `name`, or null.
const check_type* find_check_type(std::string_view name) noexcept;

}  // namespace badges_health::health
