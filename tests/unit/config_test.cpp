#include <synccore/config/environment.hpp>
#include <synccore/config/settings.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <stdexcept>

#include "temp_dir.hpp"

using namespace synccore;
using namespace synccore::config;

namespace {

settings resolve_ok(const config_sources& sources) {
  auto r = resolve_settings(sources);
  if (!r) FAIL("unexpected error: " << r.error().field << ": " << r.error().message);
  return *r;
}

input_error resolve_error(const config_sources& sources) {
  auto r = resolve_settings(sources);
  REQUIRE_FALSE(r.has_value());
  return r.error();
}

}  // namespace

TEST_CASE("config: built-in defaults when nothing is set", "[config]") {
  const settings s = resolve_ok({});
  CHECK(s.app_mode == app_mode_kind::unset);
  CHECK(s.master_url.empty());
  CHECK(s.api_key.empty());
  CHECK(s.app_timezone == "Africa/Lagos");
  CHECK(s.db_database.empty());
  CHECK(s.node_id.empty());
  for (auto name : setting_names) CHECK(s.source_of(name) == value_source::built_in);
}

TEST_CASE("config: every name is read from .env", "[config]") {
  config_sources src;
  src.env_file = {{"APP_MODE", "slave"},
                  {"MASTER_URL", "https://app.ruxxengas.com"},
                  {"SYNC_API_KEY", "k-env-file"},
                  {"APP_TIMEZONE", "Europe/London"},
                  {"DB_DATABASE", "/data/db.sqlite"},
                  {"SYNC_NODE_ID", "depot-kano"},
                  {"APP_NAME", "ignored"}};
  const settings s = resolve_ok(src);
  CHECK(s.app_mode == app_mode_kind::slave);
  CHECK(s.master_url == "https://app.ruxxengas.com");
  CHECK(s.api_key == "k-env-file");
  CHECK(s.app_timezone == "Europe/London");
  CHECK(s.db_database == "/data/db.sqlite");
  CHECK(s.node_id == "depot-kano");
  for (auto name : setting_names) CHECK(s.source_of(name) == value_source::env_file);
}

TEST_CASE("config: each level overrides the one below", "[config]") {
  config_sources src;
  SECTION(".env overrides the default") {
    src.env_file = {{"APP_TIMEZONE", "UTC"}};
    const settings s = resolve_ok(src);
    CHECK(s.app_timezone == "UTC");
    CHECK(s.source_of("APP_TIMEZONE") == value_source::env_file);
  }
  SECTION("the environment overrides .env") {
    src.env_file = {{"APP_TIMEZONE", "UTC"}, {"SYNC_API_KEY", "file"}, {"APP_MODE", "master"}};
    src.environment = {{"APP_TIMEZONE", "Europe/Paris"}, {"SYNC_API_KEY", "env"}};
    const settings s = resolve_ok(src);
    CHECK(s.app_timezone == "Europe/Paris");
    CHECK(s.api_key == "env");
    CHECK(s.app_mode == app_mode_kind::master);  // only in .env: still read
    CHECK(s.source_of("APP_TIMEZONE") == value_source::environment);
    CHECK(s.source_of("SYNC_API_KEY") == value_source::environment);
    CHECK(s.source_of("APP_MODE") == value_source::env_file);
  }
  SECTION("flags override the environment and .env") {
    src.env_file = {{"DB_DATABASE", "/from/file.sqlite"}, {"MASTER_URL", "http://file"}};
    src.environment = {{"DB_DATABASE", "/from/env.sqlite"}, {"MASTER_URL", "http://env"}};
    src.flags = {{"DB_DATABASE", "/from/flag.sqlite"}};
    const settings s = resolve_ok(src);
    CHECK(s.db_database == "/from/flag.sqlite");
    CHECK(s.master_url == "http://env");
    CHECK(s.source_of("DB_DATABASE") == value_source::flag);
    CHECK(s.source_of("MASTER_URL") == value_source::environment);
  }
}

TEST_CASE("config: an empty value falls through to the level below", "[config]") {
  config_sources src;
  src.env_file = {{"SYNC_API_KEY", "from-file"}, {"APP_TIMEZONE", ""}};
  src.environment = {{"SYNC_API_KEY", ""}};
  src.flags = {{"SYNC_API_KEY", ""}};
  const settings s = resolve_ok(src);
  CHECK(s.api_key == "from-file");
  CHECK(s.source_of("SYNC_API_KEY") == value_source::env_file);
  CHECK(s.app_timezone == "Africa/Lagos");
  CHECK(s.source_of("APP_TIMEZONE") == value_source::built_in);
}

TEST_CASE("config: invalid values name the setting and their source", "[config]") {
  config_sources src;
  SECTION("APP_TIMEZONE") {
    src.env_file = {{"APP_TIMEZONE", "Mars/Base"}};
    const auto e = resolve_error(src);
    CHECK(e.field == "APP_TIMEZONE");
    CHECK(e.message == "APP_TIMEZONE: unknown time zone \"Mars/Base\" (from .env)");
  }
  SECTION("APP_MODE") {
    src.environment = {{"APP_MODE", "primary"}};
    const auto e = resolve_error(src);
    CHECK(e.field == "APP_MODE");
    CHECK(e.message ==
          "APP_MODE: must be \"master\" or \"slave\", got \"primary\" (from the environment)");
  }
  SECTION("APP_MODE is case-sensitive, as in the PHP module") {
    src.environment = {{"APP_MODE", "Slave"}};
    CHECK(resolve_error(src).field == "APP_MODE");
  }
  SECTION("MASTER_URL without a scheme") {
    src.flags = {{"MASTER_URL", "app.ruxxengas.com"}};
    const auto e = resolve_error(src);
    CHECK(e.field == "MASTER_URL");
    CHECK_THAT(e.message,
               Catch::StartsWith("MASTER_URL: must start with http:// or https://"));
    CHECK_THAT(e.message, Catch::EndsWith("(from the command line)"));
  }
  SECTION("MASTER_URL with another scheme") {
    src.flags = {{"MASTER_URL", "ftp://app.ruxxengas.com"}};
    CHECK(resolve_error(src).field == "MASTER_URL");
  }
  SECTION("MASTER_URL without a host") {
    src.flags = {{"MASTER_URL", "https:///api"}};
    CHECK_THAT(resolve_error(src).message, Catch::StartsWith("MASTER_URL: has no host"));
  }
  SECTION("MASTER_URL with a space") {
    src.flags = {{"MASTER_URL", "https://a b"}};
    CHECK(resolve_error(src).field == "MASTER_URL");
  }
  SECTION("SYNC_NODE_ID with unsafe characters") {
    src.env_file = {{"SYNC_NODE_ID", "depot 1\r\nX-Injected: yes"}};
    CHECK(resolve_error(src).field == "SYNC_NODE_ID");
  }
  SECTION("SYNC_NODE_ID too long") {
    src.env_file = {{"SYNC_NODE_ID", std::string(129, 'a')}};
    CHECK(resolve_error(src).field == "SYNC_NODE_ID");
  }
  SECTION("SYNC_API_KEY with a line break; the message does not show the key") {
    src.env_file = {{"SYNC_API_KEY", "secret-part\nmore"}};
    const auto e = resolve_error(src);
    CHECK(e.field == "SYNC_API_KEY");
    CHECK_THAT(e.message, !Catch::Contains("secret-part"));
  }
}

TEST_CASE("config: a lower level's invalid value is ignored when a higher level wins",
          "[config]") {
  config_sources src;
  src.env_file = {{"APP_TIMEZONE", "Mars/Base"}};
  src.environment = {{"APP_TIMEZONE", "UTC"}};
  CHECK(resolve_ok(src).app_timezone == "UTC");
}

TEST_CASE("config: MASTER_URL keeps its path and loses trailing slashes", "[config]") {
  config_sources src;
  src.env_file = {{"MASTER_URL", "HTTPS://app.ruxxengas.com/sub//"}};
  CHECK(resolve_ok(src).master_url == "HTTPS://app.ruxxengas.com/sub");
  src.env_file = {{"MASTER_URL", "http://127.0.0.1:8080"}};
  CHECK(resolve_ok(src).master_url == "http://127.0.0.1:8080");
}

TEST_CASE("config: SYNC_NODE_ID accepts uuids and names", "[config]") {
  config_sources src;
  src.env_file = {{"SYNC_NODE_ID", "3f2c9a1e-7b4d-4e8a-9c1f-0a2b3c4d5e6f"}};
  CHECK(resolve_ok(src).node_id == "3f2c9a1e-7b4d-4e8a-9c1f-0a2b3c4d5e6f");
  src.env_file = {{"SYNC_NODE_ID", "depot_kano.2"}};
  CHECK(resolve_ok(src).node_id == "depot_kano.2");
}

TEST_CASE("config: a flag name outside the contract is a programming error", "[config]") {
  config_sources src;
  src.flags = {{"SYNC_APIKEY", "typo"}};
  CHECK_THROWS_AS(resolve_settings(src), std::invalid_argument);
  CHECK_THROWS_AS(settings{}.source_of("NOPE"), std::invalid_argument);
}

TEST_CASE("config: snapshot_environment copies NAME=value entries", "[config]") {
  const char* envp[] = {"APP_MODE=slave", "EMPTY=", "WITH_EQ=a=b", "NOEQUALS", "APP_MODE=second",
                        nullptr};
  const env_map m = snapshot_environment(envp);
  CHECK(m.size() == 3);
  CHECK(m.at("APP_MODE") == "slave");
  CHECK(m.at("EMPTY").empty());
  CHECK(m.at("WITH_EQ") == "a=b");
  CHECK(snapshot_environment(nullptr).empty());
}

TEST_CASE("config: load_settings reads .env, the environment and flags together", "[config]") {
  ruxx_test::temp_dir dir;
  const auto path = dir / ".env";
  {
    std::ofstream out(path);
    out << "APP_MODE=slave\nMASTER_URL=${MASTER_HOST}/\nSYNC_API_KEY=\"file key\"\n"
           "APP_TIMEZONE=UTC\n";
  }
  auto s = load_settings(path, {{"MASTER_HOST", "https://m.test"}, {"APP_TIMEZONE", "Asia/Tokyo"}},
                         {{"DB_DATABASE", "/x.sqlite"}});
  REQUIRE(s.has_value());
  CHECK(s->app_mode == app_mode_kind::slave);
  CHECK(s->master_url == "https://m.test");
  CHECK(s->api_key == "file key");
  CHECK(s->app_timezone == "Asia/Tokyo");
  CHECK(s->db_database == "/x.sqlite");

  auto missing = load_settings(dir / "missing.env", {}, {});
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().field == "--env-file");

  auto no_file = load_settings(std::nullopt, {{"APP_MODE", "master"}}, {});
  REQUIRE(no_file.has_value());
  CHECK(no_file->app_mode == app_mode_kind::master);
}

TEST_CASE("config: describe_settings shows sources and hides the API key", "[config]") {
  config_sources src;
  src.env_file = {{"APP_MODE", "slave"}};
  src.flags = {{"SYNC_API_KEY", "top-secret-key"}};
  const std::string text = describe_settings(resolve_ok(src));
  CHECK(text ==
        "APP_MODE=slave (.env)\n"
        "MASTER_URL=(unset) (default)\n"
        "SYNC_API_KEY=******** (flag)\n"
        "APP_TIMEZONE=Africa/Lagos (default)\n"
        "DB_DATABASE=(unset) (default)\n"
        "SYNC_NODE_ID=(unset) (default)\n");
  CHECK_THAT(text, !Catch::Contains("top-secret"));
}
