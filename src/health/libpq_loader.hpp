// libpq is loaded when the first postgres check needs it, not at start:
// its dependencies (Kerberos, LDAP, GnuTLS, p11-kit: about 3.5 MiB of mapped
// pages and 17 shared libraries) would otherwise cost every process,
// including the many that check no PostgreSQL at all. The binary does not
// link libpq; libpq_loader.cpp defines the libpq functions the postgres
// check calls, each forwarding to the library loaded with dlopen.
#pragma once

#include <boost/system/result.hpp>
#include <string>

namespace badges_health::health {

/// Loads libpq (libpq.so.5) if it is not loaded yet. The error says why it
/// cannot be, and what to install.
boost::system::result<void, std::string> load_libpq();

/// The address of libpq's function `name`; null when libpq cannot load.
void* libpq_symbol(const char* name);

}  // namespace badges_health::health
