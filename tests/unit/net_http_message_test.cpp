// http_headers, query parameters, percent-decoding and the JSON error shape.
#include <catch2/catch.hpp>

#include <synccore/net/http_message.hpp>

using namespace synccore::net;

TEST_CASE("http_headers look names up case-insensitively", "[net][message]") {
  http_headers h;
  h.add("X-Sync-API-Key", "a");
  h.add("Accept", "1");
  h.add("accept", "2");
  CHECK(h.get("x-sync-api-key") == "a");
  CHECK(h.get("ACCEPT") == "1");
  CHECK(h.size() == 3);
  h.set("Accept", "3");
  CHECK(h.size() == 2);
  CHECK(h.get("accept") == "3");
  h.erase("X-SYNC-API-KEY");
  CHECK_FALSE(h.contains("X-Sync-API-Key"));
}

TEST_CASE("http_request splits the target and decodes query parameters", "[net][message]") {
  http_request r;
  r.target = "/api/sync/pull?table=transactions&since=2026-11-24T14%3A30%3A41.000000Z&x&y=";
  CHECK(r.path() == "/api/sync/pull");
  CHECK(r.query_param("table") == "transactions");
  CHECK(r.query_param("since") == "2026-11-24T14:30:41.000000Z");
  CHECK(r.query_param("x") == "");
  CHECK(r.query_param("y") == "");
  CHECK_FALSE(r.query_param("z").has_value());

  r.target = "/api/sync/pull?since=2026-11-24+15%3a00%3a00&since=second";
  CHECK(r.query_param("since") == "2026-11-24 15:00:00");  // first one, '+' is a space

  r.target = "/up";
  CHECK(r.path() == "/up");
  CHECK(r.query().empty());
  CHECK_FALSE(r.query_param("table").has_value());
}

TEST_CASE("percent_decode keeps malformed escapes", "[net][message]") {
  CHECK(percent_decode("a%2Bb", true) == "a+b");
  CHECK(percent_decode("a+b", true) == "a b");
  CHECK(percent_decode("a+b", false) == "a+b");
  CHECK(percent_decode("100%", true) == "100%");
  CHECK(percent_decode("%zz%4", true) == "%zz%4");
}

TEST_CASE("json_error escapes and has the PHP module's shape", "[net][message]") {
  const http_response r = json_error(413, "Payload Too Large", "limit is \"32 MiB\"");
  CHECK(r.status == 413);
  CHECK(r.headers.get("Content-Type") == "application/json");
  CHECK(r.body == R"({"error":"Payload Too Large","message":"limit is \"32 MiB\""})");
}
