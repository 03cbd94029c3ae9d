// A token or password: given as a value, or read from a file named by a
// `*_FILE` variable (a mounted Kubernetes or Docker secret) and read again
// on SIGHUP while request threads go on reading it.
#pragma once

#include <boost/system/result.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace badges_health::app {

/// Why a secret file could not be used; the message names the variable and
/// the file, never the content.
struct secret_error {
  std::string message;
};

/// For boost::system::result's value() on an error: throws
/// std::runtime_error with the message (start-up only).
[[noreturn]] void throw_exception_from_error(const secret_error& e,
                                             const boost::source_location& loc);

/// Reads a secret file: its content less any trailing line break, which
/// must be one non-empty line of at most 64 KiB. `variable` names where the
/// path came from, for the message.
boost::system::result<std::string, secret_error> read_secret_file(const std::string& path,
                                                                  std::string_view variable);

/// One secret, shared: copies (the configuration's and every handler's)
/// see the same value, so reload() reaches all of them. Readers take a
/// reference-counted snapshot under a short lock; a reload swaps it.
class secret {
 public:
  /// Not set (the guarded endpoint is open).
  secret();
  /// A fixed value, from a flag or a variable. Implicit, so that a token
  /// is written where a secret is expected as it always was: as a string.
  secret(std::string value);
  secret(const char* value);

  /// A value read from `path`, which reload() reads again.
  static boost::system::result<secret, secret_error> from_file(const std::string& path,
                                                               std::string variable);

  /// The value now; empty when not set.
  std::shared_ptr<const std::string> value() const;
  bool empty() const { return value()->empty(); }

  /// The file the value comes from, and the variable that named it; empty
  /// for a fixed value.
  const std::string& file() const noexcept { return state_->file; }
  const std::string& variable() const noexcept { return state_->variable; }

  /// Reads the file again: true when the value changed. On an error the
  /// value stays what it was. A fixed value never changes.
  boost::system::result<bool, secret_error> reload() const;

 private:
  // A mutex, not std::atomic<std::shared_ptr>: libstdc++ 12's releases its
  // internal lock with a relaxed store, which ThreadSanitizer reports (see
  // health_model.hpp). Only verbose status and metrics read a token, and
  // /status itself never does, so the lock is off the hot path.
  struct state {
    mutable std::mutex mutex;
    std::shared_ptr<const std::string> value;  // guarded by mutex
    std::string file;
    std::string variable;

    std::shared_ptr<const std::string> load() const {
      const std::lock_guard lock(mutex);
      return value;
    }
    void store(std::shared_ptr<const std::string> v) {
      const std::lock_guard lock(mutex);
      value = std::move(v);
    }
  };
  explicit secret(std::shared_ptr<state> s) : state_(std::move(s)) {}

  std::shared_ptr<state> state_;
};

}  // namespace badges_health::app
