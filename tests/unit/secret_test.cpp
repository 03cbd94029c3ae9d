// Unit tests for secrets: reading a secret file (one line, trailing line
// break ignored, clear errors naming the variable) and reloading it (copies
// see the new value; a failed reload keeps the old one).
#include "badges_health/app/secret.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "support/temp_dir.hpp"

namespace badges_health::app {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr const char* variable = "BADGES_HEALTH_DETAILS_TOKEN_FILE";

struct file_case {
  const char* name;
  std::string content;
  const char* value;  // nullptr: refused
  const char* problem = "";
};

void PrintTo(const file_case& c, std::ostream* os) { *os << c.name; }

class read_secret_file_case : public ::testing::TestWithParam<file_case> {};

TEST_P(read_secret_file_case, reads_one_line_or_names_the_problem) {
  test::temp_dir dir;
  const std::string path = dir.write("secret", GetParam().content);
  const auto read = read_secret_file(path, variable);
  if (GetParam().value != nullptr) {
    ASSERT_TRUE(read) << read.error().message;
    EXPECT_EQ(*read, GetParam().value);
    return;
  }
  ASSERT_FALSE(read);
  EXPECT_THAT(read.error().message, StartsWith(std::string(variable) + "=" + path + ": "));
  EXPECT_THAT(read.error().message, HasSubstr(GetParam().problem));
  // Whatever was wrong, the content is never repeated.
  if (!GetParam().content.empty()) {
    EXPECT_THAT(read.error().message, Not(HasSubstr(GetParam().content.substr(0, 6))));
  }
}

INSTANTIATE_TEST_SUITE_P(
    secret, read_secret_file_case,
    ::testing::Values(
        file_case{"bare", "s3cret-token", "s3cret-token"},
        file_case{"trailing_newline", "s3cret-token\n", "s3cret-token"},
        file_case{"trailing_crlf", "s3cret-token\r\n", "s3cret-token"},
        file_case{"spaces_kept", "  s3cret token ", "  s3cret token "},
        file_case{"empty", "", nullptr, "the file is empty"},
        file_case{"only_a_newline", "\n", nullptr, "the file is empty"},
        file_case{"two_lines", "s3cret-one\ns3cret-two\n", nullptr, "must hold one line"},
        file_case{"nul_inside", std::string("s3cret\0x", 8), nullptr, "must hold one line"},
        file_case{"too_large", std::string(64 * 1024 + 1, 'a'), nullptr, "larger than 64 KiB"}),
    [](const ::testing::TestParamInfo<file_case>& case_info) {
      return std::string(case_info.param.name);
    });

TEST(read_secret_file, missing_file_names_the_variable_and_the_reason) {
  test::temp_dir dir;
  const auto read = read_secret_file(dir.file("absent"), variable);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().message, std::string(variable) + "=" + dir.file("absent") +
                                      ": cannot read: No such file or directory");
}

TEST(read_secret_file, a_directory_is_refused) {
  test::temp_dir dir;
  EXPECT_FALSE(read_secret_file(dir.path(), variable));
}

TEST(secret, a_fixed_value_never_reloads) {
  const secret s("fixed");
  const auto r = s.reload();
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);
  EXPECT_EQ(*s.value(), "fixed");
  EXPECT_TRUE(s.file().empty());
}

TEST(secret, not_set_is_empty) {
  EXPECT_TRUE(secret().empty());
  EXPECT_FALSE(secret("x").empty());
}

TEST(secret, reload_reaches_every_copy) {
  test::temp_dir dir;
  const std::string path = dir.write("token", "first\n");
  auto made = secret::from_file(path, variable);
  ASSERT_TRUE(made) << made.error().message;
  const secret original = *made;
  const secret handler_copy = original;  // as a handler holds it
  EXPECT_EQ(*handler_copy.value(), "first");
  EXPECT_EQ(original.file(), path);
  EXPECT_EQ(original.variable(), variable);

  dir.write("token", "second\n");
  const auto changed = original.reload();
  ASSERT_TRUE(changed) << changed.error().message;
  EXPECT_TRUE(*changed);
  EXPECT_EQ(*handler_copy.value(), "second");

  const auto again = original.reload();
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again) << "an unchanged file is no change";
}

TEST(secret, failed_reload_keeps_the_previous_value) {
  test::temp_dir dir;
  const std::string path = dir.write("token", "first");
  auto made = secret::from_file(path, variable);
  ASSERT_TRUE(made);
  const secret s = *made;

  dir.remove("token");
  const auto gone = s.reload();
  ASSERT_FALSE(gone);
  EXPECT_THAT(gone.error().message, HasSubstr("No such file or directory"));
  EXPECT_EQ(*s.value(), "first");

  dir.write("token", "");
  EXPECT_FALSE(s.reload());
  EXPECT_EQ(*s.value(), "first");
}

TEST(secret, from_a_missing_file_is_an_error) {
  test::temp_dir dir;
  const auto made = secret::from_file(dir.file("absent"), variable);
  ASSERT_FALSE(made);
  EXPECT_THAT(made.error().message, StartsWith(variable));
}

// Request threads read while SIGHUP swaps: every value read is one of the
// values written, whole (TSan checks the rest).
TEST(secret, readers_see_whole_values_while_it_is_reloaded) {
  test::temp_dir dir;
  const std::string a(100, 'a');
  const std::string b(200, 'b');
  const std::string path = dir.write("token", a);
  auto made = secret::from_file(path, variable);
  ASSERT_TRUE(made);
  const secret s = *made;
  std::atomic<bool> stop{false};
  std::atomic<int> torn{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 2; ++i) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        const auto v = s.value();
        if (*v != a && *v != b) ++torn;
      }
    });
  }
  for (int i = 0; i < 200; ++i) {
    dir.write("token", i % 2 == 0 ? b : a);
    ASSERT_TRUE(s.reload());
  }
  stop = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(torn.load(), 0);
}

}  // namespace
}  // namespace badges_health::app
