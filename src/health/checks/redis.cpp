// The redis check: connect, `AUTH [username] password` when a password is
// configured, then PING; a pass when PING answers +PONG. AUTH and PING go
// out together (pipelined) and their replies are read one line each.
//
// Not hiredis: the check is one command of a few bytes, and hiredis's
// asynchronous adapters are written for libevent, libev and friends, not
// Asio; driving its context by hand would take more code than the RESP
// exchange below, and add a library to the image.
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <istream>
#include <nlohmann/json.hpp>

#include "../connector.hpp"
#include "../exchange_checker.hpp"
#include "badges_health/health/check_reader.hpp"
#include "badges_health/health/checker.hpp"

namespace badges_health::health {

namespace checks {
extern const check_type redis;
}  // namespace checks

namespace redis_check {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

/// Largest reply line a redis check reads.
constexpr std::size_t reply_limit = 4096;

struct redis_fields {
  std::string host;
  unsigned short port = 6379;
  // AUTH credentials, empty when not given (never shown).
  std::string username;
  std::string password;
  bool operator==(const redis_fields&) const = default;
};

/// A RESP array of bulk strings: how a client sends a command.
std::string command(std::initializer_list<std::string_view> words) {
  std::string out = "*" + std::to_string(words.size()) + "\r\n";
  for (auto w : words) {
    out.append("$").append(std::to_string(w.size())).append("\r\n").append(w).append("\r\n");
  }
  return out;
}

// What the checker keeps for its attempts, which share it: an attempt's
// handlers may outlive the checker.
struct shared_part {
  connector connect;
  // AUTH (when a password is set) and PING, pipelined.
  std::string request;
  bool auth;

  shared_part(const redis_fields& f, asio::any_io_executor ex)
      : connect(f.host, f.port, std::move(ex)), auth(!f.password.empty()) {
    if (auth) {
      request = f.username.empty() ? command({"AUTH", f.password})
                                   : command({"AUTH", f.username, f.password});
    }
    request += command({"PING"});
  }
};

// One attempt: a connection and its two (or one) replies.
class exchange : public std::enable_shared_from_this<exchange> {
 public:
  exchange(std::shared_ptr<shared_part> shared, asio::any_io_executor ex)
      : shared_(std::move(shared)), awaiting_auth_(shared_->auth), socket_(std::move(ex)) {}

  void start(checker::completion done) {
    done_ = std::move(done);
    started_ = std::chrono::steady_clock::now();
    shared_->connect.start(socket_, [self = shared_from_this()](const connector::outcome& reached) {
      if (!reached) return self->finish(false, reached.error());
      asio::async_write(self->socket_, asio::buffer(self->shared_->request),
                        [self](boost::system::error_code ec, std::size_t) {
                          if (ec) return self->finish(false, "send: " + ec.message());
                          self->read_reply();
                        });
    });
  }

  void cancel() noexcept {
    done_ = nullptr;
    shared_->connect.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

 private:
  void read_reply() {
    asio::async_read_until(socket_, replies_, "\r\n",
                           [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                             self->on_reply(ec);
                           });
  }

  void on_reply(boost::system::error_code ec) {
    if (ec == asio::error::not_found) {
      return finish(false, "reply longer than " + std::to_string(reply_limit) + " bytes");
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

  void finish(bool pass, const std::string& what) {
    boost::system::error_code ignored;
    socket_.close(ignored);
    const auto done = std::exchange(done_, nullptr);
    if (!done) return;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started_);
    done({pass ? check_status::pass : check_status::fail,
          what + " (after " + std::to_string(ms.count()) + " ms)"});
  }

  std::shared_ptr<shared_part> shared_;
  // Replies still expected: AUTH's (when sent), then PING's.
  bool awaiting_auth_;
  tcp::socket socket_;
  asio::streambuf replies_{reply_limit};
  checker::completion done_;
  std::chrono::steady_clock::time_point started_;
};

class redis_settings final : public typed_settings<redis_fields> {
 public:
  using typed_settings::typed_settings;
  const check_type& type() const noexcept override { return checks::redis; }
  void describe(nlohmann::ordered_json& out) const override {
    out["host"] = fields_.host;
    out["port"] = fields_.port;
    out["username"] = fields_.username;
    out["passwordSet"] = !fields_.password.empty();
  }
  std::shared_ptr<checker> make_checker(const check_spec&,
                                        const checker_context& context) const override {
    return std::make_shared<exchange_checker<shared_part, exchange>>(
        std::make_shared<shared_part>(fields_, context.executor), context.executor);
  }
};

std::shared_ptr<const check_settings> read(const check_reader& in, check_spec&) {
  redis_fields f;
  f.host = in.non_empty_string("host");
  if (in.has("port")) f.port = in.port("port");
  if (in.has("password")) f.password = in.string("password");
  if (in.has("username")) {
    f.username = in.string("username");
    if (f.password.empty() && !f.username.empty()) {
      in.fail("username", "needs a password (AUTH username password)");
    }
  }
  return std::make_shared<redis_settings>(std::move(f));
}

constexpr std::string_view fields[] = {"host", "port", "username", "password"};

}  // namespace
}  // namespace redis_check

const check_type checks::redis{"redis", "datastore", redis_check::fields, false,
                               &redis_check::read};

}  // namespace badges_health::health
