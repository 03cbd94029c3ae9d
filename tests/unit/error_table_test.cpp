// The error table is the one list of error codes: every code in it is in
// the OpenAPI document's Error.code enum, and the enum lists nothing else.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "badges_health/app/openapi_document.hpp"
#include "badges_health/http/http_error.hpp"

namespace badges_health::http {
namespace {

TEST(error_table, is_the_openapi_documents_list_of_codes) {
  const auto doc = nlohmann::json::parse(app::openapi_document());
  const auto& listed = doc.at("/components/schemas/Error/properties/code/enum"_json_pointer);
  std::set<std::string> in_openapi;
  for (const auto& code : listed) in_openapi.insert(code.get<std::string>());
  std::set<std::string> in_table;
  for (const auto& e : errors::all) in_table.insert(std::string(e.code));
  EXPECT_EQ(in_table, in_openapi);
  EXPECT_EQ(in_table.size(), errors::all.size()) << "a code listed twice in the table";
}

TEST(error_table, every_factory_builds_a_row_of_the_table) {
  const http_error built[] = {
      http_error::bad_request("x"),          http_error::not_found(),
      http_error::method_not_allowed("GET"), http_error::unknown_parameter("x"),
      http_error::invalid_parameter("x"),    http_error::unauthorized("x"),
      http_error::body_not_allowed(),        http_error::header_too_large(),
      http_error::target_too_long(),         http_error::version_not_supported(),
      http_error::too_many_connections(),
  };
  for (const auto& e : built) {
    bool found = false;
    for (const auto& row : errors::all)
      found = found || (row.code == e.code() && row.status == e.status());
    EXPECT_TRUE(found) << e.code();
  }
}

}  // namespace
}  // namespace badges_health::http
