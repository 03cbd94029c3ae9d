// The ttl check (a push heartbeat, as Consul's TTL checks): the watched
// process reports its state with PUT /checks/{name} at least once per ttl;
// each report is the check's result and starts the ttl again, and a ttl
// that runs out is a failure ("no report for 30s"). Until its first report
// (or the first ttl's end) the check has no result.
//
// The scheduler keeps the ttl as the check's interval: its timetable entry
// is the ttl's end, and start() is called when it comes.
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "badges_health/health/check_clock.hpp"
#include "badges_health/health/check_reader.hpp"
#include "badges_health/health/checker.hpp"
#include "badges_health/util/duration.hpp"

namespace badges_health::health {

namespace checks {
extern const check_type ttl;
}  // namespace checks

namespace ttl_check {
namespace {

/// The most of a report's output shown.
constexpr std::size_t output_limit = 1024;

struct ttl_fields {
  std::chrono::milliseconds ttl{};
  bool operator==(const ttl_fields&) const = default;
};

class ttl_checker final : public checker {
 public:
  ttl_checker(const checker_context& context)
      : ex_(context.executor), clock_(*context.clock), last_(clock_.now()) {}

  // The ttl ran out.
  void start(completion done) override {
    // In whole seconds: a ttl is at least one, and its end is rounded up to
    // the next millisecond of the timetable.
    const auto silent = std::chrono::duration_cast<std::chrono::seconds>(clock_.now() - last_);
    boost::asio::post(ex_, [done = std::move(done), silent] {
      done({check_status::fail, "no report for " + util::format_duration(silent)});
    });
  }

  void cancel() noexcept override {}

  check_result on_report(check_result r) override {
    last_ = clock_.now();
    if (r.output.size() > output_limit) {
      r.output.resize(output_limit);
      r.output += "...";
    }
    return r;
  }

 private:
  boost::asio::any_io_executor ex_;
  const check_clock& clock_;
  // The last report, or when the check started.
  check_clock::time_point last_;
};

class ttl_settings final : public typed_settings<ttl_fields> {
 public:
  using typed_settings::typed_settings;
  const check_type& type() const noexcept override { return checks::ttl; }
  void describe(nlohmann::ordered_json& out) const override { out["ttlMs"] = fields_.ttl.count(); }
  std::shared_ptr<checker> make_checker(const check_spec&,
                                        const checker_context& context) const override {
    return std::make_shared<ttl_checker>(context);
  }
};

std::shared_ptr<const check_settings> read(const check_reader& in, check_spec& spec) {
  if (!in.options().accept_reports) {
    in.fail_check(
        "a ttl check needs --admin-token (BADGES_HEALTH_ADMIN_TOKEN): reports to PUT "
        "/checks/" +
        spec.name + " must carry it");
  }
  ttl_fields f;
  f.ttl = in.duration("ttl");
  if (f.ttl < std::chrono::seconds(1)) in.fail("ttl", "must be at least 1s");
  // The ttl is the check's schedule. Hysteresis would hide a missed report
  // for several ttls, so each report counts unless rise or fall say so.
  spec.interval = f.ttl;
  spec.timeout = std::min(std::chrono::milliseconds(2'000), f.ttl / 2);
  if (!in.has("rise")) spec.rise = 1;
  if (!in.has("fall")) spec.fall = 1;
  return std::make_shared<ttl_settings>(f);
}

constexpr std::string_view fields[] = {"ttl"};

}  // namespace
}  // namespace ttl_check

const check_type checks::ttl{"ttl", "component", ttl_check::fields, true, &ttl_check::read};

}  // namespace badges_health::health
