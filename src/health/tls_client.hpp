// TLS on the client side of the https and grpc checks, through Asio's
// OpenSSL: a context made once per checker (the CA store loaded once, again
// on SIGHUP), the handshake set-up (SNI, host name verification), failures
// in words, and how long the server's certificate has left.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/ssl/context.hpp>
#include <chrono>
#include <optional>
#include <string>

namespace badges_health::health {

struct tls_settings {
  /// PEM file of the CAs to trust; empty: the system store.
  std::string ca_file;
  /// No verification at all (logged as a warning whenever a context is made).
  bool insecure = false;
  bool operator==(const tls_settings&) const = default;
};

/// A client context for `settings`; `check` and `target` name what the
/// insecure warning is about. Throws boost::system::system_error when the
/// CA file cannot be loaded.
boost::asio::ssl::context make_tls_client_context(const tls_settings& settings,
                                                  const std::string& check,
                                                  const std::string& target);

/// Sets `ssl` up for a handshake with `host`: SNI for a name (not for an
/// address) and verification of the name unless `insecure`.
void prepare_tls_handshake(SSL* ssl, const std::string& host, bool host_is_address);

/// "TLS handshake: certificate verify failed (...)" and friends.
std::string describe_tls_failure(const boost::system::error_code& ec);

/// Days from `now` until the peer certificate's notAfter (negative once it
/// has passed); nullopt without a certificate.
std::optional<double> certificate_days_left(const SSL* ssl,
                                            std::chrono::system_clock::time_point now);

}  // namespace badges_health::health
