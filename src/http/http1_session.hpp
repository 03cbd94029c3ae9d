// An HTTP/1.1 connection on an Asio socket, after the detect step: wait
// until the socket is readable, read into the worker's buffer, hand the
// bytes to the socket-free request_processor, write its answers, repeat.
// Reading and writing alternate, so a client that does not read its
// responses stops being read from, and what it can make the connection
// hold is one batch (request_processor's bounds). Every phase has a
// deadline, enforced by the worker's sweep. A request for the event stream
// turns the connection into one: it then only writes (events, a comment
// when quiet) and reads only to notice the client's end.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>

#include "badges_health/http/request_processor.hpp"
#include "connection.hpp"

namespace badges_health::http {

class http1_session final : public connection, public std::enable_shared_from_this<http1_session> {
 public:
  /// Takes over a connection whose first bytes `processor` has received
  /// (it may already hold answers). `request_deadline` is the first
  /// request's budget, counted from accept.
  http1_session(boost::asio::ip::tcp::socket socket, connection_slot slot, connection_context& ctx,
                const boost::asio::ip::tcp::endpoint& client, request_processor processor,
                clock::time_point request_deadline);
  ~http1_session() override;
  http1_session(const http1_session&) = delete;
  http1_session& operator=(const http1_session&) = delete;

  /// Writes what the processor holds, or reads on. `more_to_read`: the
  /// first read filled the buffer, so more bytes may be waiting.
  void start(bool more_to_read);
  /// The server stopped accepting: an idle connection is closed gracefully
  /// now; one with a request in progress answers it with
  /// `Connection: close`.
  void shutdown() override;

  clock::time_point deadline() const noexcept override { return deadline_; }
  /// The deadline passed: close quietly (an event stream that is waiting
  /// sends its keep-alive comment instead).
  void expire() override;
  /// An event stream sends what is new.
  void health_changed() override;

 private:
  // streaming: an event stream with everything written, waiting for news.
  enum class phase { reading, writing, yielding, streaming, closed };

  void do_read();
  /// Whether this read is first tried after the worker's other work, not
  /// waited for at once (see read_later_skips_).
  bool read_later() noexcept;
  /// `tried_later`: a read from read_later(), not after a wait.
  void on_readable(boost::system::error_code ec, bool tried_later = false);
  /// One read into the worker's buffer; false when the connection closed
  /// or nothing was there (then it waits).
  bool read_now(bool tried_later = false);
  /// Writes what the processor answered and moves on: the next batch of
  /// pipelined answers, closing, or the next read.
  void serve();
  /// Writes as much of the output as the socket takes; false when the rest
  /// waits for the socket (or the connection closed).
  bool write_now();
  void on_writable(boost::system::error_code ec);
  /// After a complete write: false when the connection is closing instead
  /// of going on.
  bool next_batch();
  /// Lets other connections run before writing more of this one's answers.
  void yield();
  /// Closing: at once when the client asked for it, otherwise lingering.
  void finish();
  /// Hands the socket to a lingering close.
  void linger();
  void close();

  // ---- the event stream (GET /status/events)
  /// The processor answered with an event stream: its first event.
  void begin_stream();
  /// Everything written: what is new, the end when shutting down, or a wait.
  void stream_pump();
  /// Appends `data` to the output as the stream's body (a chunk in HTTP/1.1).
  void append_stream(std::string_view data);
  /// The stream's last chunk is written: close.
  void end_stream();
  /// Keeps one read wait pending, to notice the client's end.
  void wait_stream_read();
  void on_stream_readable(boost::system::error_code ec);

  void set_deadline(clock::time_point at);
  bool draining() const noexcept { return shutting_down_ || ctx_.is_draining(); }

  boost::asio::ip::tcp::socket socket_;
  connection_slot slot_;
  connection_context& ctx_;
  // The client's address, for the access log.
  boost::asio::ip::tcp::endpoint client_;
  request_processor processor_;
  clock::time_point deadline_;
  clock::time_point request_deadline_;
  phase phase_ = phase::reading;
  bool shutting_down_ = false;
  // Shut down while a read wait was pending: linger once it is cancelled.
  bool linger_when_cancelled_ = false;
  // The last read filled the buffer: more may be waiting, read again
  // before waiting.
  bool more_to_read_ = false;
  bool no_delay_ = false;
  // A keep-alive client under load has usually sent its next request by
  // the time the worker has served its other ready connections, so the
  // read after a response is tried then, with no wait: no epoll_ctl, no
  // epoll_wait. A try that finds nothing (a client that waits, like a
  // single sequential one) costs one failed read and makes the next reads
  // wait at once, more of them after each miss in a row (up to 16).
  unsigned read_later_skips_ = 0;
  unsigned read_later_backoff_ = 0;
  // The event stream: what the connection has read of the feed, and how.
  std::uint64_t stream_cursor_ = 0;
  // When the output being written began to wait (the write timeout's start).
  clock::time_point stream_batch_at_;
  bool streaming_ = false;
  bool stream_done_ = false;  // the last chunk is in the output
  bool stream_read_pending_ = false;
};

}  // namespace badges_health::http
