// The registry is the one list of check types: the JSON Schema of the
// checks file and the handbook page follow it, so a type added to the
// registry without them (or a field without its schema) fails here.
#include "badges_health/health/check_registry.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

namespace badges_health::health {
namespace {

std::string read_source(const std::string& relative) {
  std::ifstream in(std::string(BADGES_HEALTH_SOURCE_DIR) + "/" + relative);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(check_registry, names_are_unique_and_found) {
  std::set<std::string_view> names;
  for (const check_type* t : check_types()) {
    EXPECT_TRUE(names.insert(t->name).second) << t->name;
    EXPECT_EQ(find_check_type(t->name), t);
    EXPECT_NE(t->read, nullptr) << t->name;
  }
  EXPECT_EQ(find_check_type("smtp"), nullptr);
}

TEST(check_registry, the_schema_lists_every_type_with_exactly_its_fields) {
  const auto schema = nlohmann::json::parse(read_source("schema/checks.schema.json"));
  const auto& defs = schema.at("$defs");
  std::vector<std::string> listed;
  for (const auto& t : defs.at("check").at("properties").at("type").at("enum")) {
    listed.push_back(t.get<std::string>());
  }
  std::vector<std::string> registered;
  for (const check_type* t : check_types()) registered.emplace_back(t->name);
  EXPECT_EQ(listed, registered);

  for (const check_type* t : check_types()) {
    const std::string def = "check_" + std::string(t->name);
    ASSERT_TRUE(defs.contains(def)) << def;
    std::set<std::string> in_schema;
    for (const auto& [field, value] : defs.at(def).at("properties").items())
      in_schema.insert(field);
    std::set<std::string> expected{"name", "type", "critical", "rise", "fall"};
    if (!t->reported) expected.insert({"interval", "timeout"});
    for (const auto field : t->fields) expected.emplace(field);
    EXPECT_EQ(in_schema, expected) << t->name;
    EXPECT_EQ(defs.at(def).at("additionalProperties"), false) << t->name;
  }
}

TEST(check_registry, the_handbook_documents_every_type) {
  const std::string handbook = read_source("docs/checks.md");
  ASSERT_FALSE(handbook.empty()) << "docs/checks.md is missing";
  for (const check_type* t : check_types()) {
    const std::string heading = "### `" + std::string(t->name) + "`";
    EXPECT_NE(handbook.find(heading), std::string::npos) << "no section " << heading;
    EXPECT_NE(handbook.find("\"type\": \"" + std::string(t->name) + "\""), std::string::npos)
        << "no example of a " << t->name << " check";
  }
}

}  // namespace
}  // namespace badges_health::health
