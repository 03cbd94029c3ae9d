// The one table of check types.
#include "badges_health/health/check_registry.hpp"

#include <array>

namespace badges_health::health {

// Each defined in src/health/checks/<name>.cpp.
namespace checks {
extern const check_type tcp, http, grpc, postgres, redis, file, disk, exec, ttl;
}  // namespace checks

namespace {

constexpr std::array<const check_type*, 9> registry = {
    &checks::tcp,  &checks::http, &checks::grpc, &checks::postgres, &checks::redis,
    &checks::file, &checks::disk, &checks::exec, &checks::ttl,
};

}  // namespace

std::span<const check_type* const> check_types() noexcept { return registry; }

const check_type* find_check_type(std::string_view name) noexcept {
  for (const check_type* t : registry) {
    if (t->name == name) return t;
  }
  return nullptr;
}

}  // namespace badges_health::health
