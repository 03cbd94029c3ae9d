// What the live event stream (GET /status/events) reads, as the http layer
// needs it: the state now, and the events recorded since a stream's
// cursor, already framed as Server-Sent Events. The app layer implements it
// over the health model; the http layer only carries the bytes (HTTP/1.1
// chunks, HTTP/2 DATA frames) and keeps the streams open.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace badges_health::http {

class event_source {
 public:
  virtual ~event_source() = default;

  /// Appends one event with the whole state now (the overall status; each
  /// check's too when `with_checks`) and returns the cursor it stands
  /// for: the stream reads on from there.
  virtual std::uint64_t snapshot(bool with_checks, std::string& out) const = 0;

  /// Appends the events recorded after `cursor` (check events only when
  /// `with_checks`), stopping once `out` holds `max_bytes` or more, and
  /// returns the new cursor. A cursor older than what is kept gets a fresh
  /// snapshot instead. Called on the request workers: no I/O, only a
  /// short lock.
  virtual std::uint64_t since(std::uint64_t cursor, bool with_checks, std::string& out,
                              std::size_t max_bytes) const = 0;
};

/// What a stream takes from the feed at a time, at most (about): the
/// bound on what a slow client makes the server hold for it.
inline constexpr std::size_t event_batch_bytes = 16 * 1024;

/// A comment line that keeps proxies from closing a quiet stream.
inline constexpr std::string_view event_keep_alive = ": keep-alive\n\n";

/// How often a quiet stream gets event_keep_alive.
inline constexpr std::chrono::seconds event_keep_alive_interval{15};

/// When a stream quiet at `now` sends its next keep-alive comment: the
/// next multiple of the interval, so that every quiet stream of a worker
/// shares one wake-up.
template <class TimePoint>
TimePoint next_keep_alive(TimePoint now) noexcept {
  const auto interval =
      std::chrono::duration_cast<typename TimePoint::duration>(event_keep_alive_interval);
  return TimePoint{(now.time_since_epoch() / interval + 1) * interval};
}

}  // namespace badges_health::http
