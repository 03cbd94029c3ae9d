// One client connection: the socket and the alternation of reading and
// writing around a request_processor. Reading and writing alternate, so a
// client that does not read its responses stops being read from. The socket
// is registered with the worker's readiness_poller for its whole life, and
// every phase has a deadline enforced by the worker's sweep: nothing is
// re-armed per request, neither a wait nor a timer.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>

#include "badges_health/http/connection_context.hpp"
#include "badges_health/http/readiness_poller.hpp"
#include "badges_health/http/request_processor.hpp"

namespace badges_health::http {

class session : public readiness_poller::target, public std::enable_shared_from_this<session> {
 public:
  using clock = std::chrono::steady_clock;

  /// Takes ownership of `fd`, a connected, non-blocking TCP socket.
  session(int fd, connection_context& ctx);
  ~session() override;
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  /// Registers the socket with the worker's poller and waits for the first
  /// request.
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

  void on_ready(std::uint32_t events) override;

 private:
  enum class phase { reading, writing, lingering, closed };

  /// Enters the reading phase; reads at once only if input is known to be
  /// there, otherwise the next event does.
  void wait_readable();
  void on_readable();
  void after_processing();
  /// Writes the output now; true when all of it went. Otherwise the rest
  /// waits for the socket to be writable (or the connection closed).
  bool write_now();
  /// Sends what is left of the output; true when all of it went.
  bool send_rest();
  /// The socket became writable while part of the output waits.
  void on_writable();
  /// One recv: bytes read, 0 when nothing is there yet, -1 at end of stream
  /// or on an error. Keeps `readable_` true only while more may be there.
  std::ptrdiff_t receive_now(char* data, std::size_t size);
  /// The processor is closing: close now or linger, as it requires.
  void finish();
  /// After a write: drops the output and answers buffered requests; false
  /// when the connection moved on to lingering instead.
  bool continue_after_write();
  /// Lets other connections run before writing more of this one's answers.
  void yield();
  void do_linger();
  void on_linger_readable();
  /// Closes the socket and leaves the poller, which may destroy this
  /// session: nothing may touch it afterwards.
  void close();

  int fd_;
  connection_context& ctx_;
  request_processor processor_;
  std::uint64_t token_ = 0;
  clock::time_point deadline_;
  clock::time_point request_deadline_;
  std::size_t lingered_ = 0;
  // Bytes of the output already sent while the rest waits for the socket.
  std::size_t sent_ = 0;
  // An event said input (or its end) may be waiting and no read since has
  // come back short. Edge-triggered events come once per arrival, so this
  // is the only memory of one that came while the session was writing.
  bool readable_ = false;
  // The peer half-closed: keep reading until the end of stream is seen.
  bool peer_closed_ = false;
  bool write_pending_ = false;
  bool watching_output_ = false;
  bool shutting_down_ = false;
  bool no_delay_ = false;
  phase phase_ = phase::reading;
  std::list<session*>::iterator registry_pos_;
};

}  // namespace badges_health::http
