// Pieces appended at the back, sent from the front.
#include "badges_health/http/output_queue.hpp"

#include <utility>

namespace badges_health::http {

void output_queue::append(std::string_view bytes) {
  if (bytes.empty()) return;
  if (head_ == pieces_.size() || !pieces_.back().extensible) {
    pieces_.emplace_back();
    pieces_.back().extensible = true;
  }
  std::string& s = pieces_.back().owned;
  const std::size_t before = s.capacity();
  s.append(bytes);
  size_ += bytes.size();
  held_ += s.capacity() - before;
}

void output_queue::append(std::string&& bytes) {
  if (bytes.empty()) return;
  size_ += bytes.size();
  held_ += bytes.capacity();
  pieces_.emplace_back().owned = std::move(bytes);
}

void output_queue::append(shared_bytes shared) {
  if (shared.view().empty()) return;
  size_ += shared.view().size();
  pieces_.emplace_back().shared = std::move(shared);
}

std::size_t output_queue::front(buffer_array& out) const noexcept {
  std::size_t n = 0;
  for (std::size_t i = head_; i < pieces_.size() && n < out.size(); ++i) {
    const std::string_view b = pieces_[i].bytes().substr(pieces_[i].pos);
    out[n++] = boost::asio::const_buffer(b.data(), b.size());
  }
  return n;
}

void output_queue::consume(std::size_t n) noexcept {
  size_ -= n;
  while (n > 0 && head_ < pieces_.size()) {
    piece& p = pieces_[head_];
    const std::size_t left = p.bytes().size() - p.pos;
    if (n < left) {
      p.pos += n;
      return;
    }
    n -= left;
    held_ -= p.shared ? 0 : p.owned.capacity();
    p = piece{};
    ++head_;
  }
  if (head_ == pieces_.size()) clear();
}

void output_queue::clear() noexcept {
  // The vector itself goes too: an idle connection holds nothing.
  std::vector<piece>().swap(pieces_);
  head_ = 0;
  size_ = 0;
  held_ = 0;
}

std::string output_queue::to_string() const {
  std::string out;
  out.reserve(size_);
  for (std::size_t i = head_; i < pieces_.size(); ++i) {
    out.append(pieces_[i].bytes().substr(pieces_[i].pos));
  }
  return out;
}

}  // namespace badges_health::http
