// An HTTP/2 connection on an Asio socket: reads go to the socket-free
// h2_connection, what it has to send is written back. Unlike HTTP/1.1,
// reading and writing overlap (a Watch stream pushes while the client is
// quiet), but a client that does not read its frames stops being read
// from, and frames are produced only as fast as the socket takes them.
// Deadlines are enforced by the worker's sweep, as for HTTP/1.1; the end
// is a lingering close.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "connection.hpp"
#include "h2_connection.hpp"

namespace badges_health::http {

class h2_session final : public connection, public std::enable_shared_from_this<h2_session> {
 public:
  /// Output produced ahead of the socket at most (frames held in memory).
  static constexpr std::size_t max_unsent = 64 * 1024;

  /// Takes over a connection whose preface has been read. `request_deadline`
  /// is the budget the connection had for its first request.
  h2_session(boost::asio::ip::tcp::socket socket, connection_slot slot, connection_context& ctx,
             const boost::asio::ip::tcp::endpoint& client, clock::time_point request_deadline);
  ~h2_session() override;
  h2_session(const h2_session&) = delete;
  h2_session& operator=(const h2_session&) = delete;

  /// Starts with the bytes that came after the preface in the same read.
  void start(std::string_view after_preface);

  clock::time_point deadline() const noexcept override { return deadline_; }
  void expire() override;
  void shutdown() override;
  void health_changed() override;

 private:
  void receive(std::string_view bytes);
  void do_read();
  void on_readable(boost::system::error_code ec);
  /// Writes what the connection has to send, directly as far as the
  /// socket takes it, the rest when the socket is writable; then reads
  /// on, or ends when the connection is finished.
  void flush();
  void on_writable(boost::system::error_code ec);
  void update_deadline();
  /// Sends what is queued (a GOAWAY) if the socket takes it, then lingers.
  void close_after_flush();
  /// Hands the socket to a lingering close once no wait is pending on it.
  void linger();
  void close();
  void set_deadline(clock::time_point at);

  boost::asio::ip::tcp::socket socket_;
  connection_slot slot_;
  connection_context& ctx_;
  // The client's address, for the access log.
  boost::asio::ip::tcp::endpoint client_;
  h2_connection h2_;
  std::string out_;
  std::size_t out_pos_ = 0;
  clock::time_point deadline_;
  clock::time_point first_deadline_;
  clock::time_point idle_since_;
  clock::time_point write_deadline_;
  bool reading_ = false;  // a read wait is pending
  bool writing_ = false;  // a write wait is pending
  bool ending_ = false;   // lingering once the pending waits complete
  bool closed_ = false;
};

}  // namespace badges_health::http
