// The bytes a connection has to send, in order: pieces it built (copied
// in, or moved in whole) and shared bodies it only refers to. A gather
// write takes the front pieces as they are, so a shared body is never
// copied into the connection. `held()` is what the queue costs in memory,
// which is what the connection bounds before it takes more work.
#pragma once

#include <array>
#include <boost/asio/buffer.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "badges_health/http/response.hpp"

namespace badges_health::http {

class output_queue {
 public:
  /// Buffers handed to one gather write, at most.
  static constexpr std::size_t max_buffers = 16;
  using buffer_array = std::array<boost::asio::const_buffer, max_buffers>;

  /// Copies `bytes` to the end (into the last piece when it was built here).
  void append(std::string_view bytes);
  /// Moves a large piece in whole, without copying it.
  void append(std::string&& bytes);
  /// Refers to a shared body; only the reference is held.
  void append(shared_bytes shared);

  bool empty() const noexcept { return size_ == 0; }
  /// Bytes left to send.
  std::size_t size() const noexcept { return size_; }
  /// Bytes of memory the queue owns (shared bodies not counted).
  std::size_t held() const noexcept { return held_; }

  /// Fills `out` with the front pieces; returns how many.
  std::size_t front(buffer_array& out) const noexcept;
  /// `n` bytes from the front were sent.
  void consume(std::size_t n) noexcept;
  /// Drops everything and releases the memory.
  void clear() noexcept;

  /// Everything queued, as one string (tests and the fuzzer).
  std::string to_string() const;

 private:
  struct piece {
    std::string owned;
    shared_bytes shared;
    std::size_t pos = 0;  // bytes of it already sent
    // Built by append(string_view): later copies may extend it.
    bool extensible = false;
    std::string_view bytes() const noexcept {
      return shared ? shared.view() : std::string_view(owned);
    }
  };

  std::vector<piece> pieces_;
  std::size_t head_ = 0;  // first piece not yet sent
  std::size_t size_ = 0;
  std::size_t held_ = 0;
};

}  // namespace badges_health::http
