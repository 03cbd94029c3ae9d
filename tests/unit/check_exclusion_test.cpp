// Reading `exclude` against a snapshot's checks: repeated and
// comma-separated names, spaces, repeats, and the names that are refused.
#include "badges_health/app/check_exclusion.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "badges_health/health/check_spec.hpp"

namespace badges_health::app {
namespace {

health::health_snapshot snapshot_of(const std::vector<std::string>& names) {
  health::health_snapshot snap;
  for (const auto& name : names) {
    auto spec = std::make_shared<health::check_spec>();
    spec->name = name;
    snap.checks.push_back({spec, health::check_state{}});
  }
  return snap;
}

class check_exclusion_test : public ::testing::Test {
 protected:
  health::health_snapshot snap_ = snapshot_of({"db", "redis", "catalyst"});
};

TEST_F(check_exclusion_test, without_exclude_nothing_is_excluded) {
  const std::vector<http::query_param> query{{"verbose", "true"}};
  EXPECT_FALSE(requests_exclusion(query));
  const auto skip = excluded_checks(query, snap_);
  ASSERT_TRUE(skip);
  EXPECT_EQ(*skip, (std::vector<bool>{false, false, false}));
}

TEST_F(check_exclusion_test, repeated_and_comma_separated_names_add_up) {
  const std::vector<http::query_param> query{{"exclude", "db"}, {"exclude", "catalyst"}};
  EXPECT_TRUE(requests_exclusion(query));
  auto skip = excluded_checks(query, snap_);
  ASSERT_TRUE(skip);
  EXPECT_EQ(*skip, (std::vector<bool>{true, false, true}));
  skip = excluded_checks({{"exclude", "redis, db"}}, snap_);
  ASSERT_TRUE(skip);
  EXPECT_EQ(*skip, (std::vector<bool>{true, true, false}));
  skip = excluded_checks({{"exclude", "redis,redis"}, {"exclude", "redis"}}, snap_);
  ASSERT_TRUE(skip);
  EXPECT_EQ(*skip, (std::vector<bool>{false, true, false}));
}

TEST_F(check_exclusion_test, an_unknown_name_is_a_400_naming_it) {
  for (const char* value : {"nope", "db,nope", "DB"}) {
    const auto skip = excluded_checks({{"exclude", value}}, snap_);
    ASSERT_FALSE(skip) << value;
    EXPECT_EQ(skip.error().status(), boost::beast::http::status::bad_request);
    EXPECT_EQ(skip.error().code(), "INVALID_PARAMETER");
  }
  EXPECT_EQ(excluded_checks({{"exclude", "db,nope"}}, snap_).error().message(),
            "unknown check in exclude: nope");
}

TEST_F(check_exclusion_test, an_empty_name_is_a_400) {
  for (const char* value : {"", "db,", ",db", "db,,redis", " "}) {
    const auto skip = excluded_checks({{"exclude", value}}, snap_);
    ASSERT_FALSE(skip) << "'" << value << "'";
    EXPECT_EQ(skip.error().code(), "INVALID_PARAMETER");
  }
}

}  // namespace
}  // namespace badges_health::app
