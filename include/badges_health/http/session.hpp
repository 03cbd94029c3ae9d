// One client connection: the socket and the alternation of reading and
// writing around a request_processor. Reading and writing alternate, so a
// client that does not read its responses stops being read from. Every
// phase has a deadline, enforced by the worker's sweep (no timer per
// connection, nothing re-armed per request).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <list>
#include <memory>

#include "badges_health/http/connection_context.hpp"
#include "badges_health/http/request_processor.hpp"

namespace badges_health::http {

class session : public std::enable_shared_from_this<session> {
 public:
  using clock = std::chrono::steady_clock;

  session(boost::asio::ip::tcp::socket&& socket, connection_context& ctx);
  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  void start();
  /// Graceful stop (server draining): an idle connection closes now; one
  /// with a request in progress answers it with `Connection: close`.
  /// Must run on the session's own thread.
  void shutdown();

  /// When the current phase (reading a request, waiting idle, writing,
  /// lingering) runs out.
  clock::time_point deadline() const noexcept { return deadline_; }
  /// The deadline passed: close quietly. Called by the worker's sweep.
  void expire();

 private:
  enum class phase { reading, writing, lingering, closed };

  void wait_readable();
  void on_readable(boost::system::error_code ec);
  void after_processing();
  /// Writes the output now; true when all of it went. Otherwise the rest
  /// is left to an asynchronous write (or the connection closed).
  bool write_now();
  /// One non-blocking recv: bytes read, 0 when nothing is there yet, -1 at
  /// end of stream or on an error.
  std::ptrdiff_t receive_now(char* data, std::size_t size);
  /// The processor is closing: close now or linger, as it requires.
  void finish();
  void on_write(boost::system::error_code ec);
  /// After a write: drops the output and answers buffered requests; false
  /// when the connection moved on to lingering instead.
  bool continue_after_write();
  /// Lets other connections run before writing more of this one's answers.
  void yield();
  void do_linger();
  void on_linger_readable(boost::system::error_code ec);
  void close();

  boost::asio::ip::tcp::socket socket_;
  connection_context& ctx_;
  request_processor processor_;
  clock::time_point deadline_;
  clock::time_point request_deadline_;
  std::size_t lingered_ = 0;
  bool shutting_down_ = false;
  bool no_delay_ = false;
  phase phase_ = phase::reading;
  std::list<session*>::iterator registry_pos_;
};

}  // namespace badges_health::http
