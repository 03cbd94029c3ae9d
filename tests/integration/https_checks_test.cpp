// The http check over TLS against a real HTTPS server whose certificate is
// signed by a private CA made at test time: verification against the
// system store and against `ca_file`, host-name verification, `insecure`,
// and `expect_json` reading a Catalyst-like health document.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "support/health_service.hpp"
#include "support/temp_dir.hpp"
#include "support/tls_server.hpp"

namespace badges_health::test {
namespace {

using nlohmann::json;

json https_check(const std::string& name, const std::string& url, json extra = json::object()) {
  json c = {
      {"name", name}, {"type", "http"}, {"url", url}, {"interval", "300ms"}, {"timeout", "250ms"}};
  c.update(extra);
  return c;
}

class HttpsChecks : public ::testing::Test {
 protected:
  // The check's verbose entry once it has a first result.
  json result_of(const health_service& svc, const std::string& name) {
    const auto body = svc.wait_for_result(name);
    if (!body) {
      ADD_FAILURE() << "check " << name << " produced no result within 5 s";
      return json::object();
    }
    return json_at(*body, "/checks/" + name);
  }

  std::string url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(server_.port()) + path;
  }

  temp_dir dir_;
  test_ca ca_;
  std::pair<std::string, std::string> cert_ = ca_.issue("server", "IP:127.0.0.1,DNS:localhost");
  https_server server_{cert_.first, cert_.second};
};

TEST_F(HttpsChecks, PassesWithTheCaFileThatSignedTheCertificate) {
  health_service svc(
      dir_,
      json::array({https_check("catalyst", url("/about"), {{"ca_file", ca_.certificate()}})}));
  const json c = result_of(svc, "catalyst");
  EXPECT_EQ(c.value("status", ""), "pass") << c.dump();
}

TEST_F(HttpsChecks, FailsAgainstAPrivateCaWithTheSystemStoreAndSaysCertificate) {
  health_service svc(dir_, json::array({https_check("catalyst", url("/about"))}));
  const json c = result_of(svc, "catalyst");
  EXPECT_EQ(c.value("status", ""), "fail") << c.dump();
  EXPECT_NE(c.value("output", "").find("certificate"), std::string::npos) << c.dump();
}

TEST_F(HttpsChecks, FailsWhenTheCertificateNamesAnotherHost) {
  const auto other = ca_.issue("other", "DNS:other.example");
  https_server wrong_name(other.first, other.second);
  const std::string to_wrong = "https://127.0.0.1:" + std::to_string(wrong_name.port()) + "/about";
  health_service svc(
      dir_, json::array({https_check("catalyst", to_wrong, {{"ca_file", ca_.certificate()}})}));
  const json c = result_of(svc, "catalyst");
  EXPECT_EQ(c.value("status", ""), "fail") << c.dump();
  EXPECT_NE(c.value("output", "").find("certificate"), std::string::npos) << c.dump();
}

TEST_F(HttpsChecks, InsecureSkipsVerificationAndIsLoggedAsAWarning) {
  health_service svc(dir_,
                     json::array({https_check("catalyst", url("/about"), {{"insecure", true}})}));
  const json c = result_of(svc, "catalyst");
  EXPECT_EQ(c.value("status", ""), "pass") << c.dump();
  EXPECT_TRUE(svc.process().wait_for_log("insecure")) << svc.process().log();
}

TEST_F(HttpsChecks, ExpectJsonPassesWhenThePointerHoldsTheValue) {
  health_service svc(
      dir_,
      json::array({https_check("catalyst", url("/about"),
                               {{"ca_file", ca_.certificate()},
                                {"expect_json", {{"pointer", "/healthy"}, {"equals", true}}}})}));
  const json c = result_of(svc, "catalyst");
  EXPECT_EQ(c.value("status", ""), "pass") << c.dump();
}

TEST_F(HttpsChecks, ExpectJsonFailsAndSaysWhatItSaw) {
  health_service svc(
      dir_,
      json::array({https_check("catalyst", url("/sick"),
                               {{"ca_file", ca_.certificate()},
                                {"expect_json", {{"pointer", "/healthy"}, {"equals", true}}}})}));
  const json c = result_of(svc, "catalyst");
  EXPECT_EQ(c.value("status", ""), "fail") << c.dump();
  EXPECT_NE(c.value("output", "").find("/healthy is false, expected true"), std::string::npos)
      << c.dump();
}

TEST_F(HttpsChecks, ExpectJsonFailsOnABodyThatIsNotJson) {
  health_service svc(
      dir_,
      json::array({https_check("catalyst", url("/text"),
                               {{"ca_file", ca_.certificate()},
                                {"expect_json", {{"pointer", "/healthy"}, {"equals", true}}}})}));
  const json c = result_of(svc, "catalyst");
  EXPECT_EQ(c.value("status", ""), "fail") << c.dump();
  EXPECT_NE(c.value("output", "").find("not JSON"), std::string::npos) << c.dump();
}

// A certificate that expires in three days: a warning (the default
// cert_warn_days is 14) whose observed value is the days left.
TEST_F(HttpsChecks, ACertificateExpiringSoonIsAWarningObservingTheDaysLeft) {
  const auto soon = ca_.issue("soon", "IP:127.0.0.1", 3);
  https_server expiring(soon.first, soon.second);
  const std::string to_soon = "https://127.0.0.1:" + std::to_string(expiring.port()) + "/about";
  health_service svc(
      dir_, json::array({https_check("soon", to_soon, {{"ca_file", ca_.certificate()}}),
                         https_check("relaxed", to_soon,
                                     {{"ca_file", ca_.certificate()}, {"cert_warn_days", 2}}),
                         https_check("year", url("/about"), {{"ca_file", ca_.certificate()}})}));
  const json c = result_of(svc, "soon");
  EXPECT_EQ(c.value("status", ""), "warn") << c.dump();
  EXPECT_EQ(c.value("observedUnit", ""), "days") << c.dump();
  EXPECT_GT(c.value("observedValue", 0.0), 2.9) << c.dump();
  EXPECT_LE(c.value("observedValue", 99.0), 3.0) << c.dump();
  EXPECT_NE(c.value("output", "").find("the certificate expires in"), std::string::npos)
      << c.dump();
  EXPECT_EQ(json_at(svc.verbose(), "/status"), "degraded");
  // More days left than cert_warn_days asks for: a pass; so is a year.
  EXPECT_EQ(result_of(svc, "relaxed").value("status", ""), "pass");
  EXPECT_EQ(result_of(svc, "year").value("status", ""), "pass");
}

}  // namespace
}  // namespace badges_health::test
