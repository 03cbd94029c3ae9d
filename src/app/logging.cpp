// Logger construction and the JSON line formatter.
#include "badges_health/app/logging.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

#include "badges_health/http/endpoint.hpp"

#include "badges_health/util/timestamp.hpp"

namespace badges_health::app {
namespace {

// One JSON object per line. The object and its three strings live as long
// as the formatter (spdlog calls it under the sink's lock, and clone() makes
// another), so a line reuses their storage; dump() builds the text. Bytes
// that are not UTF-8 (a client can put them in a request target) become
// U+FFFD, so every line stays valid JSON.
constexpr std::string_view access_logger_name = "access";

class json_formatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    // An access line is a whole JSON object already (make_access_log).
    if (std::string_view(msg.logger_name.data(), msg.logger_name.size()) == access_logger_name) {
      dest.append(msg.payload.data(), msg.payload.data() + msg.payload.size());
      dest.push_back('\n');
      return;
    }
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
  // The access log writes through the same sink, so its lines and the
  // others never interleave; it logs whatever the level.
  auto access = std::make_shared<spdlog::logger>(std::string(access_logger_name),
                                                 logger->sinks().begin(), logger->sinks().end());
  access->set_level(spdlog::level::info);
  access->flush_on(spdlog::level::trace);
  spdlog::drop(std::string(access_logger_name));
  spdlog::register_logger(access);
  spdlog::set_default_logger(std::move(logger));
}

namespace {

std::string endpoint_text(const boost::asio::ip::tcp::endpoint* client) {
  if (client == nullptr) return "-";
  return http::format_endpoint(*client);
}

}  // namespace

std::string access_line(const http::access_entry& e, log_format format) {
  const double micros = std::chrono::duration<double, std::micro>(e.duration).count();
  if (format == log_format::text) {
    std::string line = "access ";
    line.append(e.method.empty() ? "-" : e.method).append(" ");
    line.append(e.target.empty() ? "-" : e.target).append(" ");
    line.append(e.protocol).append(" ").append(std::to_string(e.status));
    if (e.grpc_status) line.append(" grpc-status=").append(std::to_string(*e.grpc_status));
    line.append(" ").append(std::to_string(e.body_bytes)).append("B ");
    char took[32];
    std::snprintf(took, sizeof took, "%.0fus", micros);
    line.append(took).append(" client=").append(endpoint_text(e.client));
    if (!e.error_code.empty()) line.append(" code=").append(e.error_code);
    line.append(" ua=").append(nlohmann::json(e.user_agent)
                                   .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return line;
  }
  char ts[util::iso8601_length];
  util::write_iso8601(e.time, ts);
  nlohmann::ordered_json j = {{"time", std::string_view(ts, sizeof ts)},
                              {"level", "info"},
                              {"msg", "access"},
                              {"client", endpoint_text(e.client)},
                              {"method", e.method},
                              {"target", e.target},
                              {"protocol", e.protocol},
                              {"status", e.status}};
  if (e.grpc_status) j["grpc_status"] = *e.grpc_status;
  j["bytes"] = e.body_bytes;
  j["duration_us"] = std::round(micros * 10) / 10;
  j["user_agent"] = e.user_agent;
  if (!e.error_code.empty()) j["error_code"] = e.error_code;
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

http::access_log_sink make_access_log(log_format format) {
  auto logger = spdlog::get(std::string(access_logger_name));
  if (!logger) return {};
  return [logger = std::move(logger), format](const http::access_entry& e) {
    logger->info(access_line(e, format));
  };
}

}  // namespace badges_health::app
