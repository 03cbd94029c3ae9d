// An HTTP/2 connection on an Asio socket: reads go to the socket-free
// h2_processor, whatever it has to send is written back. Unlike HTTP/1.1,
// reading and writing overlap (a Watch stream pushes while the client is
// quiet), but a client that does not read its frames stops being read
// from. Deadlines are enforced by the worker's sweep, as for HTTP/1.1.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "connection_context.hpp"
#include "h2_processor.hpp"

namespace badges_health::http {

class h2_session final : public connection, public std::enable_shared_from_this<h2_session> {
 public:
  /// Takes over a connection whose preface has been read. `request_deadline`
  /// is the budget the connection had for its first request.
  h2_session(boost::asio::ip::tcp::socket socket, connection_context& ctx,
             clock::time_point request_deadline);
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
  void on_read(boost::system::error_code ec, std::size_t n);
  /// Writes what the processor has to send, directly as far as the socket
  /// takes it, the rest asynchronously; then reads on, or closes when the
  /// connection is finished.
  void flush();
  void on_write(boost::system::error_code ec);
  void update_deadline();
  /// Sends what is queued (a GOAWAY) if the socket takes it, then lingers.
  void close_after_flush();
  /// Half-closes and reads (and drops) what the client still sends for up
  /// to the linger timeout, so that closing on unread bytes does not reset
  /// the connection before the client has read our last frames (GOAWAY).
  void linger();
  void on_linger_read(boost::system::error_code ec, std::size_t n);
  void close();

  boost::asio::ip::tcp::socket socket_;
  connection_context& ctx_;
  h2_processor processor_;
  std::vector<char> buffer_;
  std::string out_;
  clock::time_point deadline_;
  clock::time_point first_deadline_;
  clock::time_point idle_since_;
  clock::time_point write_deadline_;
  bool reading_ = false;
  bool writing_ = false;
  bool lingering_ = false;
  bool closed_ = false;
  std::size_t lingered_ = 0;
  std::list<connection*>::iterator registry_pos_;
};

}  // namespace badges_health::http
