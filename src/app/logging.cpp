// Logger construction and the JSON line formatter.
#include "badges_health/app/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "badges_health/util/timestamp.hpp"

namespace badges_health::app {
namespace {

// One JSON object per line. The object and its three strings live as long
// as the formatter (spdlog calls it under the sink's lock, and clone() makes
// another), so a line reuses their storage; dump() builds the text. Bytes
// that are not UTF-8 (a client can put them in a request target) become
// U+FFFD, so every line stays valid JSON.
class json_formatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    char ts[util::iso8601_length];
    util::write_iso8601(msg.time, ts);
    field("time").assign(ts, sizeof ts);
    const auto level = spdlog::level::to_string_view(msg.level);
    field("level").assign(level.data(), level.size());
    field("msg").assign(msg.payload.data(), msg.payload.size());
    const std::string text =
        line_.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    dest.append(text.data(), text.data() + text.size());
    dest.push_back('\n');
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<json_formatter>();
  }

 private:
  std::string& field(const char* key) { return line_[key].get_ref<std::string&>(); }

  nlohmann::ordered_json line_ = {{"time", ""}, {"level", ""}, {"msg", ""}};
};

}  // namespace

std::unique_ptr<spdlog::formatter> make_json_formatter() {
  return std::make_unique<json_formatter>();
}

void configure_logging(const std::string& level, log_format format) {
  auto logger = spdlog::stderr_logger_mt("badges-health");
  if (format == log_format::json) {
    logger->set_formatter(make_json_formatter());
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(spdlog::level::from_str(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace badges_health::app
