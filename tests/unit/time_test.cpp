#include <synccore/time/app_zone.hpp>
#include <synccore/time/timestamp_text.hpp>

#include <catch2/catch.hpp>
#include <date/tz.h>

#include <chrono>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

using synccore::time::app_zone;
using synccore::time::utc_instant;
using namespace std::chrono_literals;

namespace {

// The instant of a UTC civil time, computed independently of the code under test.
utc_instant utc(int y, unsigned mo, unsigned d, int h, int mi, int s, long us = 0) {
  const auto day = date::sys_days{date::year{y} / date::month{mo} / date::day{d}};
  return utc_instant{day + std::chrono::hours{h} + std::chrono::minutes{mi} +
                     std::chrono::seconds{s} + std::chrono::microseconds{us}};
}

std::string wire_of(const app_zone& zone, std::string_view text) {
  auto r = zone.parse(text);
  INFO(text);
  REQUIRE(r.has_value());
  return app_zone::to_wire(*r);
}

}  // namespace

TEST_CASE("app_zone looks its zone up in the tz database", "[time]") {
  const app_zone lagos("Africa/Lagos");
  CHECK(lagos.name() == "Africa/Lagos");
  REQUIRE(lagos.zone() != nullptr);
  CHECK(lagos.zone() == date::locate_zone("Africa/Lagos"));
  CHECK(app_zone("UTC").zone() != nullptr);
}

TEST_CASE("an unknown zone name throws std::invalid_argument naming it", "[time]") {
  CHECK_THROWS_AS(app_zone("Mars/Olympus_Mons"), std::invalid_argument);
  CHECK_THROWS_WITH(app_zone("Mars/Olympus_Mons"), Catch::Contains("Mars/Olympus_Mons"));
  CHECK_THROWS_AS(app_zone(""), std::invalid_argument);
  CHECK_THROWS_AS(app_zone("../../etc/passwd"), std::invalid_argument);
}

TEST_CASE("Lagos database text becomes the PHP wire text and back", "[time]") {
  const app_zone lagos("Africa/Lagos");
  // The values of the PHP master's captures (DB 15:28:49 Lagos = 14:28:49Z).
  auto wire = lagos.db_to_wire("2026-11-24 15:28:49");
  REQUIRE(wire.has_value());
  CHECK(*wire == "2026-11-24T14:28:49.000000Z");
  auto db = lagos.wire_to_db("2026-11-24T14:28:49.000000Z");
  REQUIRE(db.has_value());
  CHECK(*db == "2026-11-24 15:28:49");
  CHECK(*lagos.from_db("2026-11-24 15:28:49") == utc(2026, 11, 24, 14, 28, 49));
  CHECK(lagos.to_db(utc(2026, 11, 24, 14, 28, 49)) == "2026-11-24 15:28:49");
}

TEST_CASE("Lagos db -> wire -> db is the identity for random seconds 1970..2100", "[time]") {
  const app_zone lagos("Africa/Lagos");
  std::mt19937_64 rng(20261124);
  const auto first = date::sys_seconds{date::sys_days{date::year{1970} / 1 / 1}};
  const auto last = date::sys_seconds{date::sys_days{date::year{2100} / 12 / 31}};
  std::uniform_int_distribution<long long> pick(first.time_since_epoch().count(),
                                                last.time_since_epoch().count());
  for (int i = 0; i < 20000; ++i) {
    const date::sys_seconds instant{std::chrono::seconds{pick(rng)}};
    // The oracle: date::zoned_time's own formatting of the Lagos wall time and of UTC.
    const date::zoned_seconds zoned{lagos.zone(), instant};
    const std::string db_text = date::format("%Y-%m-%d %H:%M:%S", zoned.get_local_time());
    const std::string wire_text = date::format("%Y-%m-%dT%H:%M:%S.000000Z", instant);
    INFO(db_text);
    CHECK(lagos.to_db(instant) == db_text);
    auto wire = lagos.db_to_wire(db_text);
    REQUIRE(wire.has_value());
    CHECK(*wire == wire_text);
    auto back = lagos.wire_to_db(*wire);
    REQUIRE(back.has_value());
    CHECK(*back == db_text);
  }
}

TEST_CASE("every accepted input shape", "[time]") {
  const app_zone lagos("Africa/Lagos");
  const std::string expected = "2026-11-24T14:28:49.000000Z";
  // Zone designators.
  CHECK(wire_of(lagos, "2026-11-24T14:28:49Z") == expected);
  CHECK(wire_of(lagos, "2026-11-24T15:28:49+01:00") == expected);
  CHECK(wire_of(lagos, "2026-11-24T15:28:49+0100") == expected);
  CHECK(wire_of(lagos, "2026-11-24T15:28:49+01") == expected);
  CHECK(wire_of(lagos, "2026-11-24T08:58:49-05:30") == expected);
  CHECK(wire_of(lagos, "2026-11-24T08:58:49-0530") == expected);
  CHECK(wire_of(lagos, "2026-11-24T14:28:49+00:00") == expected);
  CHECK(wire_of(lagos, "2026-11-24T14:28:49-00:00") == expected);
  CHECK(wire_of(lagos, "2026-11-25T04:28:49+14:00") == expected);
  // No zone: wall time in the app zone; 'T' or ' '.
  CHECK(wire_of(lagos, "2026-11-24 15:28:49") == expected);
  CHECK(wire_of(lagos, "2026-11-24T15:28:49") == expected);
  CHECK(wire_of(lagos, "2026-11-24 14:28:49Z") == expected);
  // Fractions of any length, truncated beyond microseconds.
  CHECK(wire_of(lagos, "2026-11-24T14:28:49.000000Z") == expected);
  CHECK(wire_of(lagos, "2026-11-24T14:28:49.5Z") == "2026-11-24T14:28:49.500000Z");
  CHECK(wire_of(lagos, "2026-11-24T14:28:49.123Z") == "2026-11-24T14:28:49.123000Z");
  CHECK(wire_of(lagos, "2026-11-24T14:28:49.123456Z") == "2026-11-24T14:28:49.123456Z");
  CHECK(wire_of(lagos, "2026-11-24T14:28:49.123456789Z") == "2026-11-24T14:28:49.123456Z");
  CHECK(wire_of(lagos, "2026-11-24T14:28:49.9999999999999999999999Z") ==
        "2026-11-24T14:28:49.999999Z");
  CHECK(wire_of(lagos, "2026-11-24 15:28:49.25") == "2026-11-24T14:28:49.250000Z");
  CHECK(wire_of(lagos, "2026-11-24T15:28:49.25+01:00") == "2026-11-24T14:28:49.250000Z");
  // Minutes without seconds.
  CHECK(wire_of(lagos, "2026-11-24T15:28") == "2026-11-24T14:28:00.000000Z");
  CHECK(wire_of(lagos, "2026-11-24T14:28Z") == "2026-11-24T14:28:00.000000Z");
  // A date alone: midnight in the app zone.
  CHECK(wire_of(lagos, "2026-11-24") == "2026-11-23T23:00:00.000000Z");
  CHECK(wire_of(app_zone("UTC"), "2026-11-24") == "2026-11-24T00:00:00.000000Z");
  // from_db takes the same shapes.
  CHECK(app_zone::to_wire(*lagos.from_db("2026-11-24T14:28:49Z")) == expected);
}

TEST_CASE("garbage is rejected with an input_error quoting the input", "[time]") {
  const app_zone lagos("Africa/Lagos");
  const std::vector<std::string> garbage = {
      "",
      "garbage",
      "2026-13-01",
      "2026-00-10",
      "2026-02-30",
      "2027-02-29",
      "2026-04-31",
      "2026-11-00",
      "2026-11-24T25:00:00",
      "2026-11-24T24:00:00",
      "2026-11-24T14:60:00",
      "2026-11-24T14:28:60",
      "2026-11-24T14:28:49+25:00",
      "2026-11-24T14:28:49+01:60",
      "2026-11-24T14:28:49Zjunk",
      "2026-11-24T14:28:49 ",
      " 2026-11-24T14:28:49",
      "2026-11-24T14:28:49+01:00x",
      "2026-11-24T14:28:49.Z",
      "2026-11-24T14:28:49.",
      "2026-11-24T14:28:49+1",
      "2026-11-24T14:28:49+01:",
      "2026-11-24T14:28:49+01:0",
      "2026-11-24T14:28:49+",
      "2026-11-24T14:28:49z",
      "2026-11-24T14",
      "2026-11-24T",
      "2026-11-24 ",
      "2026-11-24Z",
      "2026-11-24X14:28:49",
      "2026-1-24",
      "26-11-24",
      "2026/11/24",
      "20261124",
      "2026-11-24T1:28:49",
      "2026-11-24T14:28:4",
      "2026-11-24T14:28:49.1.2Z",
      "-2026-11-24",
      "now",
      std::string("2026-11-24\0 14:28:49", 20),
  };
  for (const auto& text : garbage) {
    INFO("input: \"" << text << "\"");
    auto r = lagos.parse(text);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().field == "timestamp");
    CHECK_THAT(r.error().message, Catch::Contains("\"" + text + "\""));
    CHECK_FALSE(lagos.from_db(text).has_value());
    CHECK_FALSE(lagos.db_to_wire(text).has_value());
    CHECK_FALSE(lagos.wire_to_db(text).has_value());
  }
}

TEST_CASE("error messages say what is wrong and shorten long input", "[time]") {
  const app_zone lagos("Africa/Lagos");
  CHECK_THAT(lagos.parse("2026-13-01").error().message, Catch::Contains("month"));
  CHECK_THAT(lagos.parse("2026-02-30").error().message, Catch::Contains("does not exist"));
  CHECK_THAT(lagos.parse("2026-11-24T25:00:00").error().message, Catch::Contains("hour"));
  CHECK_THAT(lagos.parse("2026-11-24T14:28:49+25:00").error().message,
             Catch::Contains("offset"));
  CHECK_THAT(lagos.parse("").error().message, Catch::Contains("empty"));
  const std::string huge(10000, '7');
  const auto message = lagos.parse(huge).error().message;
  CHECK(message.size() < 400);
  CHECK_THAT(message, Catch::Contains("..."));
}

TEST_CASE("to_db truncates fractions also before 1970", "[time]") {
  const app_zone lagos("Africa/Lagos");
  CHECK(lagos.to_db(utc(2026, 11, 24, 14, 28, 49, 999999)) == "2026-11-24 15:28:49");
  CHECK(lagos.to_db(utc(1969, 12, 31, 23, 59, 59, 500000)) == "1970-01-01 00:59:59");
  CHECK(app_zone::to_wire(utc(1969, 12, 31, 23, 59, 59, 500000)) ==
        "1969-12-31T23:59:59.500000Z");
  CHECK(app_zone::to_wire(utc(1, 1, 1, 0, 0, 0)) == "0001-01-01T00:00:00.000000Z");
  CHECK(app_zone::to_wire(utc(9999, 12, 31, 23, 59, 59, 999999)) ==
        "9999-12-31T23:59:59.999999Z");
  CHECK(app_zone::to_wire(utc(10000, 1, 1, 0, 0, 0)) == "10000-01-01T00:00:00.000000Z");
  CHECK(app_zone::to_wire(utc(-1, 12, 31, 23, 0, 0)) == "-0001-12-31T23:00:00.000000Z");
  // A wall time at year 0 with a positive offset lands in year -1 and is still formatted.
  CHECK(wire_of(app_zone("UTC"), "0000-01-01T00:30:00+01:00") == "-0001-12-31T23:30:00.000000Z");
}

TEST_CASE("year boundaries and leap days in Lagos", "[time]") {
  const app_zone lagos("Africa/Lagos");
  CHECK(*lagos.db_to_wire("2027-01-01 00:30:00") == "2026-12-31T23:30:00.000000Z");
  CHECK(*lagos.wire_to_db("2026-12-31T23:30:00Z") == "2027-01-01 00:30:00");
  CHECK(*lagos.wire_to_db("2026-12-31T22:59:59.999999Z") == "2026-12-31 23:59:59");
  CHECK(*lagos.db_to_wire("2000-01-01 00:00:00") == "1999-12-31T23:00:00.000000Z");
  CHECK(*lagos.db_to_wire("2028-03-01 00:15:00") == "2028-02-29T23:15:00.000000Z");
  CHECK(*lagos.wire_to_db("2028-02-29T23:15:00Z") == "2028-03-01 00:15:00");
  CHECK(*lagos.db_to_wire("2000-02-29 12:00:00") == "2000-02-29T11:00:00.000000Z");
  CHECK_FALSE(lagos.parse("2100-02-29").has_value());
  CHECK(lagos.parse("2400-02-29").has_value());
}

TEST_CASE("DST: a wall time in a spring-forward gap moves forward by the gap", "[time]") {
  const app_zone london("Europe/London");
  // 2026-03-29: 01:00 GMT jumps to 02:00 BST. 01:30 does not exist: 02:30 BST = 01:30Z.
  CHECK(wire_of(london, "2026-03-29 01:30:00") == "2026-03-29T01:30:00.000000Z");
  CHECK(london.to_db(*london.parse("2026-03-29 01:30:00")) == "2026-03-29 02:30:00");
  CHECK(wire_of(london, "2026-03-29 01:00:00") == "2026-03-29T01:00:00.000000Z");
  CHECK(wire_of(london, "2026-03-29 00:59:59") == "2026-03-29T00:59:59.000000Z");
  CHECK(wire_of(london, "2026-03-29 02:00:00") == "2026-03-29T01:00:00.000000Z");
  CHECK(wire_of(london, "2026-03-29 02:30:00") == "2026-03-29T01:30:00.000000Z");
  // An explicit offset is never adjusted.
  CHECK(wire_of(london, "2026-03-29T01:30:00+00:00") == "2026-03-29T01:30:00.000000Z");
  const app_zone new_york("America/New_York");
  // 2026-03-08: 02:00 EST jumps to 03:00 EDT; 02:15 -> 03:15 EDT = 07:15Z.
  CHECK(wire_of(new_york, "2026-03-08 02:15:00") == "2026-03-08T07:15:00.000000Z");
  CHECK(wire_of(new_york, "2026-03-08 01:59:59") == "2026-03-08T06:59:59.000000Z");
  CHECK(wire_of(new_york, "2026-03-08 03:00:00") == "2026-03-08T07:00:00.000000Z");
}

TEST_CASE("DST: a wall time in an overlap takes the earlier instant", "[time]") {
  const app_zone london("Europe/London");
  // 2026-10-25: 02:00 BST falls back to 01:00 GMT; 01:30 happens at 00:30Z and at 01:30Z.
  CHECK(wire_of(london, "2026-10-25 01:30:00") == "2026-10-25T00:30:00.000000Z");
  const date::zoned_seconds earliest{london.zone(),
                                     date::local_days{date::year{2026} / 10 / 25} + 1h + 30min,
                                     date::choose::earliest};
  CHECK(*london.parse("2026-10-25 01:30:00") == earliest.get_sys_time());
  CHECK(wire_of(london, "2026-10-25 00:59:59") == "2026-10-24T23:59:59.000000Z");
  CHECK(wire_of(london, "2026-10-25 02:00:00") == "2026-10-25T02:00:00.000000Z");
  // Both instants format back to the same wall time.
  CHECK(london.to_db(utc(2026, 10, 25, 0, 30, 0)) == "2026-10-25 01:30:00");
  CHECK(london.to_db(utc(2026, 10, 25, 1, 30, 0)) == "2026-10-25 01:30:00");
  const app_zone new_york("America/New_York");
  // 2026-11-01: 02:00 EDT falls back to 01:00 EST; 01:30 -> 01:30 EDT = 05:30Z.
  CHECK(wire_of(new_york, "2026-11-01 01:30:00") == "2026-11-01T05:30:00.000000Z");
  CHECK(new_york.to_db(utc(2026, 11, 1, 6, 30, 0)) == "2026-11-01 01:30:00");
}

TEST_CASE("a DST zone's wall times round trip outside the transitions", "[time]") {
  const app_zone london("Europe/London");
  CHECK(*london.db_to_wire("2026-07-01 12:00:00") == "2026-07-01T11:00:00.000000Z");
  CHECK(*london.db_to_wire("2026-01-01 12:00:00") == "2026-01-01T12:00:00.000000Z");
  CHECK(*london.wire_to_db("2026-07-01T11:00:00.000000Z") == "2026-07-01 12:00:00");
}

TEST_CASE("parse_timestamp_text reports the fields without zone math", "[time]") {
  auto f = synccore::time::parse_timestamp_text("2026-11-24T15:28:49.5-05:30");
  REQUIRE(f.has_value());
  CHECK(f->has_offset);
  CHECK(f->offset == -(5h + 30min));
  CHECK(f->wall == date::local_days{date::year{2026} / 11 / 24} + 15h + 28min + 49s + 500ms);
  auto g = synccore::time::parse_timestamp_text("2026-11-24");
  REQUIRE(g.has_value());
  CHECK_FALSE(g->has_offset);
  CHECK(g->wall == date::local_days{date::year{2026} / 11 / 24});
}

TEST_CASE("db_to_wire converts 100k rows quickly", "[.][time][perf]") {
  const app_zone lagos("Africa/Lagos");
  const auto start = std::chrono::steady_clock::now();
  std::size_t total = 0;
  for (int i = 0; i < 100000; ++i) {
    total += lagos.db_to_wire("2026-11-24 15:28:49")->size();
    total += lagos.wire_to_db("2026-11-24T14:28:49.000000Z")->size();
  }
  const auto took = std::chrono::steady_clock::now() - start;
  WARN("100k db_to_wire + wire_to_db: "
       << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
  CHECK(total == 100000 * (27 + 19));
}
