// One client connection on an Asio socket: read, hand the bytes to the
// socket-free request_processor, write its answers, repeat. Reading and
// writing alternate, so a client that does not read its responses stops
// being read from. Every phase has a deadline, enforced by the worker's
// sweep rather than a timer per connection.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "badges_health/http/request_processor.hpp"
#include "connection_context.hpp"

namespace badges_health::http {

class session final : public connection, public std::enable_shared_from_this<session> {
 public:
  session(boost::asio::ip::tcp::socket socket, connection_context& ctx);
  ~session() override;
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  /// Starts reading the first request.
  void start();
  /// The server stopped accepting: an idle connection is closed gracefully
  /// now; one with a request in progress answers it with
  /// `Connection: close`. Runs on the session's own thread.
  void shutdown() override;

  /// When the current phase (reading a request, waiting idle, writing,
  /// lingering) runs out.
  clock::time_point deadline() const noexcept override { return deadline_; }
  /// The deadline passed: close quietly. Called by the worker's sweep.
  void expire() override;

 private:
  enum class phase { reading, writing, lingering, closed };
  enum class protocol { http1, http2, undecided };

  /// Whether the connection's first bytes are the HTTP/2 preface. `data`
  /// becomes what the chosen protocol reads: for HTTP/1.1 every byte so
  /// far, for HTTP/2 what followed the preface.
  protocol sniff(std::string_view& data);
  /// Hands the socket to an h2_session.
  void hand_over(std::string_view after_preface);

  void do_read();
  /// One read into the buffer; on_read takes it, whatever the phase.
  void read_some();
  void on_read(boost::system::error_code ec, std::size_t n);
  /// Writes what the processor answered and moves on: the next batch of
  /// pipelined answers, closing, or the next read.
  void serve();
  /// Writes the output at once as far as the socket takes it; false when
  /// the rest went to an asynchronous write (or the connection closed).
  bool write_now();
  void on_write(boost::system::error_code ec);
  /// After a complete write: false when the connection is closing instead
  /// of going on.
  bool next_batch();
  /// Lets other connections run before writing more of this one's answers.
  void yield();
  /// Closing: at once when the client asked for it, otherwise lingering.
  void finish();
  /// Half-closes and reads (and drops) what the client still sends, so
  /// that closing on unread bytes does not reset the connection before the
  /// client has read our answer.
  void do_linger();
  /// Enters lingering: half-close and start the linger deadline.
  void begin_linger();
  void on_linger_read(std::size_t n);
  void close();

  bool draining() const noexcept;
  void fit_buffer(std::size_t last_read);

  boost::asio::ip::tcp::socket socket_;
  connection_context& ctx_;
  request_processor processor_;
  // Where reads land; small while idle, grown toward the header limit only
  // while a request is incomplete.
  std::vector<char> buffer_;
  clock::time_point deadline_;
  clock::time_point request_deadline_;
  std::size_t lingered_ = 0;
  bool shutting_down_ = false;
  bool no_delay_ = false;
  phase phase_ = phase::reading;
  // Until the first bytes show which protocol the client speaks; a preface
  // split across reads collects here.
  bool sniffing_ = true;
  bool handed_over_ = false;
  std::string sniffed_;
  std::list<connection*>::iterator registry_pos_;
};

}  // namespace badges_health::http
