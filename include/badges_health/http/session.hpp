// One client connection: reads bytes, parses requests with Beast's parser,
// answers every complete request already buffered (pipelining), writes the
// batch in one write, and repeats. Reading and writing alternate, so a
// client that does not read its responses stops being read from.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <array>
#include <chrono>
#include <list>
#include <memory>
#include <optional>
#include <string>

#include "badges_health/http/connection_context.hpp"

namespace badges_health::http {

class http_error;

class session : public std::enable_shared_from_this<session> {
 public:
  session(boost::asio::ip::tcp::socket&& socket, connection_context& ctx);
  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  void start();
  /// Graceful stop (server draining): an idle connection closes now; one
  /// with a request in progress answers it with `Connection: close`.
  /// Must run on the session's own thread.
  void shutdown();

 private:
  enum class phase { reading, writing, lingering, closed };
  using parser_type = boost::beast::http::request_parser<boost::beast::http::empty_body>;

  void do_read();
  void on_read(boost::beast::error_code ec, std::size_t bytes);
  void process();
  void answer_current();
  void reject(const http_error& e);
  void reject_parse_error(boost::beast::error_code ec);
  void do_write();
  void on_write(boost::beast::error_code ec, std::size_t bytes);
  void do_linger();
  void linger_read();
  void on_linger(boost::beast::error_code ec, std::size_t bytes);
  void close();
  bool idle() const noexcept { return !parser_ && in_.size() == 0; }

  boost::beast::tcp_stream stream_;
  connection_context& ctx_;
  boost::beast::flat_buffer in_;
  std::string out_;
  std::optional<parser_type> parser_;
  std::size_t queued_ = 0;
  std::size_t lingered_ = 0;
  bool first_request_ = true;
  bool closing_ = false;
  bool shutting_down_ = false;
  phase phase_ = phase::reading;
  std::chrono::steady_clock::time_point request_deadline_;
  std::list<session*>::iterator registry_pos_;
  std::array<char, 1024> discard_{};
};

}  // namespace badges_health::http
