// Logger construction and the JSON line formatter.
#include "badges_health/app/logging.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "badges_health/http/endpoint.hpp"

#include "badges_health/util/timestamp.hpp"

namespace badges_health::app {
namespace {

// Standard error, written with one write(2) per flush instead of one per
// line. The service's own lines flush at once (the logger flushes on every
// level); access lines wait in the buffer until one of those, 16 KiB of
// them, or the periodic flush (make_access_log starts one every second):
// under load that is one system call per hundred requests, not one per
// request. spdlog's stderr sink writes through stdio, whose stderr is
// unbuffered, and its file sinks reopen a path, which a socket given as
// standard error (journald's) does not have; hence this small sink.
class stderr_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  ~stderr_sink() override {
    const std::lock_guard lock(mutex_);
    write_out();
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    pending_.append(line.data(), line.size());
    if (pending_.size() >= high_water) write_out();
  }
  void flush_() override { write_out(); }

 private:
  static constexpr std::size_t high_water = 16 * 1024;

  void write_out() {
    std::size_t done = 0;
    while (done < pending_.size()) {
      const ssize_t n = ::write(STDERR_FILENO, pending_.data() + done, pending_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // nowhere to write: the lines are dropped, as stdio would
      done += static_cast<std::size_t>(n);
    }
    pending_.clear();
  }

  std::string pending_;
};

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
  auto logger = std::make_shared<spdlog::logger>("badges-health", std::make_shared<stderr_sink>());
  spdlog::drop("badges-health");
  spdlog::register_logger(logger);
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
  access->flush_on(spdlog::level::off);  // flushed by the other lines and every second
  spdlog::drop(std::string(access_logger_name));
  spdlog::register_logger(access);
  spdlog::set_default_logger(std::move(logger));
}

namespace {

// `value` as a JSON string: copied when it is printable ASCII with nothing
// to escape (request targets and user agents nearly always are), else
// through nlohmann, bytes that are not UTF-8 becoming U+FFFD.
void append_json_string(std::string& out, std::string_view value) {
  const bool plain = std::all_of(value.begin(), value.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f && c != '"' && c != '\\';
  });
  if (plain) {
    out.push_back('"');
    out.append(value);
    out.push_back('"');
    return;
  }
  out.append(nlohmann::json(std::string(value))
                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

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
  // Written field by field: a line per request under load is worth not
  // building a JSON object for (bench/access_log).
  char ts[util::iso8601_length];
  util::write_iso8601(e.time, ts);
  std::string line;
  line.reserve(256);
  line.append(R"({"time":")").append(ts, sizeof ts).append(R"(","level":"info","msg":"access")");
  const auto text_field = [&line](std::string_view name, std::string_view value) {
    line.append(",\"").append(name).append("\":");
    append_json_string(line, value);
  };
  const auto number_field = [&line](std::string_view name, auto value) {
    line.append(",\"").append(name).append("\":");
    fmt::format_to(std::back_inserter(line), "{}", value);
  };
  text_field("client", endpoint_text(e.client));
  text_field("method", e.method);
  text_field("target", e.target);
  text_field("protocol", e.protocol);
  number_field("status", e.status);
  if (e.grpc_status) number_field("grpc_status", *e.grpc_status);
  number_field("bytes", e.body_bytes);
  number_field("duration_us", std::round(micros * 10) / 10);
  text_field("user_agent", e.user_agent);
  if (!e.error_code.empty()) text_field("error_code", e.error_code);
  line.push_back('}');
  return line;
}

http::access_log_sink make_access_log(log_format format) {
  auto logger = spdlog::get(std::string(access_logger_name));
  if (!logger) return {};
  // Access lines wait in the sink's buffer at most this long.
  spdlog::flush_every(std::chrono::seconds(1));
  return [logger = std::move(logger), format](const http::access_entry& e) {
    logger->info(access_line(e, format));
  };
}

}  // namespace badges_health::app
