// Client TLS contexts and handshakes for the https and grpc checks.
#include "tls_client.hpp"

#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>

#include <boost/asio/ssl/error.hpp>

namespace badges_health::health {

namespace asio = boost::asio;

asio::ssl::context make_tls_client_context(const tls_settings& settings, const std::string& check,
                                           const std::string& target) {
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                  asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                  asio::ssl::context::no_tlsv1_1);
  if (settings.insecure) {
    spdlog::warn(
        "check {}: insecure is set: the certificate of {} is not verified, so anyone on the path "
        "can answer for it",
        check, target);
    ctx.set_verify_mode(asio::ssl::verify_none);
    return ctx;
  }
  if (settings.ca_file.empty()) {
    ctx.set_default_verify_paths();
  } else {
    ctx.load_verify_file(settings.ca_file);
  }
  ctx.set_verify_mode(asio::ssl::verify_peer);
  return ctx;
}

void prepare_tls_handshake(SSL* ssl, const std::string& host, bool host_is_address) {
  // SNI, so that a server with several names presents the right
  // certificate; an IP literal is not sent as a name.
  if (!host_is_address) SSL_set_tlsext_host_name(ssl, host.c_str());
  // The certificate must name the host (or hold the address); OpenSSL
  // checks it during the handshake, with the chain.
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (host_is_address) {
    X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
  } else {
    X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size());
  }
}

std::string describe_tls_failure(const boost::system::error_code& ec) {
  std::string what = ec.message();
  if (ec.category() == asio::error::get_ssl_category()) {
    const auto reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
    if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED) {
      what = "certificate verify failed (untrusted issuer, expired, or issued for another name)";
    }
  }
  return "TLS handshake: " + what;
}

std::optional<double> certificate_days_left(const SSL* ssl,
                                            std::chrono::system_clock::time_point now) {
  const X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) return std::nullopt;
  const ASN1_TIME* not_after = X509_get0_notAfter(cert);
  ASN1_TIME* from = ASN1_TIME_set(nullptr, std::chrono::system_clock::to_time_t(now));
  if (from == nullptr) return std::nullopt;
  int days = 0;
  int seconds = 0;
  const bool ok = ASN1_TIME_diff(&days, &seconds, from, not_after) == 1;
  ASN1_TIME_free(from);
  if (!ok) return std::nullopt;
  return days + seconds / 86'400.0;
}

}  // namespace badges_health::health
