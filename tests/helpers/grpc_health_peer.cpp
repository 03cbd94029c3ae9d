// A real gRPC server for the grpc check's tests: grpc++ (Debian
// libgrpc++-dev) with its default health service, plaintext or TLS, on
// 127.0.0.1. Prints the bound port on stdout, then reads commands on stdin
// until it closes:
//   serve NAME      NAME answers SERVING
//   stop NAME       NAME answers NOT_SERVING
// Usage: grpc-health-peer [--no-health] [--tls CERT KEY] [--service NAME]...
//   --no-health     no health service: every call is UNIMPLEMENTED
//   --service NAME  NAME starts SERVING (the server as a whole, "", always
//                   does)
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/server_credentials.h>

#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

int main(int argc, char** argv) {
  bool health = true;
  std::string cert;
  std::string key;
  std::vector<std::string> services;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--no-health") {
      health = false;
    } else if (arg == "--tls" && i + 2 < argc) {
      cert = argv[++i];
      key = argv[++i];
    } else if (arg == "--service" && i + 1 < argc) {
      services.emplace_back(argv[++i]);
    } else {
      std::cerr << "grpc-health-peer: unknown argument " << arg << "\n";
      return 2;
    }
  }

  grpc::EnableDefaultHealthCheckService(health);
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (!cert.empty()) {
    grpc::SslServerCredentialsOptions options;
    options.pem_key_cert_pairs.push_back({read_file(key), read_file(cert)});
    credentials = grpc::SslServerCredentials(options);
  }
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", credentials, &port);
  // With no service of its own registered, the builder wants a completion
  // queue that someone polls (the default health service is added at
  // Start).
  std::unique_ptr<grpc::ServerCompletionQueue> cq = builder.AddCompletionQueue();
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::cerr << "grpc-health-peer: cannot listen\n";
    return 1;
  }
  std::thread poller([&cq] {
    void* tag = nullptr;
    bool ok = false;
    while (cq->Next(&tag, &ok)) {
    }
  });
  grpc::HealthCheckServiceInterface* service = server->GetHealthCheckService();
  for (const auto& name : services) service->SetServingStatus(name, true);
  std::cout << port << std::endl;

  std::string command;
  std::string name;
  while (std::cin >> command) {
    std::getline(std::cin, name);
    if (!name.empty() && name.front() == ' ') name.erase(0, 1);
    if (service != nullptr && (command == "serve" || command == "stop")) {
      service->SetServingStatus(name, command == "serve");
    }
    std::cout << "ok" << std::endl;
  }
  server->Shutdown();
  cq->Shutdown();
  poller.join();
  return 0;
}
