// Start the real binary, probe /status, stop it with SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "support/raw_client.hpp"
#include "support/server_process.hpp"

namespace badges_health::test {

TEST(Smoke, StatusAnswersOkAndSigtermExitsZero) {
  server_process server({"--drain-delay", "0"});
  auto res = request(server.port(), "GET", "/status");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 200);
  EXPECT_EQ(nlohmann::json::parse(res->body())["status"], "ok");
  server.signal(SIGTERM);
  EXPECT_EQ(server.wait(), 0);
}

}  // namespace badges_health::test
