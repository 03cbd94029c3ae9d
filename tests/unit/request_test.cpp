// Unit tests for request_view: target splitting (origin-form, absolute-form,
// asterisk), query decoding and header lookup. A target that does not
// parse is an http_error value, never an exception.
#include "badges_health/http/request.hpp"

#include <gtest/gtest.h>

#include <boost/beast/http/fields.hpp>
#include <string_view>
#include <utility>

#include "badges_health/http/http_error.hpp"

namespace badges_health::http {
namespace {

using boost::beast::http::field;
using boost::beast::http::verb;

using view_or_error = boost::system::result<request_view, http_error>;

view_or_error parse_get(std::string_view target,
                        const boost::beast::http::fields* fields = nullptr) {
  return request_view::parse(verb::get, "GET", target, protocol::http1_1, fields);
}

// The view of a target the test expects to parse; fails the test (and
// throws) when it does not.
request_view parsed_view(view_or_error result) {
  if (!result) {
    ADD_FAILURE() << "expected the target to parse, got " << result.error().code() << ": "
                  << result.error().message();
  }
  return result.value();
}

request_view get(std::string_view target, const boost::beast::http::fields* fields = nullptr) {
  return parsed_view(parse_get(target, fields));
}

// Whether `result` is an http_error with the given status and code.
::testing::AssertionResult is_parse_error(const view_or_error& result, beast_http::status status,
                                          std::string_view code) {
  if (result) {
    return ::testing::AssertionFailure() << "expected http_error " << code << ", the target parsed";
  }
  const http_error& e = result.error();
  if (e.status() != status || e.code() != code) {
    return ::testing::AssertionFailure()
           << "expected " << static_cast<unsigned>(status) << " " << code << ", got "
           << static_cast<unsigned>(e.status()) << " " << e.code();
  }
  return ::testing::AssertionSuccess();
}

TEST(request_view, keeps_method_target_and_protocol) {
  const request_view req =
      parsed_view(request_view::parse(verb::head, "HEAD", "/status?x=1", protocol::http1_0));
  EXPECT_EQ(req.method(), verb::head);
  EXPECT_EQ(req.method_text(), "HEAD");
  EXPECT_EQ(req.target(), "/status?x=1");
  EXPECT_EQ(req.protocol(), protocol::http1_0);
  const request_view h2 =
      parsed_view(request_view::parse(verb::get, "GET", "/status", protocol::http2));
  EXPECT_EQ(h2.protocol(), protocol::http2);
}

TEST(request_view, origin_form_without_query_is_all_path) {
  const request_view req = get("/status");
  EXPECT_EQ(req.path(), "/status");
  EXPECT_TRUE(req.query().empty());
}

TEST(request_view, origin_form_splits_path_and_query) {
  const request_view req = get("/status?a=1&b=two");
  EXPECT_EQ(req.path(), "/status");
  ASSERT_EQ(req.query().size(), 2u);
  EXPECT_EQ(req.query()[0].name, "a");
  EXPECT_EQ(req.query()[0].value, "1");
  EXPECT_EQ(req.query()[1].name, "b");
  EXPECT_EQ(req.query()[1].value, "two");
}

TEST(request_view, absolute_form_is_reduced_to_path_and_query) {
  const request_view req = get("http://example.com:8080/status?x=1");
  EXPECT_EQ(req.path(), "/status");
  ASSERT_EQ(req.query().size(), 1u);
  EXPECT_EQ(req.query()[0].name, "x");
  EXPECT_EQ(req.query()[0].value, "1");
}

TEST(request_view, absolute_form_scheme_is_case_insensitive_and_https_accepted) {
  EXPECT_EQ(get("HTTP://host/livez").path(), "/livez");
  EXPECT_EQ(get("https://host/readyz").path(), "/readyz");
}

TEST(request_view, absolute_form_without_path_reads_as_root) {
  EXPECT_EQ(get("http://host").path(), "/");
  const request_view req = get("http://host?x=1");
  EXPECT_EQ(req.path(), "/");
  EXPECT_EQ(req.query_value("x"), "1");
}

TEST(request_view, asterisk_target_is_its_own_path) {
  const request_view req =
      parsed_view(request_view::parse(verb::options, "OPTIONS", "*", protocol::http1_1));
  EXPECT_EQ(req.path(), "*");
  EXPECT_TRUE(req.query().empty());
}

TEST(request_view, query_is_percent_decoded_with_plus_as_space) {
  const request_view req = get("/status?na%6De=a+b%20c%2B%2fd");
  ASSERT_EQ(req.query().size(), 1u);
  EXPECT_EQ(req.query()[0].name, "name");
  EXPECT_EQ(req.query()[0].value, "a b c+/d");
}

TEST(request_view, parameter_without_value_and_empty_pairs) {
  const request_view req = get("/status?flag&&x=");
  ASSERT_EQ(req.query().size(), 2u);
  EXPECT_EQ(req.query()[0].name, "flag");
  EXPECT_EQ(req.query()[0].value, "");
  EXPECT_EQ(req.query()[1].name, "x");
  EXPECT_EQ(req.query()[1].value, "");
}

TEST(request_view, fragment_is_dropped_from_the_query) {
  const request_view req = get("/status?x=1#frag");
  ASSERT_EQ(req.query().size(), 1u);
  EXPECT_EQ(req.query()[0].value, "1");
}

TEST(request_view, query_value_returns_the_first_value_or_nullopt) {
  const request_view req = get("/status?x=1&x=2");
  EXPECT_EQ(req.query_value("x"), "1");
  EXPECT_FALSE(req.query_value("y").has_value());
}

TEST(request_view, bad_percent_escape_in_value_is_bad_request) {
  EXPECT_TRUE(
      is_parse_error(parse_get("/status?x=%zz"), beast_http::status::bad_request, "BAD_REQUEST"));
}

TEST(request_view, truncated_percent_escape_is_bad_request) {
  EXPECT_TRUE(
      is_parse_error(parse_get("/status?x=%4"), beast_http::status::bad_request, "BAD_REQUEST"));
  EXPECT_TRUE(
      is_parse_error(parse_get("/status?x=%"), beast_http::status::bad_request, "BAD_REQUEST"));
}

TEST(request_view, bad_percent_escape_in_name_is_bad_request) {
  EXPECT_TRUE(
      is_parse_error(parse_get("/status?%g1=1"), beast_http::status::bad_request, "BAD_REQUEST"));
}

TEST(request_view, target_not_starting_with_slash_is_bad_request) {
  EXPECT_TRUE(is_parse_error(parse_get("status"), beast_http::status::bad_request, "BAD_REQUEST"));
  EXPECT_TRUE(is_parse_error(parse_get(""), beast_http::status::bad_request, "BAD_REQUEST"));
  EXPECT_TRUE(is_parse_error(parse_get("ftp://host/status"), beast_http::status::bad_request,
                             "BAD_REQUEST"));
}

TEST(request_view, origin_form_starting_with_query_is_bad_request) {
  // RFC 9112 section 3.2.1: origin-form is absolute-path [ "?" query ], and
  // absolute-path starts with "/". "?x=1" is no form the header accepts.
  EXPECT_TRUE(is_parse_error(parse_get("?x=1"), beast_http::status::bad_request, "BAD_REQUEST"));
}

TEST(request_view, header_lookup_by_field_and_name) {
  boost::beast::http::fields fields;
  fields.set(field::user_agent, "kube-probe/1.29");
  fields.set("X-Custom", "yes");
  const request_view req = get("/status", &fields);
  EXPECT_EQ(req.header(field::user_agent), "kube-probe/1.29");
  EXPECT_EQ(req.header("x-custom"), "yes");
  EXPECT_EQ(req.header(field::host), "");
  EXPECT_EQ(req.header("absent"), "");
}

TEST(request_view, header_lookup_without_fields_is_empty) {
  const request_view req = get("/status");
  EXPECT_EQ(req.header(field::host), "");
  EXPECT_EQ(req.header("host"), "");
}

TEST(percent_decode, decodes_escapes_and_plus) {
  EXPECT_EQ(percent_decode("a%41%62+c"), "aAb c");
  EXPECT_EQ(percent_decode(""), "");
}

TEST(percent_decode, rejects_malformed_escapes) {
  EXPECT_FALSE(percent_decode("%").has_value());
  EXPECT_FALSE(percent_decode("%4").has_value());
  EXPECT_FALSE(percent_decode("%x1").has_value());
  EXPECT_FALSE(percent_decode("ab%1").has_value());
}

}  // namespace
}  // namespace badges_health::http
