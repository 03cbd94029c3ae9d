// Constant-time bearer token comparison.
#include "badges_health/app/bearer_auth.hpp"

#include "badges_health/http/http_error.hpp"

namespace badges_health::app {

bool bearer_matches(std::string_view authorization, std::string_view token) noexcept {
  constexpr std::string_view scheme = "Bearer ";
  if (authorization.size() < scheme.size()) return false;
  for (std::size_t i = 0; i < scheme.size(); ++i) {
    const char c = authorization[i];
    const char lower = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    const char want = (scheme[i] >= 'A' && scheme[i] <= 'Z')
                          ? static_cast<char>(scheme[i] - 'A' + 'a')
                          : scheme[i];
    if (lower != want) return false;  // the scheme is not secret
  }
  const std::string_view given = authorization.substr(scheme.size());
  // Walk the whole expected token whatever the given length; fold every
  // difference (and a length mismatch) into one accumulator.
  unsigned diff = given.size() == token.size() ? 0u : 1u;
  for (std::size_t i = 0; i < token.size(); ++i) {
    const char g = i < given.size() ? given[i] : '\0';
    diff |=
        static_cast<unsigned>(static_cast<unsigned char>(g) ^ static_cast<unsigned char>(token[i]));
  }
  return diff == 0;
}

std::optional<http::http_error> check_bearer(std::string_view authorization,
                                             std::string_view token) {
  if (token.empty() || bearer_matches(authorization, token)) return std::nullopt;
  return http::http_error::unauthorized(authorization.empty() ? "this endpoint needs a bearer token"
                                                              : "invalid bearer token");
}

}  // namespace badges_health::app
