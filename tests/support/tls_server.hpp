// Test support: a private certificate authority made at test time with the
// openssl command, server certificates it signs, and a real HTTPS server
// (tests/support/https_server.py on Debian's Python) presenting one of them
// on 127.0.0.1.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace badges_health::test {

/// A CA key and certificate in a scratch directory. Throws when openssl
/// fails.
class test_ca {
 public:
  test_ca();
  /// The CA certificate (PEM), for a check's `ca_file`.
  const std::string& certificate() const noexcept { return ca_cert_; }
  /// Issues a server certificate for `subject_alt_names`
  /// ("IP:127.0.0.1,DNS:localhost") valid for `days` from now; returns
  /// {certificate, key} paths.
  std::pair<std::string, std::string> issue(const std::string& name,
                                            const std::string& subject_alt_names,
                                            int days = 365) const;

 private:
  temp_dir dir_;
  std::string ca_cert_;
  std::string ca_key_;
};

/// An HTTPS server on 127.0.0.1 with the given certificate: /about answers
/// {"healthy": true, ...}, /sick {"healthy": false}, /text plain text.
class https_server {
 public:
  https_server(const std::string& certificate, const std::string& key);
  ~https_server();
  https_server(const https_server&) = delete;
  https_server& operator=(const https_server&) = delete;

  unsigned short port() const noexcept { return port_; }

 private:
  pid_t pid_ = -1;
  int stdin_fd_ = -1;
  unsigned short port_ = 0;
};

}  // namespace badges_health::test
