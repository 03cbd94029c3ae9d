// Starting the binary with a checks file, and reading its verbose status.
#include "support/health_service.hpp"

#include <thread>

#include "support/raw_client.hpp"

namespace badges_health::test {

using nlohmann::json;

json checks_document(const json& checks) { return json{{"checks", checks}}; }

json json_at(const json& body, const std::string& pointer) {
  try {
    const json::json_pointer where(pointer);
    return body.contains(where) ? body.at(where) : json();
  } catch (const json::exception&) {
    return json();
  }
}

bool all_checks_have_results(const json& body) {
  const auto it = body.find("checks");
  if (it == body.end() || !it->is_object() || it->empty()) return false;
  for (const auto& [name, check] : it->items()) {
    if (check.value("status", "pending") == "pending") return false;
  }
  return true;
}

bool eventually(const std::function<bool()>& done, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}

health_service::health_service(const temp_dir& dir, const json& checks,
                               std::vector<std::string> args, std::vector<std::string> env)
    : dir_(dir), config_path_(dir.file("checks.json")) {
  write_checks(checks);
  std::vector<std::string> full{"--config", config_path_, "--threads", "2"};
  full.insert(full.end(), args.begin(), args.end());
  process_ = std::make_unique<server_process>(std::move(full), std::move(env));
}

void health_service::write_checks(const json& checks) const {
  write_config_text(checks_document(checks).dump(2));
}

void health_service::write_config_text(const std::string& text) const {
  dir_.write("checks.json", text);
}

json health_service::verbose(const std::string& extra_headers) const {
  const auto res = request(port(), "GET", "/status?verbose=true", extra_headers);
  if (!res) return json(json::value_t::discarded);
  return json::parse(res->body(), nullptr, false);
}

std::optional<json> health_service::wait_for(const std::function<bool(const json&)>& done,
                                             std::chrono::milliseconds timeout) const {
  std::optional<json> found;
  eventually(
      [&] {
        json body = verbose();
        if (body.is_discarded() || !done(body)) return false;
        found = std::move(body);
        return true;
      },
      timeout);
  return found;
}

std::optional<json> health_service::wait_for_result(const std::string& name,
                                                    std::chrono::milliseconds timeout) const {
  return wait_for(
      [&name](const json& body) {
        const auto& checks = body.value("checks", json::object());
        return checks.contains(name) && checks[name].value("status", "") != "pending";
      },
      timeout);
}

}  // namespace badges_health::test
