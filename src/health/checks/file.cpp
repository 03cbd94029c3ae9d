// The file check: the operator's maintenance switch. Passes when the file
// is present (or absent) as `when` says; the stat() runs on a thread of its
// own (blocking_call), so a dead mount stalls only this check.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "../blocking_call.hpp"
#include "badges_health/health/check_reader.hpp"
#include "badges_health/health/checker.hpp"

namespace badges_health::health {

namespace checks {
extern const check_type file;
}  // namespace checks

namespace file_check {
namespace {

struct file_fields {
  std::string path;
  /// The check passes when the file is present (true) or absent (false).
  bool pass_when_present = false;
  bool operator==(const file_fields&) const = default;
};

check_result look(const file_fields& f) {
  struct stat st {};
  const bool present = ::stat(f.path.c_str(), &st) == 0;
  if (!present && errno != ENOENT && errno != ENOTDIR) {
    return {check_status::fail, "stat " + f.path + ": " + std::strerror(errno)};
  }
  const std::string seen = f.path + (present ? " is present" : " is absent");
  return {present == f.pass_when_present ? check_status::pass : check_status::fail, seen};
}

class file_settings final : public typed_settings<file_fields> {
 public:
  using typed_settings::typed_settings;
  const check_type& type() const noexcept override { return checks::file; }
  void describe(nlohmann::ordered_json& out) const override {
    out["path"] = fields_.path;
    out["when"] = fields_.pass_when_present ? "present" : "absent";
  }
  std::shared_ptr<checker> make_checker(const check_spec&,
                                        const checker_context& context) const override {
    return std::make_shared<blocking_checker<file_fields, &look>>(fields_, context.executor);
  }
};

std::shared_ptr<const check_settings> read(const check_reader& in, check_spec&) {
  file_fields f;
  f.path = in.non_empty_string("path");
  const std::string when = in.string("when");
  if (when != "present" && when != "absent") {
    in.fail("when", "expected \"present\" or \"absent\", got \"" + when + "\"");
  }
  f.pass_when_present = when == "present";
  return std::make_shared<file_settings>(std::move(f));
}

constexpr std::string_view fields[] = {"path", "when"};

}  // namespace
}  // namespace file_check

const check_type checks::file{"file", "system", file_check::fields, false, &file_check::read};

}  // namespace badges_health::health
