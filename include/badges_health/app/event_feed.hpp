// The live event stream's feed: after every change of the health model it
// compares the new state with the last one it saw and records an event
// for the overall status and for each check that moved, framed as
// Server-Sent Events, in a bounded ring that every stream reads from its
// own cursor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "badges_health/health/check_state.hpp"
#include "badges_health/health/maintenance.hpp"
#include "badges_health/health/status.hpp"
#include "badges_health/http/event_source.hpp"

namespace badges_health::app {

class event_feed final : public http::event_source {
 public:
  /// Events kept for streams that are behind; one further behind gets a
  /// fresh snapshot instead.
  static constexpr std::size_t ring_size = 256;

  /// `source` must outlive the feed.
  explicit event_feed(const health::status_source& source);

  /// The model changed: records what moved. Called on the model's writer
  /// thread (its on_change listener), one call at a time.
  void update();

  std::uint64_t snapshot(bool with_checks, std::string& out) const override;
  std::uint64_t since(std::uint64_t cursor, bool with_checks, std::string& out,
                      std::size_t max_bytes) const override;

 private:
  struct event {
    std::uint64_t seq;
    bool check_level;
    std::string text;  // `id:`, `event:` and `data:` lines, blank line
  };
  struct check_seen {
    health::check_status status;
    bool seen;  // still in the set of checks (reset at each update)
  };

  void record(bool check_level, std::string_view kind, std::string data);

  const health::status_source& source_;
  mutable std::mutex mutex_;
  std::deque<event> ring_;      // guarded by mutex_
  std::uint64_t last_seq_ = 0;  // guarded by mutex_
  // What update() saw last; only the writer thread touches these.
  health::status overall_;
  bool draining_ = false;
  std::shared_ptr<const health::maintenance_window> maintenance_;
  std::unordered_map<std::string, check_seen> checks_;
};

}  // namespace badges_health::app
