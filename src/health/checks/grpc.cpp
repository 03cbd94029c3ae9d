// The grpc check: calls grpc.health.v1.Health/Check for `service` ("" is
// the server as a whole) with the check's timeout as grpc-timeout. SERVING
// passes; NOT_SERVING, UNKNOWN and SERVICE_UNKNOWN fail, as does a gRPC
// error, named by its status ("UNIMPLEMENTED: ..."). Optionally over TLS,
// verified as for https.
//
// The checker keeps one HTTP/2 connection (grpc_channel) across attempts
// while the server keeps it; a broken one, or one whose call timed out, is
// replaced on the next attempt. The TLS context is loaded once, again on
// SIGHUP.
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "../connector.hpp"
#include "../grpc_channel.hpp"
#include "../tls_client.hpp"
#include "badges_health/health/check_reader.hpp"
#include "badges_health/health/checker.hpp"
#include "badges_health/util/grpc_wire.hpp"

namespace badges_health::health {

namespace checks {
extern const check_type grpc;
}  // namespace checks

namespace grpc_check {
namespace {

namespace asio = boost::asio;
namespace wire = util::grpc;

struct grpc_fields {
  std::string host;
  unsigned short port = 0;
  std::string service;
  bool tls = false;
  tls_settings tls_options;
  bool operator==(const grpc_fields&) const = default;
};

std::string_view serving_name(wire::serving_status s) {
  switch (s) {
    case wire::serving_status::serving:
      return "SERVING";
    case wire::serving_status::not_serving:
      return "NOT_SERVING";
    case wire::serving_status::service_unknown:
      return "SERVICE_UNKNOWN";
    case wire::serving_status::unknown:
      break;
  }
  return "UNKNOWN";
}

check_result judge(const grpc_call_result& r) {
  if (!r.transport_error.empty()) return {check_status::fail, r.transport_error};
  if (r.http_status != 200) {
    return {check_status::fail, "HTTP status " + std::to_string(r.http_status) + " (not gRPC)"};
  }
  if (!r.grpc_status) return {check_status::fail, "the answer has no grpc-status"};
  if (*r.grpc_status != 0) {
    std::string what = wire::status_name(*r.grpc_status);
    if (!r.grpc_message.empty()) what += ": " + r.grpc_message;
    return {check_status::fail, what};
  }
  const auto status = wire::decode_check_response(r.body);
  if (!status) return {check_status::fail, "bad HealthCheckResponse: " + status.error()};
  const std::string name(serving_name(*status));
  return {*status == wire::serving_status::serving ? check_status::pass : check_status::fail, name};
}

class grpc_checker final : public checker {
 public:
  grpc_checker(const grpc_fields& f, const check_spec& spec, asio::any_io_executor ex)
      : fields_(f),
        name_(spec.name),
        ex_(ex),
        connect_(std::make_shared<connector>(f.host, f.port, std::move(ex))),
        message_(wire::encode_check_request(f.service)),
        timeout_(wire::format_timeout(spec.timeout)) {
    load_context();
  }

  void start(completion done) override {
    if (!channel_ || !channel_->usable() || reloaded_) {
      if (channel_) channel_->close();
      channel_ = std::make_shared<grpc_channel>(connect_, tls_, ex_);
      reloaded_ = false;
    }
    channel_->call(std::string(wire::check_path), message_, timeout_,
                   [done = std::move(done)](grpc_call_result r) { done(judge(r)); });
  }

  // A call that timed out leaves its connection in doubt: it goes.
  void cancel() noexcept override {
    if (channel_) channel_->close();
    channel_.reset();
  }

  // The next attempt connects with the new context; one in flight ends on
  // the connection it has.
  void reload() override {
    load_context();
    reloaded_ = true;
  }

 private:
  void load_context() {
    if (!fields_.tls) return;
    tls_ = std::make_shared<asio::ssl::context>(
        make_tls_client_context(fields_.tls_options, name_, "grpc://" + connect_->authority()));
  }

  grpc_fields fields_;
  std::string name_;
  asio::any_io_executor ex_;
  std::shared_ptr<connector> connect_;
  std::shared_ptr<asio::ssl::context> tls_;
  std::string message_;
  std::string timeout_;
  std::shared_ptr<grpc_channel> channel_;
  bool reloaded_ = false;
};

class grpc_settings final : public typed_settings<grpc_fields> {
 public:
  using typed_settings::typed_settings;
  const check_type& type() const noexcept override { return checks::grpc; }
  void describe(nlohmann::ordered_json& out) const override {
    out["host"] = fields_.host;
    out["port"] = fields_.port;
    out["service"] = fields_.service;
    out["tls"] = fields_.tls;
    if (fields_.tls) {
      out["caFile"] = fields_.tls_options.ca_file;
      out["insecure"] = fields_.tls_options.insecure;
    }
  }
  std::shared_ptr<checker> make_checker(const check_spec& spec,
                                        const checker_context& context) const override {
    return std::make_shared<grpc_checker>(fields_, spec, context.executor);
  }
};

std::shared_ptr<const check_settings> read(const check_reader& in, check_spec&) {
  grpc_fields f;
  f.host = in.non_empty_string("host");
  f.port = in.port("port");
  if (in.has("service")) f.service = in.string("service");
  if (f.service.size() > 1024) in.fail("service", "must be at most 1024 bytes");
  if (in.has("tls")) f.tls = in.boolean("tls");
  if (in.has("ca_file")) {
    if (!f.tls) in.fail("ca_file", "only with \"tls\": true");
    f.tls_options.ca_file = in.string("ca_file");
    if (std::ifstream(f.tls_options.ca_file).fail()) {
      in.fail("ca_file", "cannot read \"" + f.tls_options.ca_file + "\": " + std::strerror(errno));
    }
  }
  if (in.has("insecure")) {
    if (!f.tls) in.fail("insecure", "only with \"tls\": true");
    f.tls_options.insecure = in.boolean("insecure");
    if (f.tls_options.insecure && !f.tls_options.ca_file.empty()) {
      in.fail("insecure", "ca_file and insecure contradict each other");
    }
  }
  return std::make_shared<grpc_settings>(std::move(f));
}

constexpr std::string_view fields[] = {"host", "port", "service", "tls", "ca_file", "insecure"};

}  // namespace
}  // namespace grpc_check

const check_type checks::grpc{"grpc", "component", grpc_check::fields, false, &grpc_check::read};

}  // namespace badges_health::health
