// The postgres check, one step per member: resolve the host names
// (asynchronously, so that libpq never calls the blocking getaddrinfo),
// connect with PQconnectStartParams/PQconnectPoll, send the query, read
// its results. Between steps Asio waits on libpq's socket as libpq asks.
#include "postgres_probe.hpp"

#include <boost/asio/post.hpp>
#include <memory>

#include "badges_health/health/postgres_conninfo.hpp"

namespace badges_health::health {

namespace asio = boost::asio;
using asio::posix::stream_descriptor;

namespace {

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

}  // namespace

postgres_probe::postgres_probe(const check_spec& spec, asio::any_io_executor ex)
    : conninfo_(spec.conninfo),
      query_(spec.query),
      timeout_(spec.timeout),
      ex_(ex),
      resolver_(std::move(ex)) {}

postgres_probe::~postgres_probe() { close(); }

void postgres_probe::start(completion done) {
  done_ = std::move(done);
  started_ = std::chrono::steady_clock::now();
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, void (*)(PQconninfoOption*)> options(
      PQconninfoParse(conninfo_.c_str(), &error), &PQconninfoFree);
  PQfreemem(error);
  if (!options) return fail("invalid connection string: " + conninfo_error(conninfo_));
  bool hostaddr_given = false;
  for (const PQconninfoOption* o = options.get(); o->keyword != nullptr; ++o) {
    const std::string_view key = o->keyword;
    const std::string value = o->val != nullptr ? o->val : "";
    if (key == "host" && !value.empty()) hosts_ = split_list(value);
    if (key == "hostaddr" && !value.empty()) hostaddr_given = true;
    if (key == "options") options_ = value;
  }
  bool lookup = false;
  for (const auto& h : hosts_) lookup = lookup || needs_lookup(h);
  if (hostaddr_given || !lookup) {
    hosts_.clear();
    return connect();
  }
  for (const auto& h : hosts_) addresses_.push_back(needs_lookup(h) ? std::string() : h);
  resolve_next(0);
}

void postgres_probe::resolve_next(std::size_t index) {
  while (index < hosts_.size() && !needs_lookup(hosts_[index])) ++index;
  if (index == hosts_.size()) return connect();
  resolver_.async_resolve(
      hosts_[index], "",
      [self = shared_from_this(), index](boost::system::error_code ec,
                                         const asio::ip::tcp::resolver::results_type& results) {
        if (self->finished_) return;
        if (ec || results.empty()) {
          return self->fail("could not translate host name \"" + self->hosts_[index] +
                            "\" to address: " + ec.message());
        }
        self->addresses_[index] = results.begin()->endpoint().address().to_string();
        self->resolve_next(index + 1);
      });
}

void postgres_probe::connect() {
  // The server ends the query itself when the check gives up: closing the
  // connection alone would leave a busy backend running until it next
  // writes to the socket.
  const std::string options = options_ + (options_.empty() ? "" : " ") +
                              "-c statement_timeout=" + std::to_string(timeout_.count());
  const std::string hostaddr = join_list(addresses_);
  std::vector<const char*> keys{"dbname", "fallback_application_name", "options"};
  std::vector<const char*> values{conninfo_.c_str(), "badges-health", options.c_str()};
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
  wait(stream_descriptor::wait_write, &postgres_probe::poll_connect);
}

void postgres_probe::poll_connect() {
  // libpq may close its socket and open another (the next address, or a
  // retry without SSL under sslmode=prefer), possibly under the same
  // number; so Asio lets go of the descriptor before every poll and wraps
  // whatever PQsocket names after it.
  forget_socket();
  switch (PQconnectPoll(conn_)) {
    case PGRES_POLLING_READING:
      return wait(stream_descriptor::wait_read, &postgres_probe::poll_connect);
    case PGRES_POLLING_WRITING:
      return wait(stream_descriptor::wait_write, &postgres_probe::poll_connect);
    case PGRES_POLLING_OK:
      return send_query();
    default:
      return fail(PQerrorMessage(conn_));
  }
}

void postgres_probe::send_query() {
  if (PQsendQuery(conn_, query_.c_str()) == 0) return fail(PQerrorMessage(conn_));
  flush_query();
}

void postgres_probe::flush_query() {
  switch (PQflush(conn_)) {
    case 0:
      return wait(stream_descriptor::wait_read, &postgres_probe::read_results);
    case 1:
      return wait(stream_descriptor::wait_write, &postgres_probe::flush_query);
    default:
      return fail(PQerrorMessage(conn_));
  }
}

void postgres_probe::read_results() {
  if (PQconsumeInput(conn_) == 0) return fail(PQerrorMessage(conn_));
  while (PQisBusy(conn_) == 0) {
    PGresult* result = PQgetResult(conn_);
    if (result == nullptr) {
      if (!query_error_.empty()) return fail("query failed: " + query_error_);
      return finish({true, "query returned (after " + elapsed() + ")"});
    }
    const ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK && query_error_.empty()) {
      const char* message = PQresultErrorMessage(result);
      query_error_ = message != nullptr && *message != '\0' ? message : PQresStatus(status);
    }
    PQclear(result);
  }
  wait(stream_descriptor::wait_read, &postgres_probe::read_results);
}

void postgres_probe::wait(wait_type what, void (postgres_probe::*next)()) {
  const int fd = PQsocket(conn_);
  if (fd < 0) return fail("no connection to the server");
  if (!socket_) socket_.emplace(ex_, fd);
  socket_->async_wait(what, [self = shared_from_this(), next](boost::system::error_code ec) {
    if (ec || self->finished_) return;
    ((*self).*next)();
  });
}

void postgres_probe::fail(const std::string& why) {
  finish({false, redact_passwords(one_line(why), conninfo_) + " (after " + elapsed() + ")"});
}

void postgres_probe::finish(probe_result r) {
  if (finished_) return;
  finished_ = true;
  close();
  // Posted, never called from start(): the scheduler may drop the probe in
  // its completion.
  asio::post(ex_, [done = std::move(done_), r = std::move(r)]() mutable { done(std::move(r)); });
}

void postgres_probe::cancel() noexcept {
  finished_ = true;
  resolver_.cancel();
  close();
}

void postgres_probe::forget_socket() noexcept {
  if (!socket_) return;
  boost::system::error_code ignored;
  socket_->cancel(ignored);
  // The descriptor is libpq's: Asio must never close it.
  socket_->release();
  socket_.reset();
}

void postgres_probe::close() noexcept {
  forget_socket();
  if (conn_ != nullptr) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
}

std::string postgres_probe::elapsed() const {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started_);
  return std::to_string(ms.count()) + " ms";
}

}  // namespace badges_health::health
