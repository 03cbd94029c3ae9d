// grpc checks against a real grpc++ server (Debian libgrpc++-dev, its
// default health service; tests/helpers/grpc_health_peer) and against
// badges-health itself: SERVING, NOT_SERVING, UNKNOWN, gRPC errors named by
// their status, TLS with a private CA, and one connection kept across
// attempts (counted by a proxy in front), rebuilt when it breaks.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "support/grpc_peer.hpp"
#include "support/health_service.hpp"
#include "support/tcp_proxy.hpp"
#include "support/temp_dir.hpp"
#include "support/tls_server.hpp"

namespace badges_health::test {
// Named, so that unity batches never merge these helpers with another
// file's.
namespace grpc_checks {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

json grpc_check(const std::string& name, unsigned short port, const std::string& service,
                json extra = json::object()) {
  json c = {{"name", name},       {"type", "grpc"},     {"host", "127.0.0.1"},
            {"port", port},       {"service", service}, {"interval", "200ms"},
            {"timeout", "150ms"}, {"rise", 1},          {"fall", 1}};
  c.update(extra);
  return c;
}

class GrpcChecks : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const auto missing = grpc_peer_missing(); !missing.empty()) GTEST_FAIL() << missing;
  }

  json result_of(const health_service& svc, const std::string& name) {
    const auto body = svc.wait_for_result(name);
    if (!body) {
      ADD_FAILURE() << "check " << name << " produced no result within 5 s";
      return json::object();
    }
    return json_at(*body, "/checks/" + name);
  }

  // Waits until check `name` has `status`; its entry.
  json becomes(const health_service& svc, const std::string& name, const std::string& status) {
    const auto body = svc.wait_for(
        [&](const json& b) { return json_at(b, "/checks/" + name + "/status") == status; });
    if (!body) {
      ADD_FAILURE() << "check " << name << " never became " << status << ": "
                    << svc.verbose().dump();
      return json::object();
    }
    return json_at(*body, "/checks/" + name);
  }

  temp_dir dir_;
};

// ---- against grpc++ ----

TEST_F(GrpcChecks, PassesWhileTheServerIsServing) {
  grpc_peer peer;
  health_service svc(dir_, json::array({grpc_check("peer", peer.port(), "")}));
  const json check = result_of(svc, "peer");
  EXPECT_EQ(check.value("status", ""), "pass") << check.dump();
  EXPECT_EQ(json_at(check, "/transitions/0/reason"), "SERVING");
  EXPECT_EQ(check.value("type", ""), "grpc");
}

TEST_F(GrpcChecks, NotServingFailsAndServingAgainPasses) {
  grpc_peer peer({"--service", "badges.Api"});
  health_service svc(dir_, json::array({grpc_check("api", peer.port(), "badges.Api")}));
  EXPECT_EQ(result_of(svc, "api").value("status", ""), "pass");
  peer.set_serving("badges.Api", false);
  EXPECT_EQ(becomes(svc, "api", "fail").value("output", ""), "NOT_SERVING");
  peer.set_serving("badges.Api", true);
  becomes(svc, "api", "pass");
}

TEST_F(GrpcChecks, AServiceTheServerDoesNotKnowFailsWithItsStatus) {
  grpc_peer peer;
  health_service svc(dir_, json::array({grpc_check("nope", peer.port(), "no.Such")}));
  const json check = result_of(svc, "nope");
  EXPECT_EQ(check.value("status", ""), "fail");
  // grpc++ answers Check for an unknown service with NOT_FOUND.
  EXPECT_EQ(check.value("output", "").rfind("NOT_FOUND", 0), 0u) << check.dump();
}

TEST_F(GrpcChecks, AServerWithoutTheHealthServiceFailsAsUnimplemented) {
  grpc_peer peer({"--no-health"});
  health_service svc(dir_, json::array({grpc_check("bare", peer.port(), "")}));
  const json check = result_of(svc, "bare");
  EXPECT_EQ(check.value("status", ""), "fail");
  EXPECT_EQ(check.value("output", "").rfind("UNIMPLEMENTED", 0), 0u) << check.dump();
}

TEST_F(GrpcChecks, NothingListeningFailsWithTheConnectError) {
  health_service svc(dir_, json::array({grpc_check("gone", 1, "")}));
  const json check = result_of(svc, "gone");
  EXPECT_EQ(check.value("status", ""), "fail");
  EXPECT_EQ(check.value("output", ""), "connect 127.0.0.1:1: Connection refused") << check.dump();
}

TEST_F(GrpcChecks, TlsVerifiedAgainstThePrivateCaThatSignedTheServer) {
  test_ca ca;
  const auto [cert, key] = ca.issue("grpc", "IP:127.0.0.1,DNS:localhost");
  grpc_peer peer({"--tls", cert, key});
  health_service svc(dir_, json::array({grpc_check("tls", peer.port(), "",
                                                   {{"tls", true}, {"ca_file", ca.certificate()}}),
                                        grpc_check("untrusted", peer.port(), "", {{"tls", true}}),
                                        grpc_check("plain", peer.port(), "")}));
  EXPECT_EQ(result_of(svc, "tls").value("status", ""), "pass") << svc.verbose().dump();
  const json untrusted = result_of(svc, "untrusted");
  EXPECT_EQ(untrusted.value("status", ""), "fail");
  EXPECT_NE(untrusted.value("output", "").find("certificate verify failed"), std::string::npos)
      << untrusted.dump();
  EXPECT_EQ(result_of(svc, "plain").value("status", ""), "fail");
}

TEST_F(GrpcChecks, OneConnectionCarriesEveryAttemptWhileTheServerKeepsIt) {
  grpc_peer peer;
  tcp_proxy proxy(peer.port());
  health_service svc(dir_, json::array({grpc_check("peer", proxy.port(), "",
                                                   {{"interval", "100ms"}, {"timeout", "80ms"}})}));
  EXPECT_EQ(result_of(svc, "peer").value("status", ""), "pass");
  // Ten attempts or more.
  std::this_thread::sleep_for(1200ms);
  EXPECT_EQ(json_at(svc.verbose(), "/checks/peer/status"), "pass");
  EXPECT_EQ(proxy.connections(), 1u);

  // The connection breaks: the next attempt opens another.
  proxy.cut();
  ASSERT_TRUE(eventually([&] { return proxy.connections() == 2; }, 3s));
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(proxy.connections(), 2u);
  becomes(svc, "peer", "pass");
}

// ---- against badges-health itself ----

TEST_F(GrpcChecks, AnotherBadgesHealthAnswersForItselfAndForEachOfItsChecks) {
  temp_dir other_dir;
  const json gate = {{"name", "db"},
                     {"type", "file"},
                     {"path", other_dir.file("db-down")},
                     {"when", "absent"},
                     {"interval", "100ms"},
                     {"timeout", "50ms"},
                     {"rise", 1},
                     {"fall", 1}};
  // A ttl check has no result until its first report: UNKNOWN.
  const json waiting = {{"name", "processor"}, {"type", "ttl"}, {"ttl", "1h"}};
  health_service other(other_dir, json::array({gate, waiting}), {"--admin-token", "t"});
  const auto port = other.port();
  tcp_proxy proxy(port);
  health_service svc(dir_, json::array({grpc_check("whole", proxy.port(), "readiness"),
                                        grpc_check("db", proxy.port(), "db"),
                                        grpc_check("processor", port, "processor"),
                                        grpc_check("unknown", port, "no-such-check")}));
  EXPECT_EQ(result_of(svc, "db").value("status", ""), "pass");
  EXPECT_EQ(result_of(svc, "processor").value("output", ""), "UNKNOWN");
  EXPECT_EQ(result_of(svc, "unknown").value("output", "").rfind("NOT_FOUND", 0), 0u)
      << svc.verbose().dump();
  // Not ready while the ttl check waits: NOT_SERVING for "readiness".
  EXPECT_EQ(result_of(svc, "whole").value("output", ""), "NOT_SERVING");

  other_dir.write("db-down", "x");
  EXPECT_EQ(becomes(svc, "db", "fail").value("output", ""), "NOT_SERVING");
  // Both checks through the proxy shared nothing, but each kept its own.
  EXPECT_EQ(proxy.connections(), 2u);
}

}  // namespace
}  // namespace grpc_checks
}  // namespace badges_health::test
