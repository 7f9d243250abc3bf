#include <synccore/config/env_file.hpp>

#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "temp_dir.hpp"

using namespace synccore;
using namespace synccore::config;

namespace {

env_map parse_ok(std::string_view text, const env_map& environment = {}) {
  auto parsed = parse_env_text(text, ".env", environment);
  if (!parsed) FAIL("unexpected error: " << parsed.error().field << ": " << parsed.error().message);
  return *parsed;
}

input_error parse_error(std::string_view text) {
  auto parsed = parse_env_text(text, "/srv/app/.env", {});
  REQUIRE_FALSE(parsed.has_value());
  return parsed.error();
}

}  // namespace

TEST_CASE("env file: plain KEY=value lines, blank lines and full-line comments", "[env_file]") {
  const auto m = parse_ok("# Laravel settings\n"
                          "APP_MODE=slave\n"
                          "\n"
                          "   # indented comment\n"
                          "DB_DATABASE=/var/www/database/database.sqlite\n"
                          "  \t \n"
                          "#SYNC_NODE_ID=commented-out\n");
  CHECK(m.size() == 2);
  CHECK(m.at("APP_MODE") == "slave");
  CHECK(m.at("DB_DATABASE") == "/var/www/database/database.sqlite");
  CHECK(m.count("SYNC_NODE_ID") == 0);
}

TEST_CASE("env file: whitespace around '=' and around unquoted values is trimmed",
          "[env_file]") {
  const auto m = parse_ok("  APP_MODE   =   master   \nAPP_TIMEZONE\t=\tEurope/London\t\n");
  CHECK(m.at("APP_MODE") == "master");
  CHECK(m.at("APP_TIMEZONE") == "Europe/London");
}

TEST_CASE("env file: inline comments after unquoted and quoted values", "[env_file]") {
  const auto m = parse_ok("A=value # a comment\n"
                          "B=value#no space before the hash (phpdotenv ends the value too)\n"
                          "C=\"with # inside\" # and a comment\n"
                          "D='single # inside' # comment\n"
                          "E= # only a comment\n");
  CHECK(m.at("A") == "value");
  CHECK(m.at("B") == "value");
  CHECK(m.at("C") == "with # inside");
  CHECK(m.at("D") == "single # inside");
  CHECK(m.at("E").empty());
}

TEST_CASE("env file: export prefix", "[env_file]") {
  const auto m = parse_ok("export SYNC_API_KEY=abc123\nexport\tMASTER_URL=https://x.test\n");
  CHECK(m.at("SYNC_API_KEY") == "abc123");
  CHECK(m.at("MASTER_URL") == "https://x.test");
  CHECK(m.count("export SYNC_API_KEY") == 0);
}

TEST_CASE("env file: quoted key names are unquoted, dots are allowed", "[env_file]") {
  const auto m = parse_ok("\"QUOTED_KEY\"=1\n'SINGLE'=2\napp.name=3\n");
  CHECK(m.at("QUOTED_KEY") == "1");
  CHECK(m.at("SINGLE") == "2");
  CHECK(m.at("app.name") == "3");
}

TEST_CASE("env file: single-quoted values are literal", "[env_file]") {
  const auto m = parse_ok(R"(K='a\nb "c" ${HOME} \$ \\ # not a comment')"
                          "\n",
                          {{"HOME", "/root"}});
  CHECK(m.at("K") == R"(a\nb "c" ${HOME} \$ \\ # not a comment)");
}

TEST_CASE("env file: double-quoted values with escapes", "[env_file]") {
  const auto m = parse_ok(R"(K="line1\nline2 \"quoted\" back\\slash \$HOME tab\t end")"
                          "\n"
                          R"(SPACES="  keep inner and outer spaces  ")"
                          "\n");
  CHECK(m.at("K") == "line1\nline2 \"quoted\" back\\slash $HOME tab\t end");
  CHECK(m.at("SPACES") == "  keep inner and outer spaces  ");
}

TEST_CASE("env file: double-quoted values may span lines", "[env_file]") {
  const auto m = parse_ok("CERT=\"-----BEGIN-----\r\nabc \r\n-----END-----\"\r\nNEXT=1\r\n");
  CHECK(m.at("CERT") == "-----BEGIN-----\nabc \n-----END-----");
  CHECK(m.at("NEXT") == "1");
}

TEST_CASE("env file: empty values", "[env_file]") {
  const auto m = parse_ok("A=\nB=\"\"\nC=''\nD=   \n");
  CHECK(m.size() == 4);
  CHECK(m.at("A").empty());
  CHECK(m.at("B").empty());
  CHECK(m.at("C").empty());
  CHECK(m.at("D").empty());
}

TEST_CASE("env file: CRLF and CR line endings, UTF-8 BOM", "[env_file]") {
  const auto crlf = parse_ok("\xEF\xBB\xBF" "APP_MODE=slave\r\nAPP_TIMEZONE=Africa/Lagos\r\n");
  CHECK(crlf.at("APP_MODE") == "slave");  // the BOM is not part of the first key
  CHECK(crlf.at("APP_TIMEZONE") == "Africa/Lagos");
  const auto cr = parse_ok("A=1\rB=\"two\"\r");
  CHECK(cr.at("A") == "1");
  CHECK(cr.at("B") == "two");
}

TEST_CASE("env file: UTF-8 values pass through", "[env_file]") {
  const auto m = parse_ok("NAME=\"Ruxx Gas — Kano dépôt\"\nPLAIN=Ñandú\n");
  CHECK(m.at("NAME") == "Ruxx Gas — Kano dépôt");
  CHECK(m.at("PLAIN") == "Ñandú");
}

TEST_CASE("env file: a key defined twice keeps the last value", "[env_file]") {
  CHECK(parse_ok("A=1\nA=2\n").at("A") == "2");
}

TEST_CASE("env file: ${NAME} interpolation", "[env_file]") {
  const env_map environment{{"FROM_ENV", "envvalue"}, {"BOTH", "env-wins"}};
  const auto m = parse_ok("BASE=https://master.test\n"
                          "BOTH=file\n"
                          "URL=${BASE}/api\n"
                          "QUOTED=\"${BASE}/x ${FROM_ENV}\"\n"
                          "PRECEDENCE=${BOTH}\n"
                          "UNKNOWN=${NOPE}\n"
                          "ESCAPED=\"\\${BASE}\"\n"
                          "LITERAL='${BASE}'\n"
                          "LATER=${DEFINED_LATER}\n"
                          "DEFINED_LATER=x\n",
                          environment);
  CHECK(m.at("URL") == "https://master.test/api");
  CHECK(m.at("QUOTED") == "https://master.test/x envvalue");
  CHECK(m.at("PRECEDENCE") == "env-wins");
  CHECK(m.at("UNKNOWN") == "${NOPE}");
  CHECK(m.at("ESCAPED") == "${BASE}");
  CHECK(m.at("LITERAL") == "${BASE}");
  CHECK(m.at("LATER") == "${DEFINED_LATER}");
}

TEST_CASE("env file: a bare key un-defines it, as phpdotenv does", "[env_file]") {
  const auto m = parse_ok("A=1\nB=2\n\nA\nexport B\nNEVER_SET\nC=3\n");
  CHECK_FALSE(m.contains("A"));
  CHECK_FALSE(m.contains("B"));
  CHECK_FALSE(m.contains("NEVER_SET"));
  CHECK(m.at("C") == "3");
  // Defined again after the bare line: the later value counts.
  CHECK(parse_ok("A=1\nA\nA=2\n").at("A") == "2");
}

TEST_CASE("env file: a line without '=' that is not a key is an error naming the line",
          "[env_file]") {
  const auto e = parse_error("A=1\n\nJUST A WORD\n");
  CHECK(e.field == "line 3");
  CHECK(e.message == "/srv/app/.env:3: expected KEY=value, got \"JUST A WORD\"");
  CHECK(parse_error("A=1\nB # comment\n").field == "line 2");
  CHECK(parse_error("A-B\n").field == "line 1");
}

TEST_CASE("env file: an invalid key name is an error", "[env_file]") {
  SECTION("space in the key") {
    const auto e = parse_error("OK=1\nBAD KEY=2\n");
    CHECK(e.field == "line 2");
    CHECK_THAT(e.message, Catch::StartsWith("/srv/app/.env:2: invalid key name \"BAD KEY\""));
  }
  SECTION("dash in the key") {
    CHECK(parse_error("BAD-KEY=1\n").field == "line 1");
  }
  SECTION("no key at all") {
    CHECK(parse_error("=value\n").field == "line 1");
  }
}

TEST_CASE("env file: an unterminated quote is an error naming the key", "[env_file]") {
  SECTION("double quote, last line") {
    const auto e = parse_error("A=1\nSYNC_API_KEY=\"abc\nB=2\n");
    CHECK(e.field == "SYNC_API_KEY");
    CHECK(e.message == "/srv/app/.env:2: value of SYNC_API_KEY: unterminated double quote");
  }
  SECTION("single quote") {
    const auto e = parse_error("\nMASTER_URL='https://x\nB=2\n");
    CHECK(e.field == "MASTER_URL");
    CHECK(e.message == "/srv/app/.env:2: value of MASTER_URL: unterminated single quote");
  }
}

TEST_CASE("env file: other value errors follow phpdotenv", "[env_file]") {
  SECTION("unknown escape sequence") {
    const auto e = parse_error("P=\"C:\\path\"\n");
    CHECK(e.field == "P");
    CHECK_THAT(e.message, Catch::Contains("unknown escape sequence \\p"));
  }
  SECTION("whitespace inside an unquoted value") {
    const auto e = parse_error("APP_NAME=My App\n");
    CHECK(e.field == "APP_NAME");
    CHECK_THAT(e.message, Catch::StartsWith("/srv/app/.env:1: value of APP_NAME:"));
  }
  SECTION("text after a closing quote") {
    CHECK(parse_error("A=\"x\"y\n").field == "A");
  }
}

TEST_CASE("env file: read_env_file reads a file and reports a missing one", "[env_file]") {
  ruxx_test::temp_dir dir;
  const auto path = dir / ".env";
  {
    std::ofstream out(path, std::ios::binary);
    out << "APP_MODE=slave\nBROKEN LINE\n";
  }
  auto broken = read_env_file(path);
  REQUIRE_FALSE(broken.has_value());
  CHECK(broken.error().message == path.string() + ":2: expected KEY=value, got \"BROKEN LINE\"");

  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << "APP_MODE=slave\n";
  }
  auto good = read_env_file(path);
  REQUIRE(good.has_value());
  CHECK(good->at("APP_MODE") == "slave");

  const auto missing = dir / "nope.env";
  auto none = read_env_file(missing);
  REQUIRE_FALSE(none.has_value());
  CHECK(none.error().field == "--env-file");
  CHECK_THAT(none.error().message, Catch::Contains("\"" + missing.string() + "\""));
  CHECK_THAT(none.error().message, Catch::Contains("No such file"));

  auto directory = read_env_file(dir.path());
  REQUIRE_FALSE(directory.has_value());
  CHECK_THAT(directory.error().message, Catch::Contains("is a directory"));
}

TEST_CASE("env file: the example in docs/CONFIGURATION.md parses as documented", "[env_file]") {
  const auto m = parse_ok(R"(# full-line comment (leading whitespace allowed)
APP_MODE=slave
  APP_TIMEZONE = Africa/Lagos        # spaces around '=' and the value are trimmed
export SYNC_NODE_ID=depot-kano       # 'export ' prefix is ignored
MASTER_URL=https://app.ruxxengas.com#comment (no space needed: '#' ends an unquoted value)
SYNC_API_KEY='lit$eral \n # kept'    # single quotes: literal, no escapes, no interpolation
APP_NAME="Ruxx Gas \"Kano\""         # double quotes: escapes, interpolation, '#' allowed
CERT="-----BEGIN-----
...
-----END-----"                       # double-quoted values may span lines
DB_DATABASE=${APP_ROOT}/database/database.sqlite
EMPTY=
ALSO_EMPTY=""
)",
                          {{"APP_ROOT", "/var/www"}});
  CHECK(m.at("APP_MODE") == "slave");
  CHECK(m.at("APP_TIMEZONE") == "Africa/Lagos");
  CHECK(m.at("SYNC_NODE_ID") == "depot-kano");
  CHECK(m.at("MASTER_URL") == "https://app.ruxxengas.com");
  CHECK(m.at("SYNC_API_KEY") == R"(lit$eral \n # kept)");
  CHECK(m.at("APP_NAME") == "Ruxx Gas \"Kano\"");
  CHECK(m.at("CERT") == "-----BEGIN-----\n...\n-----END-----");
  CHECK(m.at("DB_DATABASE") == "/var/www/database/database.sqlite");
  CHECK(m.at("EMPTY").empty());
  CHECK(m.at("ALSO_EMPTY").empty());
  CHECK(m.size() == 10);
}
