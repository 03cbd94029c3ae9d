// Test support: the binary under test started with a checks file written
// to a scratch directory, and the ways tests read its health: verbose
// status on a fresh connection, and polling it (with a deadline) until an
// expected state shows up.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "support/server_process.hpp"
#include "support/temp_dir.hpp"

namespace badges_health::test {

class health_service {
 public:
  /// Writes `{"checks": checks}` to `dir`/checks.json and starts the binary
  /// with `--config` that file, `--threads 2`, then `args`.
  health_service(const temp_dir& dir, const nlohmann::json& checks,
                 std::vector<std::string> args = {}, std::vector<std::string> env = {});

  unsigned short port() const noexcept { return process_->port(); }
  server_process& process() noexcept { return *process_; }
  const std::string& config_path() const noexcept { return config_path_; }

  /// Replaces the checks file (atomically), e.g. before a SIGHUP.
  void write_checks(const nlohmann::json& checks) const;
  void write_config_text(const std::string& text) const;

  /// GET /status?verbose=true on a new connection with `extra_headers`
  /// (complete lines); the parsed body, or a discarded value when no JSON
  /// came back.
  nlohmann::json verbose(const std::string& extra_headers = "") const;

  /// Polls verbose status every 20 ms until `done` holds for a body; that
  /// body, or nullopt when `timeout` passed first.
  std::optional<nlohmann::json> wait_for(
      const std::function<bool(const nlohmann::json&)>& done,
      std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

  /// Waits until check `name` has a first result (status not "pending").
  std::optional<nlohmann::json> wait_for_result(
      const std::string& name, std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

 private:
  const temp_dir& dir_;
  std::string config_path_;
  std::unique_ptr<server_process> process_;
};

/// The value at JSON pointer `pointer` ("/checks/db/status") in `body`,
/// or null when there is none; safe on any body, unlike a const operator[].
nlohmann::json json_at(const nlohmann::json& body, const std::string& pointer);

/// True when `body` (a verbose status) lists checks and none is pending.
bool all_checks_have_results(const nlohmann::json& body);

/// `{"checks": checks}`.
nlohmann::json checks_document(const nlohmann::json& checks);

/// Polls `done` every `step` until it holds; false when `timeout` passed.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step = std::chrono::milliseconds(20));

}  // namespace badges_health::test
