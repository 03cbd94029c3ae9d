// Host parsing, binding and printing of endpoints.
#include "badges_health/http/endpoint.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <system_error>

#include "badges_health/util/socket_option.hpp"

namespace badges_health::http {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// SO_REUSEPORT (Asio names only SO_REUSEADDR).
using reuse_port = util::boolean_socket_option<SOL_SOCKET, SO_REUSEPORT>;

// TCP_DEFER_ACCEPT takes seconds: how long the kernel holds a connection
// that has sent nothing before handing it over anyway (then the request
// timeout applies as to any other).
using defer_accept = util::integer_socket_option<IPPROTO_TCP, TCP_DEFER_ACCEPT>;

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

boost::system::result<tcp::acceptor> listen_on(const asio::any_io_executor& ex,
                                               const tcp::endpoint& endpoint,
                                               const listen_options& options) {
  tcp::acceptor acceptor(ex);
  boost::system::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec && options.reuse_port) acceptor.set_option(reuse_port(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  // One second: the kernel holds a connection that has sent nothing until
  // its first retransmitted SYN-ACK is acknowledged, about a second, then
  // hands it over and the request timeout applies as to any other. A
  // connect-only check (kubelet's tcpSocket, a load balancer's TCP check)
  // closes long before.
  if (!ec && options.defer_accept) acceptor.set_option(defer_accept(1), ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return ec;
  return acceptor;
}

boost::system::result<tcp::endpoint> claim_endpoint(const asio::any_io_executor& ex,
                                                    const tcp::endpoint& endpoint) {
  tcp::acceptor probe(ex);
  boost::system::error_code ec;
  probe.open(endpoint.protocol(), ec);
  if (!ec) probe.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) probe.bind(endpoint, ec);
  if (ec) return ec;
  auto bound = probe.local_endpoint(ec);
  if (ec) return ec;
  return bound;
}

}  // namespace badges_health::http
