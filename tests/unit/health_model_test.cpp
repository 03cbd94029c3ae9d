// Unit tests for health_model and the spelling of the health states.
#include "badges_health/health/health_model.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>

#include "badges_health/health/health_snapshot.hpp"
#include "badges_health/health/maintenance.hpp"

namespace badges_health::health {
namespace {

TEST(health_model, is_ok_ready_and_not_draining_by_default) {
  const health_model model;
  const summary s = model.current();
  EXPECT_EQ(s.overall, status::ok);
  EXPECT_TRUE(s.ready);
  EXPECT_FALSE(s.draining);
  EXPECT_FALSE(model.draining());
}

TEST(health_model, is_down_and_not_ready_after_set_draining) {
  health_model model;
  model.set_draining();
  const summary s = model.current();
  EXPECT_EQ(s.overall, status::down);
  EXPECT_FALSE(s.ready);
  EXPECT_TRUE(s.draining);
  EXPECT_TRUE(model.draining());
}

TEST(health_model, set_draining_is_idempotent) {
  health_model model;
  model.set_draining();
  model.set_draining();
  EXPECT_EQ(model.current().overall, status::down);
  EXPECT_TRUE(model.draining());
}

TEST(health_model, is_usable_through_status_source) {
  health_model model;
  const status_source& source = model;
  EXPECT_EQ(source.current().overall, status::ok);
  model.set_draining();
  EXPECT_EQ(source.current().overall, status::down);
}

TEST(health_model, reports_the_published_aggregate) {
  health_model model;
  auto snap = std::make_shared<health_snapshot>();
  snap->base = summary{status::degraded, true, false};
  model.publish(snap);
  EXPECT_EQ(model.current().overall, status::degraded);
  ASSERT_NE(model.details(), nullptr);
  EXPECT_TRUE(model.details()->checks.empty());
}

TEST(health_model, draining_overrides_the_published_aggregate) {
  health_model model;
  auto snap = std::make_shared<health_snapshot>();
  snap->base = summary{status::degraded, true, false};
  model.publish(snap);
  model.set_draining();
  const summary s = model.current();
  EXPECT_EQ(s.overall, status::down);
  EXPECT_FALSE(s.ready);
  EXPECT_TRUE(s.draining);
}

std::shared_ptr<const maintenance_window> window_for(std::string reason) {
  const auto now = std::chrono::system_clock::now();
  return std::make_shared<const maintenance_window>(
      maintenance_window{std::move(reason), now, now + std::chrono::minutes(5),
                         std::chrono::steady_clock::now() + std::chrono::minutes(5)});
}

TEST(health_model, maintenance_is_down_and_not_ready_until_cleared_and_each_change_is_heard) {
  health_model model;
  int changes = 0;
  model.on_change([&changes] { ++changes; });
  EXPECT_EQ(model.maintenance(), nullptr);
  const auto first = window_for("db migration");
  EXPECT_EQ(model.set_maintenance(first), nullptr);
  summary s = model.current();
  EXPECT_EQ(s.overall, status::down);
  EXPECT_FALSE(s.ready);
  EXPECT_TRUE(s.maintenance);
  EXPECT_FALSE(s.draining);
  EXPECT_FALSE(s.readiness());
  EXPECT_EQ(model.maintenance(), first);
  EXPECT_EQ(changes, 1);
  // Replacing is a change too (what verbose output says changes).
  const auto second = window_for("longer");
  EXPECT_EQ(model.set_maintenance(second), first);
  EXPECT_EQ(changes, 2);
  // Clearing brings back the published aggregate.
  EXPECT_EQ(model.set_maintenance(nullptr), second);
  s = model.current();
  EXPECT_EQ(s.overall, status::ok);
  EXPECT_TRUE(s.readiness());
  EXPECT_FALSE(s.maintenance);
  EXPECT_EQ(changes, 3);
  // Clearing nothing changes nothing.
  EXPECT_EQ(model.set_maintenance(nullptr), nullptr);
  EXPECT_EQ(changes, 3);
}

TEST(health_model, maintenance_and_draining_are_both_reported) {
  health_model model;
  model.set_maintenance(window_for("x"));
  model.set_draining();
  const summary s = model.current();
  EXPECT_TRUE(s.maintenance);
  EXPECT_TRUE(s.draining);
  model.set_maintenance(nullptr);
  EXPECT_TRUE(model.current().draining);
  EXPECT_FALSE(model.current().maintenance);
  EXPECT_EQ(model.current().overall, status::down);
}

TEST(health_model, maintenance_survives_a_new_set_of_checks) {
  health_model model;
  model.set_maintenance(window_for("x"));
  auto snap = std::make_shared<health_snapshot>();
  model.publish(snap);
  EXPECT_TRUE(model.current().maintenance);
  EXPECT_EQ(model.current().overall, status::down);
}

TEST(status, to_string_uses_the_spec_spelling) {
  EXPECT_EQ(to_string(status::ok), "ok");
  EXPECT_EQ(to_string(status::degraded), "degraded");
  EXPECT_EQ(to_string(status::down), "down");
}

}  // namespace
}  // namespace badges_health::health
