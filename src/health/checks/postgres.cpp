// The postgres check: a fresh connection per attempt through libpq's
// non-blocking API, the query sent, and a pass when it returns without
// error. Asio waits on libpq's socket, so no thread ever blocks on the
// database; cancel() (the scheduler's timeout) closes the connection.
//
// One step per member: resolve the host names (asynchronously, so that
// libpq never calls the blocking getaddrinfo), connect with
// PQconnectStartParams/PQconnectPoll, send the query, read its results.
// The checker parses the connection string once and keeps the resolver.
#include <libpq-fe.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "../exchange_checker.hpp"
#include "badges_health/health/check_reader.hpp"
#include "badges_health/health/checker.hpp"
#include "badges_health/health/postgres_conninfo.hpp"

namespace badges_health::health {

namespace checks {
extern const check_type postgres;
}  // namespace checks

namespace postgres_check {
namespace {

namespace asio = boost::asio;
using asio::posix::stream_descriptor;

struct postgres_fields {
  // A libpq connection string (URI or key=value form, any ${VAR} already
  // replaced). It may hold a password: show it only through
  // redact_conninfo.
  std::string conninfo;
  std::string query = "SELECT 1";
  bool operator==(const postgres_fields&) const = default;
};

std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  std::size_t begin = 0;
  for (;;) {
    const std::size_t comma = list.find(',', begin);
    out.push_back(list.substr(begin, comma - begin));
    if (comma == std::string::npos) return out;
    begin = comma + 1;
  }
}

std::string join_list(const std::vector<std::string>& items) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) out += (i == 0 ? "" : ",") + items[i];
  return out;
}

/// A host entry libpq would look up by name: not a socket directory, not
/// an address literal.
bool needs_lookup(const std::string& host) {
  if (host.empty() || host.front() == '/' || host.front() == '@') return false;
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return static_cast<bool>(ec);
}

/// libpq's messages end in newlines and indent their hints; one line reads
/// better in a log line and the verbose output.
std::string one_line(std::string_view text) {
  std::string out;
  for (char c : text) {
    const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
    if (space && (out.empty() || out.back() == ' ')) continue;
    out.push_back(space ? ' ' : c);
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// What every attempt of a check connects with, worked out once.
struct plan {
  std::string conninfo;
  std::string query;
  std::chrono::milliseconds timeout;
  // The conninfo cannot be parsed: why (every attempt fails with it).
  std::string invalid;
  // Host names of the conninfo to look up first (empty when none needs
  // it or a hostaddr is given), so that libpq never calls getaddrinfo.
  std::vector<std::string> hosts;
  // The user's own `options` (the check adds statement_timeout to them).
  std::string options;

  plan(const postgres_fields& f, std::chrono::milliseconds t)
      : conninfo(f.conninfo), query(f.query), timeout(t) {
    char* error = nullptr;
    std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)> parsed(
        PQconninfoParse(conninfo.c_str(), &error), &PQconninfoFree);
    PQfreemem(error);
    if (!parsed) {
      invalid = "invalid connection string: " + check_conninfo(conninfo).error();
      return;
    }
    bool hostaddr_given = false;
    for (const PQconninfoOption* o = parsed.get(); o->keyword != nullptr; ++o) {
      const std::string_view key = o->keyword;
      const std::string value = o->val != nullptr ? o->val : "";
      if (key == "host" && !value.empty()) hosts = split_list(value);
      if (key == "hostaddr" && !value.empty()) hostaddr_given = true;
      if (key == "options") options = value;
    }
    bool lookup = false;
    for (const auto& h : hosts) lookup = lookup || needs_lookup(h);
    if (hostaddr_given || !lookup) hosts.clear();
  }
};

// What the checker keeps for its attempts, which share it: an attempt's
// handlers may outlive the checker.
struct shared_part {
  plan steps;
  asio::ip::tcp::resolver resolver;
  shared_part(const postgres_fields& f, std::chrono::milliseconds timeout, asio::any_io_executor ex)
      : steps(f, timeout), resolver(std::move(ex)) {}
};

// One attempt: a connection and its query.
class exchange : public std::enable_shared_from_this<exchange> {
 public:
  exchange(std::shared_ptr<shared_part> shared, asio::any_io_executor ex)
      : shared_(std::move(shared)),
        plan_(shared_->steps),
        resolver_(shared_->resolver),
        ex_(std::move(ex)) {}
  ~exchange() { close(); }

  void start(checker::completion done) {
    done_ = std::move(done);
    started_ = std::chrono::steady_clock::now();
    if (!plan_.invalid.empty()) return fail(plan_.invalid);
    if (plan_.hosts.empty()) return connect();
    for (const auto& h : plan_.hosts) addresses_.push_back(needs_lookup(h) ? std::string() : h);
    resolve_next(0);
  }

  void cancel() noexcept {
    finished_ = true;
    resolver_.cancel();
    close();
  }

 private:
  void resolve_next(std::size_t index) {
    while (index < plan_.hosts.size() && !needs_lookup(plan_.hosts[index])) ++index;
    if (index == plan_.hosts.size()) return connect();
    resolver_.async_resolve(
        plan_.hosts[index], "",
        [self = shared_from_this(), index](boost::system::error_code ec,
                                           const asio::ip::tcp::resolver::results_type& results) {
          if (self->finished_) return;
          if (ec || results.empty()) {
            return self->fail("could not translate host name \"" + self->plan_.hosts[index] +
                              "\" to address: " + ec.message());
          }
          self->addresses_[index] = results.begin()->endpoint().address().to_string();
          self->resolve_next(index + 1);
        });
  }

  void connect() {
    // The server ends the query itself when the check gives up: closing the
    // connection alone would leave a busy backend running until it next
    // writes to the socket.
    const std::string options = plan_.options + (plan_.options.empty() ? "" : " ") +
                                "-c statement_timeout=" + std::to_string(plan_.timeout.count());
    const std::string hostaddr = join_list(addresses_);
    std::vector<const char*> keys{"dbname", "fallback_application_name", "options"};
    std::vector<const char*> values{plan_.conninfo.c_str(), "badges-health", options.c_str()};
    if (!addresses_.empty()) {
      keys.push_back("hostaddr");
      values.push_back(hostaddr.c_str());
    }
    keys.push_back(nullptr);
    values.push_back(nullptr);
    // expand_dbname: the first dbname is the whole connection string; the
    // keywords after it override what it says.
    conn_ = PQconnectStartParams(keys.data(), values.data(), 1);
    if (conn_ == nullptr) return fail("out of memory");
    if (PQstatus(conn_) == CONNECTION_BAD) return fail(PQerrorMessage(conn_));
    PQsetnonblocking(conn_, 1);
    // As libpq's documentation says: before the first PQconnectPoll, behave
    // as if it had asked to wait until the socket is writable.
    wait(stream_descriptor::wait_write, &exchange::poll_connect);
  }

  void poll_connect() {
    // libpq may close its socket and open another (the next address, or a
    // retry without SSL under sslmode=prefer), possibly under the same
    // number; so Asio lets go of the descriptor before every poll and wraps
    // whatever PQsocket names after it.
    forget_socket();
    switch (PQconnectPoll(conn_)) {
      case PGRES_POLLING_READING:
        return wait(stream_descriptor::wait_read, &exchange::poll_connect);
      case PGRES_POLLING_WRITING:
        return wait(stream_descriptor::wait_write, &exchange::poll_connect);
      case PGRES_POLLING_OK:
        return send_query();
      default:
        return fail(PQerrorMessage(conn_));
    }
  }

  void send_query() {
    if (PQsendQuery(conn_, plan_.query.c_str()) == 0) return fail(PQerrorMessage(conn_));
    flush_query();
  }

  void flush_query() {
    switch (PQflush(conn_)) {
      case 0:
        return wait(stream_descriptor::wait_read, &exchange::read_results);
      case 1:
        return wait(stream_descriptor::wait_write, &exchange::flush_query);
      default:
        return fail(PQerrorMessage(conn_));
    }
  }

  void read_results() {
    if (PQconsumeInput(conn_) == 0) return fail(PQerrorMessage(conn_));
    while (PQisBusy(conn_) == 0) {
      PGresult* result = PQgetResult(conn_);
      if (result == nullptr) {
        if (!query_error_.empty()) return fail("query failed: " + query_error_);
        return finish({check_status::pass, "query returned (after " + elapsed() + ")"});
      }
      const ExecStatusType status = PQresultStatus(result);
      if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK && query_error_.empty()) {
        const char* message = PQresultErrorMessage(result);
        query_error_ = message != nullptr && *message != '\0' ? message : PQresStatus(status);
      }
      PQclear(result);
    }
    wait(stream_descriptor::wait_read, &exchange::read_results);
  }

  void wait(stream_descriptor::wait_type what, void (exchange::*next)()) {
    const int fd = PQsocket(conn_);
    if (fd < 0) return fail("no connection to the server");
    if (!socket_) socket_.emplace(ex_, fd);
    socket_->async_wait(what, [self = shared_from_this(), next](boost::system::error_code ec) {
      if (ec || self->finished_) return;
      ((*self).*next)();
    });
  }

  // Fails the attempt with libpq's words (passwords hidden) and the time taken.
  void fail(const std::string& why) {
    finish({check_status::fail,
            redact_passwords(one_line(why), plan_.conninfo) + " (after " + elapsed() + ")"});
  }

  void finish(check_result r) {
    if (finished_) return;
    finished_ = true;
    close();
    // Posted, never called from start(): the scheduler may drop the
    // checker in its completion.
    asio::post(ex_, [done = std::move(done_), r = std::move(r)]() mutable { done(std::move(r)); });
  }

  // Stops waiting on libpq's socket and gives the descriptor back to it.
  void forget_socket() noexcept {
    if (!socket_) return;
    boost::system::error_code ignored;
    socket_->cancel(ignored);
    // The descriptor is libpq's: Asio must never close it.
    socket_->release();
    socket_.reset();
  }

  // forget_socket(), then PQfinish: the connection is gone.
  void close() noexcept {
    forget_socket();
    if (conn_ != nullptr) {
      PQfinish(conn_);
      conn_ = nullptr;
    }
  }

  std::string elapsed() const {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started_);
    return std::to_string(ms.count()) + " ms";
  }

  std::shared_ptr<shared_part> shared_;
  const plan& plan_;
  asio::ip::tcp::resolver& resolver_;
  asio::any_io_executor ex_;
  std::vector<std::string> addresses_;
  PGconn* conn_ = nullptr;
  std::optional<stream_descriptor> socket_;
  // The first error among the query's results.
  std::string query_error_;
  checker::completion done_;
  std::chrono::steady_clock::time_point started_;
  bool finished_ = false;
};

class postgres_settings final : public typed_settings<postgres_fields> {
 public:
  using typed_settings::typed_settings;
  const check_type& type() const noexcept override { return checks::postgres; }
  void describe(nlohmann::ordered_json& out) const override {
    // Where the check connects, never with its password.
    out["conninfo"] = redact_conninfo(fields_.conninfo);
    out["query"] = fields_.query;
  }
  std::shared_ptr<checker> make_checker(const check_spec& spec,
                                        const checker_context& context) const override {
    return std::make_shared<exchange_checker<shared_part, exchange>>(
        std::make_shared<shared_part>(fields_, spec.timeout, context.executor), context.executor);
  }
};

std::shared_ptr<const check_settings> read(const check_reader& in, check_spec&) {
  postgres_fields f;
  f.conninfo = in.non_empty_string("conninfo");
  // libpq's reason, with any password in it hidden.
  if (auto valid = check_conninfo(f.conninfo); !valid) in.fail("conninfo", valid.error());
  if (in.has("query")) f.query = in.non_empty_string("query");
  return std::make_shared<postgres_settings>(std::move(f));
}

constexpr std::string_view fields[] = {"conninfo", "query"};

}  // namespace
}  // namespace postgres_check

const check_type checks::postgres{"postgres", "datastore", postgres_check::fields, false,
                                  &postgres_check::read};

}  // namespace badges_health::health
