// Worker threads, their listening sockets and the graceful stop.
#include "badges_health/http/server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <system_error>
#include <thread>

#include "accept_loop.hpp"
#include "agent_reply.hpp"
#include "connection.hpp"
#include "detect_session.hpp"

namespace badges_health::http {

namespace asio = boost::asio;
using asio::ip::tcp;

struct server::worker {
  worker(const server_options& options, const error_middleware& middleware,
         std::atomic<std::size_t>& open, request_metrics& metrics,
         const std::atomic<bool>& draining, const grpc_health_source* grpc, now_function now)
      : ctx(*ioc, options, middleware, open, metrics, draining, grpc, now) {}
  ~worker() {
    if (thread.joinable()) thread.join();
    http_loop.reset();
    agent_loop.reset();
    // Pending handlers own the connections: destroying the io_context
    // destroys them, and they leave the registry, so the context goes
    // last; its timer goes first, before the io_context.
    ctx.detach();
    ioc.reset();
  }

  void stop_accepting() {
    if (http_loop) http_loop->stop();
    ctx.for_each_connection([](connection& c) { c.shutdown(); });
    // The agent port says `drain` until the last connection is done.
    ctx.stop_when_empty([this] {
      if (agent_loop) agent_loop->stop();
    });
  }

  std::unique_ptr<asio::io_context> ioc = std::make_unique<asio::io_context>(1);
  connection_context ctx;
  std::shared_ptr<accept_loop> http_loop;
  std::shared_ptr<accept_loop> agent_loop;
  std::thread thread;
};

server::server(server_options options, const error_middleware& middleware,
               metrics_registry& metrics, const grpc_health_source* grpc,
               access_log_sink access_log, now_function now)
    : options_(std::move(options)),
      middleware_(middleware),
      metrics_(metrics),
      access_log_(std::move(access_log)) {
  for (unsigned i = 0; i < options_.threads; ++i) {
    workers_.push_back(std::make_unique<worker>(options_, middleware_, metrics_.open_connections,
                                                metrics_.worker(i), draining_, grpc, now));
    if (access_log_) workers_.back()->ctx.access_log = &access_log_;
  }
}

server::~server() {
  abort();
  join();
}

server::endpoints server::bind(std::optional<unsigned short> agent_port,
                               agent_line_source agent_line) {
  const auto fail = [](boost::system::error_code ec, const tcp::endpoint& ep,
                       const char* what) -> std::system_error {
    return std::system_error(ec, "cannot listen on " + format_endpoint(ep) + what);
  };
  endpoints bound;
  tcp::endpoint endpoint(resolve_host(options_.host), options_.port);
  auto& first = *workers_.front();
  // SO_REUSEPORT would let us share a port with another instance that also
  // set it, so first claim the address alone to detect "in use" (and to
  // learn the port when 0 was asked for).
  auto claimed = claim_endpoint(first.ioc->get_executor(), endpoint);
  if (!claimed) throw fail(claimed.error(), endpoint, "");
  endpoint = *claimed;
  const tcp protocol = endpoint.protocol();
  for (auto& w : workers_) {
    auto acceptor = listen_on(w->ioc->get_executor(), endpoint, {true, true});
    if (!acceptor) throw fail(acceptor.error(), endpoint, "");
    connection_context& ctx = w->ctx;
    w->http_loop = std::make_shared<accept_loop>(
        std::move(*acceptor), "http port",
        [&ctx, protocol](accepted_fd fd) { serve_accepted(std::move(fd), protocol, ctx); });
  }
  bound.http = endpoint;

  if (agent_port) {
    // SO_REUSEADDR only: another live listener on the port still makes the
    // bind fail, which is the "in use" start-up must report. HAProxy's
    // agent sends nothing first, so accept is not deferred.
    tcp::endpoint agent(endpoint.address(), *agent_port);
    auto acceptor = listen_on(first.ioc->get_executor(), agent, {false, false});
    if (!acceptor) throw fail(acceptor.error(), agent, " (agent port)");
    boost::system::error_code ec;
    bound.agent = acceptor->local_endpoint(ec);
    if (ec) throw fail(ec, agent, " (agent port)");
    first.ctx.agent_line = std::move(agent_line);
    connection_context& ctx = first.ctx;
    first.agent_loop = std::make_shared<accept_loop>(
        std::move(*acceptor), "agent port",
        [&ctx, protocol](accepted_fd fd) { serve_agent(std::move(fd), protocol, ctx); });
  }
  return bound;
}

void server::start(std::function<void()> on_stopped) {
  on_stopped_ = std::move(on_stopped);
  running_workers_.store(workers_.size());
  for (auto& w : workers_) {
    if (w->http_loop) w->http_loop->start();
    if (w->agent_loop) w->agent_loop->start();
    w->thread = std::thread([this, wp = w.get()] {
      wp->ioc->run();
      if (running_workers_.fetch_sub(1) == 1 && on_stopped_) on_stopped_();
    });
  }
}

void server::begin_drain() { draining_.store(true, std::memory_order_relaxed); }

void server::stop_accepting() {
  begin_drain();
  for (auto& w : workers_) {
    asio::post(*w->ioc, [wp = w.get()] { wp->stop_accepting(); });
  }
}

void server::set_event_source(const event_source* events) {
  for (auto& w : workers_) w->ctx.events = events;
}

void server::health_changed() {
  // Only connections with a Watch or event stream do anything; the others return
  // at once. One post per worker per change, never per connection.
  for (auto& w : workers_) {
    asio::post(*w->ioc, [wp = w.get()] {
      wp->ctx.for_each_connection([](connection& c) { c.health_changed(); });
    });
  }
}

void server::enforce_deadlines() {
  for (auto& w : workers_) {
    asio::post(*w->ioc, [wp = w.get()] { wp->ctx.sweep(wp->ctx.now()); });
  }
}

void server::abort() {
  for (auto& w : workers_) w->ioc->stop();
}

void server::join() {
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
  }
}

}  // namespace badges_health::http
