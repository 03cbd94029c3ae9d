// The feed's diff of two pictures of the health model, and the ring the
// event streams read from.
#include "badges_health/app/event_feed.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <vector>

#include "badges_health/health/check_spec.hpp"
#include "badges_health/health/health_snapshot.hpp"
#include "badges_health/util/timestamp.hpp"

namespace badges_health::app {

namespace {

using feed_json = nlohmann::ordered_json;

std::string feed_dump(const feed_json& v) {
  return v.dump(-1, ' ', false, feed_json::error_handler_t::replace);
}

std::string feed_timestamp() { return util::format_iso8601(std::chrono::system_clock::now()); }

// Why a check is where it is (its result's reason, or that its result is
// too old to count, in the words verbose output uses); null when it says
// nothing.
feed_json check_reason(const health::check_snapshot& c, std::chrono::steady_clock::time_point now) {
  std::string reason = health::effective_reason(c, now);
  if (reason.empty()) return nullptr;
  return reason;
}

// Why the service as a whole is where it is, naming the checks that make
// it so (at most three).
std::string overall_reason(const health::summary& s, const health::health_snapshot* snap,
                           const health::maintenance_window* maintenance) {
  if (s.draining) return "draining: the service is shutting down";
  // The operator's reason stays with those who may see details (GET
  // /maintenance, verbose output); every stream learns when it ends.
  if (s.maintenance) {
    return maintenance != nullptr
               ? "in maintenance until " + util::format_iso8601(maintenance->until)
               : "in maintenance";
  }
  if (s.overall == health::status::ok) return "every check passes";
  const bool down = s.overall == health::status::down;
  std::vector<std::string_view> names;
  std::size_t more = 0;
  if (snap != nullptr) {
    for (const auto& c : snap->checks) {
      const auto st = c.state.effective(snap->taken_at, c.spec->stale_after());
      const bool counts =
          down ? c.spec->critical && st == health::check_status::fail
               : st == health::check_status::fail || st == health::check_status::warn;
      if (!counts) continue;
      if (names.size() < 3) {
        names.push_back(c.spec->name);
      } else {
        ++more;
      }
    }
  }
  std::string out = down ? "critical check failing" : "check failing or warning";
  if (names.empty()) return out;
  out += ':';
  for (const auto n : names) {
    out += ' ';
    out += n;
  }
  if (more != 0) out += " (+" + std::to_string(more) + " more)";
  return out;
}

std::string frame(std::uint64_t seq, std::string_view kind, std::string_view data) {
  std::string text;
  text.reserve(data.size() + 40);
  text.append("id: ").append(std::to_string(seq));
  text.append("\nevent: ").append(kind);
  text.append("\ndata: ").append(data);
  text.append("\n\n");
  return text;
}

}  // namespace

event_feed::event_feed(const health::status_source& source)
    : source_(source),
      overall_(source.current().overall),
      draining_(source.current().draining),
      maintenance_(source.maintenance()) {}

void event_feed::record(bool check_level, std::string_view kind, std::string data) {
  const std::lock_guard lock(mutex_);
  const std::uint64_t seq = ++last_seq_;
  if (ring_.size() == ring_size) ring_.pop_front();
  ring_.push_back(event{seq, check_level, frame(seq, kind, data)});
}

void event_feed::update() {
  const health::summary s = source_.current();
  const auto snap = source_.details();
  const std::string now = feed_timestamp();
  const std::string_view overall = health::to_string(s.overall);

  const auto maintenance = source_.maintenance();
  // A second PUT /maintenance replaces the window: a new end is news too.
  if (s.overall != overall_ || s.draining != draining_ || maintenance != maintenance_) {
    record(false, "status",
           feed_dump(feed_json{{"status", overall},
                               {"from", health::to_string(overall_)},
                               {"to", overall},
                               {"reason", overall_reason(s, snap.get(), maintenance.get())},
                               {"timestamp", now}}));
    overall_ = s.overall;
    draining_ = s.draining;
    maintenance_ = maintenance;
  }

  // Checks that appeared or moved, in the order of the set; then the ones
  // that left it (a reload), which move to null.
  for (auto& [name, seen] : checks_) seen.seen = false;
  if (snap) {
    for (const auto& c : snap->checks) {
      const auto st = c.state.effective(snap->taken_at, c.spec->stale_after());
      auto [it, added] = checks_.try_emplace(c.spec->name, check_seen{st, true});
      const bool moved = added || it->second.status != st;
      const feed_json from =
          added ? feed_json(nullptr) : feed_json(health::to_string(it->second.status));
      it->second = check_seen{st, true};
      if (!moved) continue;
      record(true, "check",
             feed_dump(feed_json{{"status", overall},
                                 {"check", c.spec->name},
                                 {"from", from},
                                 {"to", health::to_string(st)},
                                 {"reason", check_reason(c, snap->taken_at)},
                                 {"timestamp", now}}));
    }
  }
  for (auto it = checks_.begin(); it != checks_.end();) {
    if (it->second.seen) {
      ++it;
      continue;
    }
    record(true, "check",
           feed_dump(feed_json{{"status", overall},
                               {"check", it->first},
                               {"from", health::to_string(it->second.status)},
                               {"to", nullptr},
                               {"reason", "removed from the set of checks"},
                               {"timestamp", now}}));
    it = checks_.erase(it);
  }
}

std::uint64_t event_feed::snapshot(bool with_checks, std::string& out) const {
  // The cursor first, then the state: a change between the two is sent
  // twice (in the state and as an event), never missed.
  std::uint64_t cursor = 0;
  {
    const std::lock_guard lock(mutex_);
    cursor = last_seq_;
  }
  const health::summary s = source_.current();
  const auto snap = source_.details();
  feed_json data{{"status", health::to_string(s.overall)},
                 {"reason", overall_reason(s, snap.get(), source_.maintenance().get())},
                 {"timestamp", feed_timestamp()}};
  if (with_checks) {
    feed_json checks = feed_json::object();
    if (snap) {
      for (const auto& c : snap->checks) {
        const auto st = c.state.effective(snap->taken_at, c.spec->stale_after());
        feed_json entry{{"status", health::to_string(st)}};
        if (st == health::check_status::fail || st == health::check_status::warn) {
          entry["reason"] = check_reason(c, snap->taken_at);
        }
        checks[c.spec->name] = std::move(entry);
      }
    }
    data["checks"] = std::move(checks);
  }
  out.append(frame(cursor, "state", feed_dump(data)));
  return cursor;
}

std::uint64_t event_feed::since(std::uint64_t cursor, bool with_checks, std::string& out,
                                std::size_t max_bytes) const {
  {
    const std::lock_guard lock(mutex_);
    if (cursor >= last_seq_) return cursor;
    // Still in the ring: what came after the cursor.
    if (!ring_.empty() && ring_.front().seq <= cursor + 1) {
      for (auto it = ring_.begin() + static_cast<std::ptrdiff_t>(cursor + 1 - ring_.front().seq);
           it != ring_.end() && out.size() < max_bytes; ++it) {
        if (with_checks || !it->check_level) out.append(it->text);
        cursor = it->seq;
      }
      return cursor;
    }
  }
  // Fallen further behind than the ring keeps: the whole state again.
  return snapshot(with_checks, out);
}

}  // namespace badges_health::app
