// Worker threads, SO_REUSEPORT acceptors and the graceful stop.
#include "badges_health/http/server.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <system_error>
#include <thread>

#include "badges_health/util/socket_option.hpp"
#include "listener.hpp"
#include "session.hpp"

namespace badges_health::http {

namespace asio = boost::asio;
using asio::ip::tcp;

struct server::worker {
  worker(const server_options& options, const error_middleware& middleware,
         std::atomic<std::size_t>& open, request_metrics& metrics,
         const std::atomic<bool>& draining, const grpc_health_source* grpc)
      : ctx{options, middleware, open, metrics, draining, grpc, {}} {}

  // Enforces every session's deadline. One timer per worker, ticking a few
  // times per smallest timeout, instead of a timer per connection re-armed
  // on every request. Once stopping, it stops ticking when the last session
  // is gone, and the worker's io_context runs out of work.
  void sweep(std::chrono::milliseconds tick) {
    sweeper.expires_after(tick);
    sweeper.async_wait([this, tick](boost::system::error_code ec) {
      if (ec) return;
      const auto now = connection::clock::now();
      for (connection* c : ctx.connections) {
        if (c->deadline() <= now) c->expire();  // closes; destroyed later, by its handlers
      }
      if (!(stopping && ctx.connections.empty())) sweep(tick);
    });
  }

  // Declared first so it is destroyed last: sessions destroyed together with
  // the io_context leave its registry.
  connection_context ctx;
  asio::io_context ioc{1};
  asio::steady_timer sweeper{ioc};
  bool stopping = false;
  std::shared_ptr<listener> accept_loop;
  std::thread thread;
};

namespace {

// SO_REUSEPORT (Asio names only SO_REUSEADDR).
using reuse_port = util::boolean_socket_option<SOL_SOCKET, SO_REUSEPORT>;

// A quarter of the smallest timeout, between 10 ms and 250 ms: deadlines are
// enforced within that much of their time.
std::chrono::milliseconds sweep_tick(const server_options& o) {
  const auto smallest =
      std::min({o.request_timeout, o.idle_timeout, o.write_timeout, o.linger_timeout});
  return std::clamp(smallest / 4, std::chrono::milliseconds{10}, std::chrono::milliseconds{250});
}

}  // namespace

asio::ip::address resolve_host(const std::string& host) {
  std::string h = host;
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(h, ec);
  if (!ec) return addr;
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  auto results = resolver.resolve(h, "", ec);
  if (ec || results.empty()) {
    const std::error_code code =
        ec ? std::error_code(ec) : make_error_code(std::errc::address_not_available);
    throw std::system_error(code, "cannot resolve host '" + host + "'");
  }
  return results.begin()->endpoint().address();
}

std::string format_endpoint(const tcp::endpoint& ep) {
  const std::string addr = ep.address().to_string();
  const std::string port = std::to_string(ep.port());
  return ep.address().is_v6() ? "[" + addr + "]:" + port : addr + ":" + port;
}

server::server(server_options options, const error_middleware& middleware,
               metrics_registry& metrics, const grpc_health_source* grpc)
    : options_(std::move(options)), middleware_(middleware), metrics_(metrics) {
  for (unsigned i = 0; i < options_.threads; ++i) {
    workers_.push_back(std::make_unique<worker>(options_, middleware_, metrics_.open_connections,
                                                metrics_.worker(i), draining_, grpc));
  }
}

server::~server() {
  abort();
  join();
}

tcp::endpoint server::bind() {
  tcp::endpoint endpoint(resolve_host(options_.host), options_.port);

  // SO_REUSEPORT would let us share a port with another instance that
  // also set it, so first claim the address alone to detect "in use" (and
  // to learn the port when 0 was asked for).
  {
    tcp::acceptor probe(workers_.front()->ioc);
    boost::system::error_code ec;
    probe.open(endpoint.protocol(), ec);
    if (!ec) probe.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) probe.bind(endpoint, ec);
    if (ec) throw std::system_error(ec, "cannot listen on " + format_endpoint(endpoint));
    endpoint.port(probe.local_endpoint().port());
  }

  for (auto& w : workers_) {
    tcp::acceptor acceptor(w->ioc);
    boost::system::error_code ec;
    acceptor.open(endpoint.protocol(), ec);
    if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) acceptor.set_option(reuse_port(true), ec);
    if (!ec) acceptor.bind(endpoint, ec);
    if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::system_error(ec, "cannot listen on " + format_endpoint(endpoint));
    w->accept_loop = std::make_shared<listener>(std::move(acceptor), w->ctx);
  }
  return endpoint;
}

void server::start(std::function<void()> on_stopped) {
  on_stopped_ = std::move(on_stopped);
  running_workers_.store(workers_.size());
  const auto tick = sweep_tick(options_);
  for (auto& w : workers_) {
    w->accept_loop->start();
    w->sweep(tick);
    w->thread = std::thread([this, wp = w.get()] {
      wp->ioc.run();
      if (running_workers_.fetch_sub(1) == 1 && on_stopped_) on_stopped_();
    });
  }
}

void server::begin_drain() { draining_.store(true, std::memory_order_relaxed); }

void server::stop_accepting() {
  begin_drain();
  for (auto& w : workers_) {
    asio::post(w->ioc, [wp = w.get()] {
      if (wp->accept_loop) wp->accept_loop->stop();
      for (connection* c : wp->ctx.connections) c->shutdown();
      wp->stopping = true;
    });
  }
}

void server::health_changed() {
  // Only connections with a Watch stream do anything; the others return
  // at once. One post per worker per change, never per connection.
  for (auto& w : workers_) {
    asio::post(w->ioc, [wp = w.get()] {
      for (connection* c : wp->ctx.connections) c->health_changed();
    });
  }
}

void server::abort() {
  for (auto& w : workers_) w->ioc.stop();
}

void server::join() {
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

}  // namespace badges_health::http
