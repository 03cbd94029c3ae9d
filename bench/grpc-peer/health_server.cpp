// The reference for bench/run's grpc scenario: a grpc++ server whose only
// service is the library's own grpc.health.v1.Health (the default health
// check service), plaintext HTTP/2 on one port. Runs until SIGINT or
// SIGTERM. Built by bench/grpc-peer/build; see bench/README.md.
// Usage: grpc-health-peer --port P [--host 127.0.0.1]

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

namespace {

struct options {
  std::string host = "127.0.0.1";
  int port = 0;
};

[[noreturn]] void usage_error(const std::string& message) {
  std::fprintf(stderr, "grpc-health-peer: %s\nusage: grpc-health-peer --port P [--host H]\n",
               message.c_str());
  std::exit(2);
}

options parse_options(int argc, char** argv) {
  options result;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) {
      usage_error(flag + ": missing value");
    }
    const char* value = argv[i + 1];
    if (flag == "--port") {
      char* end = nullptr;
      const long port = std::strtol(value, &end, 10);
      if (end == value || *end != '\0' || port < 1 || port > 65535) {
        usage_error("--port: expected 1 to 65535");
      }
      result.port = static_cast<int>(port);
    } else if (flag == "--host") {
      result.host = value;
    } else {
      usage_error("unknown option " + flag);
    }
  }
  if (result.port == 0) {
    usage_error("--port is required");
  }
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  const options opts = parse_options(argc, argv);

  // Server::Start adds the library's health service when this is set and
  // no other is registered; it answers SERVING for service "" (the server
  // as a whole), the request the benchmark sends.
  grpc::EnableDefaultHealthCheckService(true);

  // Blocked before grpc starts its threads (they inherit the mask), so
  // only main's sigwait below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  grpc::ServerBuilder builder;
  const std::string address = opts.host + ":" + std::to_string(opts.port);
  int bound_port = 0;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &bound_port);
  // The health service is added only at Start, so the builder sees no
  // service and wants a completion queue that someone polls. This one
  // thread polling it does the connections' I/O; grpc++ runs the health
  // handlers on threads of its own (its callback API), whose number the
  // library picks.
  std::unique_ptr<grpc::ServerCompletionQueue> cq = builder.AddCompletionQueue();
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || bound_port == 0) {
    std::fprintf(stderr, "grpc-health-peer: cannot listen on %s\n", address.c_str());
    return 1;
  }
  std::thread poller([&cq] {
    void* tag = nullptr;
    bool ok = false;
    while (cq->Next(&tag, &ok)) {
    }
  });

  int received = 0;
  sigwait(&stop_signals, &received);
  server->Shutdown();
  cq->Shutdown();
  poller.join();
  return 0;
}
