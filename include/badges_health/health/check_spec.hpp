// What a dependency check is, as validated from the checks file: the fields
// every check has, and its type's own settings. Compared on reload to keep
// the state (and the checker) of checks that did not change.
#pragma once

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json_fwd.hpp>

namespace badges_health::health {

class check_reader;
class check_settings;
class checker;
struct check_spec;
struct checker_context;

/// One row of the registry (check_registry.hpp): a type of check.
struct check_type {
  /// As the checks file writes it: "tcp".
  std::string_view name;
  /// draft-inadarei-api-health-check's componentType: "datastore",
  /// "system" or "component".
  std::string_view component_type;
  /// Its own fields in the checks file, beside the common ones.
  std::span<const std::string_view> fields;
  /// Results come as reports (a ttl check's PUT /checks/{name}) rather than
  /// from attempts: the check has no interval or timeout of its own.
  bool reported = false;
  /// Reads the type's own fields of one check; may complete the common
  /// ones in `spec` (defaults of its own). Throws config_error naming the
  /// field.
  std::shared_ptr<const check_settings> (*read)(const check_reader& in, check_spec& spec);
};

/// A type's own fields, read and validated: plain data, compared field by
/// field, and the factory of the type's checker.
class check_settings {
 public:
  virtual ~check_settings() = default;
  virtual const check_type& type() const noexcept = 0;
  /// Same type and the same fields.
  virtual bool equals(const check_settings& other) const noexcept = 0;
  /// Adds the fields to the check's entry in the effective configuration
  /// (--print-config), secrets redacted or shown only as set.
  virtual void describe(nlohmann::ordered_json& out) const = 0;
  /// The check's long-lived checker. May throw (a CA file that is not PEM):
  /// then every attempt fails saying why.
  virtual std::shared_ptr<checker> make_checker(const check_spec& spec,
                                                const checker_context& context) const = 0;
};

/// The settings of a type whose own fields are the plain struct `Fields`,
/// compared with its (defaulted) operator==.
template <class Fields>
class typed_settings : public check_settings {
 public:
  explicit typed_settings(Fields fields) : fields_(std::move(fields)) {}
  const Fields& fields() const noexcept { return fields_; }
  bool equals(const check_settings& other) const noexcept override {
    const auto* same = dynamic_cast<const typed_settings*>(&other);
    return same != nullptr && same->fields_ == fields_;
  }

 protected:
  Fields fields_;
};

struct check_spec {
  std::string name;
  bool critical = true;
  std::chrono::milliseconds interval{10'000};
  std::chrono::milliseconds timeout{2'000};
  unsigned rise = 2;
  unsigned fall = 3;
  /// The type's own fields; never null in a spec that was read.
  std::shared_ptr<const check_settings> settings;

  const check_type& type() const noexcept { return settings->type(); }

  /// Age after which the last result no longer counts: 2 x interval + timeout.
  std::chrono::milliseconds stale_after() const noexcept { return 2 * interval + timeout; }

  bool operator==(const check_spec& other) const noexcept;
};

}  // namespace badges_health::health
