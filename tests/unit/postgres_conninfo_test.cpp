// Passwords in libpq connection strings are replaced by **** wherever a
// connection string or a message about one is shown.
#include "badges_health/health/postgres_conninfo.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace badges_health::health {
namespace {

struct redaction_case {
  const char* name;
  const char* conninfo;
  const char* shown;
};

class redact_conninfo_cases : public ::testing::TestWithParam<redaction_case> {};

TEST_P(redact_conninfo_cases, hides_every_password) {
  EXPECT_EQ(redact_conninfo(GetParam().conninfo), GetParam().shown);
}

INSTANTIATE_TEST_SUITE_P(
    forms, redact_conninfo_cases,
    ::testing::Values(
        redaction_case{"uri", "postgresql://u:pw@h:5432/db?sslmode=prefer",
                       "postgresql://u:****@h:5432/db?sslmode=prefer"},
        redaction_case{"short_scheme", "postgres://u:pw@h/db", "postgres://u:****@h/db"},
        redaction_case{"uri_without_password", "postgresql://u@h/db", "postgresql://u@h/db"},
        redaction_case{"uri_without_user", "postgresql://h:5432/db", "postgresql://h:5432/db"},
        redaction_case{"uri_password_parameter", "postgresql://h/db?user=u&password=pw&x=1",
                       "postgresql://h/db?user=u&password=****&x=1"},
        redaction_case{"uri_unencoded_at", "postgresql://u:p@ss@h/db", "postgresql://u:****@h/db"},
        redaction_case{"uri_multi_host", "postgresql://u:pw@h1:1,h2:2/db",
                       "postgresql://u:****@h1:1,h2:2/db"},
        redaction_case{"keywords", "host=h password=pw user=u", "host=h password=**** user=u"},
        redaction_case{"keywords_spaced", "host=h password = pw", "host=h password = ****"},
        redaction_case{"keywords_quoted", "password='a b\\'c' host=h", "password=**** host=h"},
        redaction_case{"keywords_unterminated", "host=h password='a b", "host=h password=****"},
        redaction_case{"keywords_malformed", "host=h oops password=pw", "host=h oops ****"},
        redaction_case{"keywords_none", "host=h dbname=d", "host=h dbname=d"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(redact_passwords, hides_the_password_as_written_and_as_decoded) {
  const std::string conninfo = "postgresql://u:p%40ss@h/db";
  EXPECT_EQ(redact_passwords("token \"p%40ss\" and p@ss here", conninfo),
            "token \"****\" and **** here");
  EXPECT_EQ(redact_passwords("nothing secret", "host=h"), "nothing secret");
}

TEST(check_conninfo, accepts_a_valid_string_and_redacts_the_reason_otherwise) {
  EXPECT_TRUE(check_conninfo("postgresql://u:pw@h/db"));
  EXPECT_TRUE(check_conninfo("host=h dbname=d"));
  const auto checked = check_conninfo("postgresql://u:Sec%zzret@h/db");
  ASSERT_FALSE(checked);
  const std::string error = checked.error();
  EXPECT_THAT(error, ::testing::HasSubstr("invalid percent-encoded token"));
  EXPECT_THAT(error, ::testing::Not(::testing::HasSubstr("Sec")));
}

}  // namespace
}  // namespace badges_health::health
