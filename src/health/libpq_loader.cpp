// The libpq functions the postgres check uses, forwarded to libpq.so.5
// loaded at first use. Until it loads (or if it cannot), each answers as
// libpq does for a failed connection, so a caller that did not check
// load_libpq() fails its check instead of crashing; configuration checks
// call load_libpq() first and stop with its message.
#include "libpq_loader.hpp"

#include <dlfcn.h>
#include <libpq-fe.h>

#include <mutex>

namespace badges_health::health {

namespace {

constexpr const char* libpq_name = "libpq.so.5";

struct library {
  void* handle = nullptr;
  std::string error;
};

const library& libpq() {
  static library lib;
  static std::once_flag once;
  std::call_once(once, [] {
    lib.handle = ::dlopen(libpq_name, RTLD_NOW | RTLD_LOCAL);
    if (lib.handle == nullptr) {
      const char* why = ::dlerror();
      lib.error = std::string("cannot load ") + libpq_name + " (" +
                  (why != nullptr ? why : "unknown error") +
                  "); the postgres check needs libpq (Debian: apt-get install libpq5)";
    }
  });
  return lib;
}

}  // namespace

void* libpq_symbol(const char* name) {
  const library& lib = libpq();
  return lib.handle == nullptr ? nullptr : ::dlsym(lib.handle, name);
}

boost::system::result<void, std::string> load_libpq() {
  const library& lib = libpq();
  if (lib.handle == nullptr) return lib.error;
  return {};
}

}  // namespace badges_health::health

// Each forwarder looks its function up once. The signatures are libpq's
// own (libpq-fe.h declares them), so a mismatch does not compile.
#define BADGES_HEALTH_FORWARD(result, name, params, args, unavailable)                            \
  extern "C" result name params {                                                                 \
    using fn_type = result(*) params;                                                             \
    static const auto fn = reinterpret_cast<fn_type>(badges_health::health::libpq_symbol(#name)); \
    if (fn == nullptr) return unavailable;                                                        \
    return fn args;                                                                               \
  }

BADGES_HEALTH_FORWARD(PGconn*, PQconnectStartParams,
                      (const char* const* keywords, const char* const* values, int expand_dbname),
                      (keywords, values, expand_dbname), nullptr)
BADGES_HEALTH_FORWARD(PostgresPollingStatusType, PQconnectPoll, (PGconn * conn), (conn),
                      PGRES_POLLING_FAILED)
BADGES_HEALTH_FORWARD(void, PQfinish, (PGconn * conn), (conn), void())
BADGES_HEALTH_FORWARD(PQconninfoOption*, PQconninfoParse, (const char* conninfo, char** errmsg),
                      (conninfo, errmsg), nullptr)
BADGES_HEALTH_FORWARD(void, PQconninfoFree, (PQconninfoOption * options), (options), void())
BADGES_HEALTH_FORWARD(ConnStatusType, PQstatus, (const PGconn* conn), (conn), CONNECTION_BAD)
BADGES_HEALTH_FORWARD(char*, PQerrorMessage, (const PGconn* conn), (conn),
                      const_cast<char*>("libpq is not loaded"))
BADGES_HEALTH_FORWARD(int, PQsocket, (const PGconn* conn), (conn), -1)
BADGES_HEALTH_FORWARD(int, PQsendQuery, (PGconn * conn, const char* query), (conn, query), 0)
BADGES_HEALTH_FORWARD(PGresult*, PQgetResult, (PGconn * conn), (conn), nullptr)
BADGES_HEALTH_FORWARD(int, PQisBusy, (PGconn * conn), (conn), 0)
BADGES_HEALTH_FORWARD(int, PQconsumeInput, (PGconn * conn), (conn), 0)
BADGES_HEALTH_FORWARD(int, PQsetnonblocking, (PGconn * conn, int arg), (conn, arg), -1)
BADGES_HEALTH_FORWARD(int, PQflush, (PGconn * conn), (conn), -1)
BADGES_HEALTH_FORWARD(ExecStatusType, PQresultStatus, (const PGresult* res), (res),
                      PGRES_FATAL_ERROR)
BADGES_HEALTH_FORWARD(char*, PQresStatus, (ExecStatusType status), (status), const_cast<char*>(""))
BADGES_HEALTH_FORWARD(char*, PQresultErrorMessage, (const PGresult* res), (res),
                      const_cast<char*>(""))
BADGES_HEALTH_FORWARD(void, PQclear, (PGresult * res), (res), void())
BADGES_HEALTH_FORWARD(void, PQfreemem, (void* ptr), (ptr), void())
