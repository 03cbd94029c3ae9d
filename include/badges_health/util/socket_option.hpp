// Socket options that Asio does not name (SO_REUSEPORT, TCP_QUICKACK,
// TCP_DEFER_ACCEPT), in the shape of Asio's SettableSocketOption, for
// `socket.set_option(...)`.
#pragma once

#include <cstddef>

namespace badges_health::util {

/// An option whose value is an int.
template <int Level, int Name>
class integer_socket_option {
 public:
  explicit integer_socket_option(int value) noexcept : value_(value) {}
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

/// An on/off option.
template <int Level, int Name>
class boolean_socket_option : public integer_socket_option<Level, Name> {
 public:
  explicit boolean_socket_option(bool on) noexcept
      : integer_socket_option<Level, Name>(on ? 1 : 0) {}
};

}  // namespace badges_health::util
