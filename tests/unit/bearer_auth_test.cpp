// Bearer token matching for verbose status and metrics.
#include "badges_health/app/bearer_auth.hpp"

#include <gtest/gtest.h>

#include <optional>

#include "badges_health/http/http_error.hpp"

namespace badges_health::app {
namespace {

TEST(bearer_auth, exact_token_matches) { EXPECT_TRUE(bearer_matches("Bearer s3cret", "s3cret")); }

TEST(bearer_auth, scheme_is_case_insensitive) {
  EXPECT_TRUE(bearer_matches("bearer s3cret", "s3cret"));
  EXPECT_TRUE(bearer_matches("BEARER s3cret", "s3cret"));
}

TEST(bearer_auth, wrong_prefix_longer_shorter_or_other_scheme_fail) {
  EXPECT_FALSE(bearer_matches("Bearer s3creT", "s3cret"));
  EXPECT_FALSE(bearer_matches("Bearer s3cret2", "s3cret"));
  EXPECT_FALSE(bearer_matches("Bearer s3cre", "s3cret"));
  EXPECT_FALSE(bearer_matches("Basic s3cret", "s3cret"));
  EXPECT_FALSE(bearer_matches("", "s3cret"));
  EXPECT_FALSE(bearer_matches("Bearer ", "s3cret"));
}

TEST(bearer_auth, empty_configured_token_lets_everyone_in) {
  EXPECT_FALSE(check_bearer("", "").has_value());
  EXPECT_FALSE(check_bearer("Bearer anything", "").has_value());
}

TEST(bearer_auth, the_configured_token_passes) {
  EXPECT_FALSE(check_bearer("Bearer s3cret", "s3cret").has_value());
}

TEST(bearer_auth, missing_token_is_401_with_challenge) {
  const std::optional<http::http_error> e = check_bearer("", "t");
  ASSERT_TRUE(e.has_value()) << "expected http_error";
  EXPECT_EQ(e->status(), boost::beast::http::status::unauthorized);
  EXPECT_EQ(e->code(), "UNAUTHORIZED");
  ASSERT_EQ(e->headers().size(), 1u);
  EXPECT_EQ(e->headers()[0].first, "WWW-Authenticate");
}

TEST(bearer_auth, wrong_token_is_401_with_challenge) {
  const std::optional<http::http_error> e = check_bearer("Bearer guess", "t");
  ASSERT_TRUE(e.has_value()) << "expected http_error";
  EXPECT_EQ(e->status(), boost::beast::http::status::unauthorized);
  EXPECT_EQ(e->code(), "UNAUTHORIZED");
  ASSERT_EQ(e->headers().size(), 1u);
  EXPECT_EQ(e->headers()[0].first, "WWW-Authenticate");
}

}  // namespace
}  // namespace badges_health::app
