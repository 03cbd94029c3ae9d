// The one way a connection ends when the client may still be sending:
// our side is shut (a FIN after what was written), and what the client
// still sends is read and dropped until it closes, the linger timeout
// passes, or max_linger_bytes have come. Closing on unread bytes would
// reset the connection, and a reset can destroy our last answer before
// the client has read it (nginx's lingering close). HTTP/1.1, HTTP/2 and
// the agent port all end here.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <memory>

#include "connection.hpp"

namespace badges_health::http {

class lingering_close final : public connection,
                              public std::enable_shared_from_this<lingering_close> {
 public:
  /// Bytes read and dropped before giving up and closing at once.
  static constexpr std::size_t max_linger_bytes = 64 * 1024;

  /// Takes over `socket` (with no operation pending on it) and its slot.
  static void start(boost::asio::ip::tcp::socket socket, connection_slot slot,
                    connection_context& ctx);

  lingering_close(boost::asio::ip::tcp::socket socket, connection_slot slot,
                  connection_context& ctx);
  ~lingering_close() override;
  lingering_close(const lingering_close&) = delete;
  lingering_close& operator=(const lingering_close&) = delete;

  clock::time_point deadline() const noexcept override { return deadline_; }
  void expire() override { close(); }
  void shutdown() override {}  // already closing

 private:
  void do_wait();
  void on_readable(boost::system::error_code ec);
  void close();

  boost::asio::ip::tcp::socket socket_;
  connection_slot slot_;
  connection_context& ctx_;
  clock::time_point deadline_;
  std::size_t dropped_ = 0;
};

}  // namespace badges_health::http
