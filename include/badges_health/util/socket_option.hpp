// An on/off socket option that Asio does not name (SO_REUSEPORT,
// TCP_QUICKACK), in the shape of Asio's SettableSocketOption, for
// `socket.set_option(...)`.
#pragma once

#include <cstddef>

namespace badges_health::util {

template <int Level, int Name>
class boolean_socket_option {
 public:
  explicit boolean_socket_option(bool on) noexcept : value_(on ? 1 : 0) {}
  template <class Protocol>
  int level(const Protocol&) const noexcept {
    return Level;
  }
  template <class Protocol>
  int name(const Protocol&) const noexcept {
    return Name;
  }
  template <class Protocol>
  const void* data(const Protocol&) const noexcept {
    return &value_;
  }
  template <class Protocol>
  std::size_t size(const Protocol&) const noexcept {
    return sizeof value_;
  }

 private:
  int value_;
};

}  // namespace badges_health::util
