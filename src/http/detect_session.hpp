// The step before any session: a connection just accepted on the HTTP port
// shows by its first bytes whether it speaks HTTP/2 (the prior-knowledge
// preface, RFC 9113 section 3.4) or HTTP/1.1, and is handed, with the
// bytes read so far, to the session for that protocol.
//
// The common case costs the fewest system calls: the listening socket
// defers accept until the client has sent (TCP_DEFER_ACCEPT), so the
// request is there at accept; a prober's one-request connection (kubelet,
// HAProxy's httpchk) is read, answered and closed on the accepted
// descriptor in this one step, before an Asio socket exists. A socket
// handed to Asio is registered with epoll (and removed again before it is
// closed) and switched to non-blocking mode with an ioctl: three calls
// that a connection answered at once does not need. Anything that must
// wait (a request not complete, a socket that does not take the answer,
// keep-alive, lingering, HTTP/2) is handed to an Asio socket and goes on
// there.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <memory>
#include <string>

#include "accept_loop.hpp"
#include "connection.hpp"

namespace badges_health::http {

/// Serves a connection accepted on the HTTP port: counts it (refusing it
/// with a 503 past --max-connections), reads its first bytes and hands it
/// on. Runs on the worker's thread.
void serve_accepted(accepted_fd fd, const boost::asio::ip::tcp& protocol, connection_context& ctx);

/// A connection whose first bytes have not shown its protocol yet: waits
/// for more under the first request's deadline.
class detect_session final : public connection,
                             public std::enable_shared_from_this<detect_session> {
 public:
  detect_session(boost::asio::ip::tcp::socket socket, connection_slot slot, connection_context& ctx,
                 const boost::asio::ip::tcp::endpoint& client, clock::time_point request_deadline,
                 std::string seen);
  ~detect_session() override;
  detect_session(const detect_session&) = delete;
  detect_session& operator=(const detect_session&) = delete;

  void start();

  clock::time_point deadline() const noexcept override { return deadline_; }
  void expire() override { close(); }
  /// A connection that has not sent its first request keeps its budget:
  /// it was accepted, so it is answered.
  void shutdown() override {}

 private:
  void on_readable(boost::system::error_code ec);
  void close();

  boost::asio::ip::tcp::socket socket_;
  connection_slot slot_;
  connection_context& ctx_;
  boost::asio::ip::tcp::endpoint client_;
  clock::time_point deadline_;
  std::string seen_;
  bool closed_ = false;
};

}  // namespace badges_health::http
