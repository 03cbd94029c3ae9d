// Unit tests for health_model and the spelling of the health states.
#include "badges_health/health/health_model.hpp"

#include <gtest/gtest.h>

#include <memory>

#include "badges_health/health/health_snapshot.hpp"

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

TEST(status, to_string_uses_the_spec_spelling) {
  EXPECT_EQ(to_string(status::ok), "ok");
  EXPECT_EQ(to_string(status::degraded), "degraded");
  EXPECT_EQ(to_string(status::down), "down");
}

}  // namespace
}  // namespace badges_health::health
