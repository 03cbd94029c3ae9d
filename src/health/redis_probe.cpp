// The redis check: a minimal RESP exchange. AUTH and PING go out together
// (pipelined) and their replies are read one line each.
#include "redis_probe.hpp"

#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <istream>

namespace badges_health::health {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

/// A RESP array of bulk strings: how a client sends a command.
std::string command(std::initializer_list<std::string_view> words) {
  std::string out = "*" + std::to_string(words.size()) + "\r\n";
  for (auto w : words) {
    out.append("$").append(std::to_string(w.size())).append("\r\n").append(w).append("\r\n");
  }
  return out;
}

}  // namespace

redis_probe::redis_probe(const check_spec& spec, asio::any_io_executor ex)
    : connector_(spec.host, spec.port, std::move(ex)),
      username_(spec.username),
      password_(spec.password) {}

void redis_probe::start(completion done) {
  done_ = std::move(done);
  started_ = std::chrono::steady_clock::now();
  connector_.start([self = shared_from_this()](const std::string& error, const tcp::endpoint&) {
    if (!error.empty()) return self->finish(false, error);
    self->on_connected();
  });
}

void redis_probe::on_connected() {
  request_.clear();
  awaiting_auth_ = !password_.empty();
  if (awaiting_auth_) {
    request_ =
        username_.empty() ? command({"AUTH", password_}) : command({"AUTH", username_, password_});
  }
  request_ += command({"PING"});
  asio::async_write(connector_.socket(), asio::buffer(request_),
                    [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                      if (ec) return self->finish(false, "send: " + ec.message());
                      self->read_reply();
                    });
}

void redis_probe::read_reply() {
  asio::async_read_until(connector_.socket(), replies_, "\r\n",
                         [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                           self->on_reply(ec);
                         });
}

void redis_probe::on_reply(boost::system::error_code ec) {
  if (ec == asio::error::not_found) {
    return finish(false, "reply longer than " + std::to_string(redis_probe_reply_limit) + " bytes");
  }
  if (ec == asio::error::eof) return finish(false, "connection closed by the server");
  if (ec) return finish(false, "read reply: " + ec.message());
  std::istream in(&replies_);
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  // A simple string (+OK, +PONG) or an error (-WRONGPASS ..., -NOAUTH
  // ..., -LOADING ...); redis's error texts never repeat the password.
  if (awaiting_auth_) {
    awaiting_auth_ = false;
    if (line != "+OK") return finish(false, "AUTH failed: " + line.substr(line.empty() ? 0 : 1));
    return read_reply();
  }
  if (line == "+PONG") return finish(true, "PONG");
  finish(false, "PING answered " + (line.empty() ? std::string("nothing") : line));
}

void redis_probe::finish(bool pass, const std::string& what) {
  boost::system::error_code ignored;
  connector_.socket().close(ignored);
  if (!done_) return;
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started_);
  auto done = std::move(done_);
  done_ = nullptr;
  done({pass, what + " (after " + std::to_string(ms.count()) + " ms)"});
}

void redis_probe::cancel() noexcept { connector_.cancel(); }

}  // namespace badges_health::health
