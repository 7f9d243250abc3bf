// parse_base_url and backoff_delay.
#include <catch2/catch.hpp>

#include <synccore/net/retry_policy.hpp>
#include <synccore/net/url.hpp>

using namespace std::chrono_literals;
using synccore::net::parse_base_url;

TEST_CASE("parse_base_url accepts http and https master URLs", "[net][url]") {
  auto a = parse_base_url("http://app.ruxxengas.com");
  REQUIRE(a.has_value());
  CHECK_FALSE(a->tls);
  CHECK(a->host == "app.ruxxengas.com");
  CHECK(a->port == 80);
  CHECK(a->base_path.empty());
  CHECK(a->host_header() == "app.ruxxengas.com");
  CHECK(a->to_string() == "http://app.ruxxengas.com");

  auto b = parse_base_url("HTTPS://App.RuxxenGas.com:8443/ruxx/sync/");
  REQUIRE(b.has_value());
  CHECK(b->tls);
  CHECK(b->host == "app.ruxxengas.com");
  CHECK(b->port == 8443);
  CHECK(b->base_path == "/ruxx/sync");
  CHECK(b->host_header() == "app.ruxxengas.com:8443");
  CHECK(b->authority() == "app.ruxxengas.com:8443");

  auto c = parse_base_url("https://[::1]/");
  REQUIRE(c.has_value());
  CHECK(c->host == "::1");
  CHECK(c->port == 443);
  CHECK(c->host_header() == "[::1]");
  CHECK(c->authority() == "[::1]:443");

  auto d = parse_base_url("http://127.0.0.1:8801");
  REQUIRE(d.has_value());
  CHECK(d->port == 8801);
  CHECK(d->host_header() == "127.0.0.1:8801");
}

TEST_CASE("parse_base_url rejects malformed URLs with a reason", "[net][url]") {
  for (const char* bad : {"", "app.ruxxengas.com", "ftp://host", "http://", "http://:80",
                          "http://host:", "http://host:0", "http://host:65536", "http://host:8x",
                          "http://user:pw@host", "http://host/path?q=1", "http://host/#frag",
                          "http://ho st", "https://[::1", "https://[::1]x"}) {
    INFO(bad);
    auto r = parse_base_url(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().field == "url");
    CHECK_FALSE(r.error().message.empty());
  }
}

TEST_CASE("backoff_delay grows exponentially and is capped and jittered", "[net][retry]") {
  synccore::net::retry_policy p;
  p.initial_backoff = 100ms;
  p.multiplier = 2.0;
  p.max_backoff = 1000ms;
  p.jitter = 0.0;
  CHECK(backoff_delay(p, 1, 0.7) == 100ms);
  CHECK(backoff_delay(p, 2, 0.7) == 200ms);
  CHECK(backoff_delay(p, 4, 0.7) == 800ms);
  CHECK(backoff_delay(p, 5, 0.7) == 1000ms);
  CHECK(backoff_delay(p, 5000, 0.7) == 1000ms);  // no overflow

  p.jitter = 0.5;
  CHECK(backoff_delay(p, 1, 0.0) == 50ms);
  CHECK(backoff_delay(p, 1, 0.5) == 100ms);
  CHECK(backoff_delay(p, 1, 0.999) == 150ms);
  CHECK(backoff_delay(p, 10, 0.999) == 1000ms);  // jitter never exceeds the cap
}
