#include <synccore/cron/clock.hpp>
#include <synccore/cron/cron_expression.hpp>

#include <catch2/catch.hpp>
#include <date/tz.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

using synccore::cron::cron_expression;
using namespace std::chrono_literals;

namespace {

date::sys_seconds utc(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
  return date::sys_days{date::year{y} / date::month{mo} / date::day{d}} + std::chrono::hours{h} +
         std::chrono::minutes{mi} + std::chrono::seconds{s};
}

const date::time_zone* zone(const char* name) { return date::locate_zone(name); }

cron_expression parse_ok(const std::string& text) {
  auto r = cron_expression::parse(text);
  INFO(text);
  if (!r) INFO(r.error().message);
  REQUIRE(r.has_value());
  return *r;
}

// The next fire time as "YYYY-MM-DD HH:MM" UTC, or "never".
std::string next_utc(const std::string& expr, date::sys_seconds after,
                     const char* tz = "Etc/UTC") {
  const auto next = parse_ok(expr).next_fire_after(after, zone(tz));
  return next ? date::format("%F %R", *next) : std::string("never");
}

// Successive fire times as "YYYY-MM-DD HH:MM" in UTC.
std::vector<std::string> fires_utc(const std::string& expr, date::sys_seconds after,
                                   std::size_t count, const char* tz = "Etc/UTC") {
  std::vector<std::string> out;
  for (auto t : parse_ok(expr).next_fire_times(after, zone(tz), count)) {
    out.push_back(date::format("%F %R", t));
  }
  return out;
}

// Successive fire times as "YYYY-MM-DD HH:MM" of wall time in `tz`.
std::vector<std::string> fires_wall(const std::string& expr, date::sys_seconds after,
                                    std::size_t count, const char* tz) {
  std::vector<std::string> out;
  for (auto t : parse_ok(expr).next_fire_times(after, zone(tz), count)) {
    out.push_back(date::format("%F %R", date::zoned_seconds{zone(tz), t}.get_local_time()));
  }
  return out;
}

date::local_time<std::chrono::minutes> wall(int y, unsigned mo, unsigned d, int h, int mi) {
  return date::local_days{date::year{y} / date::month{mo} / date::day{d}} +
         std::chrono::hours{h} + std::chrono::minutes{mi};
}

std::string error_of(const std::string& text) {
  auto r = cron_expression::parse(text);
  INFO(text);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().field == "cron");
  return r.error().message;
}

}  // namespace

TEST_CASE("cron: single values lists ranges and steps", "[cron]") {
  const auto t0 = utc(2026, 11, 24, 10, 0);  // a Tuesday
  CHECK(fires_utc("* * * * *", t0, 3) ==
        std::vector<std::string>{"2026-11-24 10:01", "2026-11-24 10:02", "2026-11-24 10:03"});
  CHECK(fires_utc("7 * * * *", t0, 2) ==
        std::vector<std::string>{"2026-11-24 10:07", "2026-11-24 11:07"});
  CHECK(fires_utc("1,5 * * * *", t0, 3) ==
        std::vector<std::string>{"2026-11-24 10:01", "2026-11-24 10:05", "2026-11-24 11:01"});
  CHECK(fires_utc("1-3 * * * *", t0, 4) ==
        std::vector<std::string>{"2026-11-24 10:01", "2026-11-24 10:02", "2026-11-24 10:03",
                                 "2026-11-24 11:01"});
  CHECK(fires_utc("*/15 * * * *", t0, 5) ==
        std::vector<std::string>{"2026-11-24 10:15", "2026-11-24 10:30", "2026-11-24 10:45",
                                 "2026-11-24 11:00", "2026-11-24 11:15"});
  CHECK(fires_utc("10-50/20 * * * *", t0, 4) ==
        std::vector<std::string>{"2026-11-24 10:10", "2026-11-24 10:30", "2026-11-24 10:50",
                                 "2026-11-24 11:10"});
  CHECK(fires_utc("5/20 * * * *", t0, 4) ==
        std::vector<std::string>{"2026-11-24 10:05", "2026-11-24 10:25", "2026-11-24 10:45",
                                 "2026-11-24 11:05"});
  CHECK(fires_utc("0 */6 * * *", t0, 3) ==
        std::vector<std::string>{"2026-11-24 12:00", "2026-11-24 18:00", "2026-11-25 00:00"});
  CHECK(fires_utc("0,30 9-10,22 * * *", t0, 5) ==
        std::vector<std::string>{"2026-11-24 10:30", "2026-11-24 22:00", "2026-11-24 22:30",
                                 "2026-11-25 09:00", "2026-11-25 09:30"});
  CHECK(fires_utc("0 0 1-31/10 * *", t0, 4) ==
        std::vector<std::string>{"2026-12-01 00:00", "2026-12-11 00:00", "2026-12-21 00:00",
                                 "2026-12-31 00:00"});
  CHECK(fires_utc("05 09 * * *", t0, 1) == std::vector<std::string>{"2026-11-25 09:05"});
  // Fields separated by several spaces or tabs, surrounding whitespace ignored.
  CHECK(parse_ok("  */15\t*  * *   *\n") == parse_ok("*/15 * * * *"));
  CHECK(parse_ok("  */15\t*  * *   *\n").text() == "*/15\t*  * *   *");
}

TEST_CASE("cron: month and weekday names in any case and 0 or 7 for Sunday", "[cron]") {
  CHECK(parse_ok("0 0 1 jan *") == parse_ok("0 0 1 1 *"));
  CHECK(parse_ok("0 0 1 JAN-Mar *") == parse_ok("0 0 1 1-3 *"));
  CHECK(parse_ok("0 0 1 feb,Dec *") == parse_ok("0 0 1 2,12 *"));
  const char* months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                          "jul", "aug", "sep", "oct", "nov", "dec"};
  for (int m = 1; m <= 12; ++m) {
    CHECK(parse_ok(std::string("0 0 1 ") + months[m - 1] + " *") ==
          parse_ok("0 0 1 " + std::to_string(m) + " *"));
  }
  const char* days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  for (int d = 0; d <= 6; ++d) {
    CHECK(parse_ok(std::string("0 0 * * ") + days[d]) ==
          parse_ok("0 0 * * " + std::to_string(d)));
  }
  CHECK(parse_ok("0 0 * * SUN") == parse_ok("0 0 * * 0"));
  CHECK(parse_ok("0 0 * * 7") == parse_ok("0 0 * * 0"));
  CHECK(parse_ok("0 0 * * 5-7") == parse_ok("0 0 * * 0,5,6"));
  CHECK(parse_ok("0 0 * * Mon-Fri") == parse_ok("0 0 * * 1-5"));
  CHECK(parse_ok("0 0 * * mon-fri/2") == parse_ok("0 0 * * 1,3,5"));
  // 2026-11-27 is a Friday: weekdays jump to Monday 11-30.
  CHECK(fires_utc("0 9 * * mon-fri", utc(2026, 11, 27, 10, 0), 2) ==
        std::vector<std::string>{"2026-11-30 09:00", "2026-12-01 09:00"});
  CHECK(fires_utc("0 9 * * sat,sun", utc(2026, 11, 24, 10, 0), 3) ==
        std::vector<std::string>{"2026-11-28 09:00", "2026-11-29 09:00", "2026-12-05 09:00"});
  CHECK(next_utc("0 9 * * 7", utc(2026, 11, 24)) == "2026-11-29 09:00");
  CHECK(next_utc("0 9 * * 0", utc(2026, 11, 24)) == "2026-11-29 09:00");
  CHECK(next_utc("0 0 1 jun *", utc(2026, 11, 24)) == "2027-06-01 00:00");
}

TEST_CASE("cron: macros", "[cron]") {
  CHECK(parse_ok("@yearly") == parse_ok("0 0 1 1 *"));
  CHECK(parse_ok("@annually") == parse_ok("0 0 1 1 *"));
  CHECK(parse_ok("@monthly") == parse_ok("0 0 1 * *"));
  CHECK(parse_ok("@weekly") == parse_ok("0 0 * * 0"));
  CHECK(parse_ok("@daily") == parse_ok("0 0 * * *"));
  CHECK(parse_ok("@midnight") == parse_ok("0 0 * * *"));
  CHECK(parse_ok("@hourly") == parse_ok("0 * * * *"));
  CHECK(parse_ok("  @Daily ") == parse_ok("0 0 * * *"));
  CHECK(parse_ok("@daily").text() == "@daily");
  CHECK_FALSE(parse_ok("@daily") == parse_ok("@hourly"));
  CHECK(next_utc("@weekly", utc(2026, 11, 24)) == "2026-11-29 00:00");
  CHECK(next_utc("@monthly", utc(2026, 11, 24)) == "2026-12-01 00:00");
  CHECK(next_utc("@yearly", utc(2026, 11, 24)) == "2027-01-01 00:00");
  CHECK(next_utc("@hourly", utc(2026, 11, 24, 10, 0)) == "2026-11-24 11:00");
}

TEST_CASE("cron: every error names the field and the value", "[cron]") {
  CHECK(error_of("61 * * * *") == "minute field \"61\" is out of range 0-59");
  CHECK(error_of("* 24 * * *") == "hour field \"24\" is out of range 0-23");
  CHECK(error_of("* * 0 * *") == "day-of-month field \"0\" is out of range 1-31");
  CHECK(error_of("* * 32 * *") == "day-of-month field \"32\" is out of range 1-31");
  CHECK(error_of("* * * 13 *") == "month field \"13\" is out of range 1-12");
  CHECK(error_of("* * * 0 *") == "month field \"0\" is out of range 1-12");
  CHECK(error_of("* * * * 8") == "day-of-week field \"8\" is out of range 0-7");
  CHECK(error_of("1-61 * * * *") == "minute field \"61\" is out of range 0-59");
  CHECK(error_of("1,2,99 * * * *") == "minute field \"99\" is out of range 0-59");
  CHECK_THAT(error_of("jan * * * *"), Catch::StartsWith("minute field \"jan\" is not a number"));
  CHECK_THAT(error_of("* * * foo *"),
             Catch::StartsWith("month field \"foo\" is not a number or a month name"));
  CHECK_THAT(error_of("* * * * monday"),
             Catch::StartsWith("day-of-week field \"monday\" is not a number or a weekday name"));
  CHECK_THAT(error_of("* * * * mon-xyz"), Catch::StartsWith("day-of-week field \"xyz\""));
  CHECK_THAT(error_of("* * jan * *"), Catch::StartsWith("day-of-month field \"jan\""));
  CHECK_THAT(error_of("5-2 * * * *"), Catch::StartsWith("minute field \"5-2\" is a range that "
                                                        "runs backwards"));
  CHECK_THAT(error_of("* * * * fri-mon"), Catch::StartsWith("day-of-week field \"fri-mon\""));
  CHECK_THAT(error_of("*/0 * * * *"), Catch::StartsWith("minute field \"*/0\" has a bad step"));
  CHECK_THAT(error_of("*/61 * * * *"), Catch::Contains("1-60"));
  CHECK_THAT(error_of("* */25 * * *"), Catch::Contains("hour field \"*/25\""));
  CHECK_THAT(error_of("*/x * * * *"), Catch::StartsWith("minute field \"*/x\" has a bad step"));
  CHECK_THAT(error_of("*/ * * * *"), Catch::StartsWith("minute field \"*/\" has a bad step"));
  CHECK_THAT(error_of("/5 * * * *"), Catch::StartsWith("minute field \"/5\""));
  CHECK_THAT(error_of("1/2/3 * * * *"), Catch::StartsWith("minute field \"1/2/3\""));
  CHECK_THAT(error_of("1,,2 * * * *"),
             Catch::StartsWith("minute field \"1,,2\" has an empty list item"));
  CHECK_THAT(error_of("1, * * * *"), Catch::StartsWith("minute field \"1,\""));
  CHECK_THAT(error_of("-5 * * * *"), Catch::StartsWith("minute field \"-5\""));
  CHECK_THAT(error_of("5- * * * *"), Catch::StartsWith("minute field \"5-\""));
  CHECK_THAT(error_of("1-2-3 * * * *"), Catch::StartsWith("minute field"));
  CHECK_THAT(error_of("*-5 * * * *"), Catch::StartsWith("minute field \"*\""));
  CHECK_THAT(error_of("00005 * * * *"), Catch::StartsWith("minute field \"00005\""));
  CHECK_THAT(error_of("? * * * *"), Catch::StartsWith("minute field \"?\""));
  CHECK(error_of("") == "the cron expression is empty");
  CHECK(error_of(" \t ") == "the cron expression is empty");
  CHECK_THAT(error_of("* * * *"), Catch::StartsWith("expected 5 fields") &&
                                      Catch::Contains("got 4") && Catch::Contains("\"* * * *\""));
  CHECK_THAT(error_of("* * * * * *"), Catch::Contains("got 6"));
  CHECK_THAT(error_of("@reboot"), Catch::StartsWith("unknown cron macro \"@reboot\""));
  CHECK_THAT(error_of("@daily *"), Catch::StartsWith("unknown cron macro"));
}

TEST_CASE("cron: next fire is strictly after and crosses midnight and month and year ends",
          "[cron]") {
  // Strictly after: a fire time itself gives the next one; seconds are ignored.
  CHECK(next_utc("0 * * * *", utc(2026, 11, 24, 10, 0)) == "2026-11-24 11:00");
  CHECK(next_utc("0 * * * *", utc(2026, 11, 24, 9, 59, 59)) == "2026-11-24 10:00");
  CHECK(next_utc("* * * * *", utc(2026, 11, 24, 10, 0, 30)) == "2026-11-24 10:01");
  // Across midnight.
  CHECK(next_utc("30 0 * * *", utc(2026, 11, 24, 23, 50)) == "2026-11-25 00:30");
  CHECK(fires_utc("*/15 * * * *", utc(2026, 11, 24, 23, 40), 3) ==
        std::vector<std::string>{"2026-11-24 23:45", "2026-11-25 00:00", "2026-11-25 00:15"});
  // The 31st is skipped in 30-day months and February.
  CHECK(fires_utc("0 0 31 * *", utc(2026, 1, 31, 12, 0), 3) ==
        std::vector<std::string>{"2026-03-31 00:00", "2026-05-31 00:00", "2026-07-31 00:00"});
  CHECK(next_utc("0 0 31 * *", utc(2026, 4, 1)) == "2026-05-31 00:00");
  CHECK(next_utc("0 0 30 * *", utc(2026, 1, 31)) == "2026-03-30 00:00");
  // February 29: only in leap years (2100 is not one).
  CHECK(next_utc("0 0 29 2 *", utc(2026, 1, 1)) == "2028-02-29 00:00");
  CHECK(next_utc("0 0 29 2 *", utc(2028, 2, 29)) == "2032-02-29 00:00");
  CHECK(next_utc("0 0 29 2 *", utc(2096, 3, 1)) == "2104-02-29 00:00");
  CHECK(next_utc("0 0 28 2 *", utc(2027, 2, 28, 0, 1)) == "2028-02-28 00:00");
  CHECK(next_utc("0 12 1 3 *", utc(2028, 2, 28)) == "2028-03-01 12:00");
  // Year end.
  CHECK(next_utc("0 0 1 1 *", utc(2026, 12, 31, 23, 59)) == "2027-01-01 00:00");
  CHECK(next_utc("59 23 31 12 *", utc(2026, 12, 31, 23, 59)) == "2027-12-31 23:59");
  CHECK(fires_utc("0 0 * * *", utc(2026, 12, 30, 12), 3) ==
        std::vector<std::string>{"2026-12-31 00:00", "2027-01-01 00:00", "2027-01-02 00:00"});
}

TEST_CASE("cron: day-of-month and day-of-week follow the standard cron rule", "[cron]") {
  // Both restricted: either one fires. 2026-11-13 is a Friday; Fridays and the 13th.
  CHECK(fires_utc("0 0 13 * fri", utc(2026, 11, 1), 5) ==
        std::vector<std::string>{"2026-11-06 00:00", "2026-11-13 00:00", "2026-11-20 00:00",
                                 "2026-11-27 00:00", "2026-12-04 00:00"});
  CHECK(fires_utc("0 0 1,15 * 1", utc(2026, 11, 24), 4) ==
        std::vector<std::string>{"2026-11-30 00:00", "2026-12-01 00:00", "2026-12-07 00:00",
                                 "2026-12-14 00:00"});
  // One is '*': only the other counts.
  CHECK(fires_utc("0 0 * * 1", utc(2026, 11, 24), 2) ==
        std::vector<std::string>{"2026-11-30 00:00", "2026-12-07 00:00"});
  CHECK(fires_utc("0 0 15 * *", utc(2026, 11, 24), 2) ==
        std::vector<std::string>{"2026-12-15 00:00", "2027-01-15 00:00"});
  // As Vixie cron and cronie: a field starting with '*' (like */2) counts as '*', so the day
  // must match both: odd days that are Mondays.
  CHECK(fires_utc("0 0 */2 * 1", utc(2026, 11, 24), 3) ==
        std::vector<std::string>{"2026-12-07 00:00", "2026-12-21 00:00", "2027-01-11 00:00"});
  CHECK(parse_ok("0 0 13 * 5").matches(wall(2026, 11, 6, 0, 0)));
  CHECK(parse_ok("0 0 13 * 5").matches(wall(2026, 10, 13, 0, 0)));  // a Tuesday
  CHECK_FALSE(parse_ok("0 0 13 * 5").matches(wall(2026, 10, 14, 0, 0)));
}

TEST_CASE("cron: an expression that never fires returns nullopt quickly", "[cron]") {
  const auto start = std::chrono::steady_clock::now();
  CHECK(next_utc("0 0 30 2 *", utc(2026, 1, 1)) == "never");
  CHECK(next_utc("0 0 31 4,6,9,11 *", utc(2026, 1, 1)) == "never");
  CHECK(next_utc("0 0 31 feb *", utc(2026, 1, 1), "Africa/Lagos") == "never");
  CHECK(parse_ok("0 0 30 2 *").next_fire_times(utc(2026, 1, 1), zone("Etc/UTC"), 5).empty());
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  // Restricting the weekday too makes it fire again (either one matches).
  CHECK(next_utc("0 0 30 2 mon", utc(2026, 11, 24)) == "2027-02-01 00:00");
}

TEST_CASE("cron: matches() checks one wall-clock minute", "[cron]") {
  const auto e = parse_ok("*/15 9-17 * * mon-fri");
  CHECK(e.matches(wall(2026, 11, 24, 9, 0)));
  CHECK(e.matches(wall(2026, 11, 24, 17, 45)));
  CHECK_FALSE(e.matches(wall(2026, 11, 24, 9, 5)));
  CHECK_FALSE(e.matches(wall(2026, 11, 24, 18, 0)));
  CHECK_FALSE(e.matches(wall(2026, 11, 28, 9, 0)));  // Saturday
}

TEST_CASE("cron: Africa/Lagos wall time", "[cron]") {
  // @daily fires at Lagos midnight, 23:00Z the day before.
  CHECK(next_utc("@daily", utc(2026, 11, 24, 12, 0), "Africa/Lagos") == "2026-11-24 23:00");
  CHECK(next_utc("0 0 * * *", utc(2026, 11, 24, 23, 0), "Africa/Lagos") == "2026-11-25 23:00");
  CHECK(next_utc("0 0 * * *", utc(2026, 11, 24, 22, 59, 59), "Africa/Lagos") ==
        "2026-11-24 23:00");
  // At 23:30Z on the 24th it is already the 25th in Lagos.
  CHECK(next_utc("0 0 25 * *", utc(2026, 11, 24, 23, 30), "Africa/Lagos") == "2026-12-24 23:00");
  CHECK(next_utc("30 8 * * mon", utc(2026, 11, 24), "Africa/Lagos") == "2026-11-30 07:30");
  CHECK(next_utc("0 0 1 1 *", utc(2026, 12, 31, 22, 0), "Africa/Lagos") == "2026-12-31 23:00");
  CHECK(fires_wall("*/15 * * * *", utc(2026, 11, 24, 22, 50), 3, "Africa/Lagos") ==
        std::vector<std::string>{"2026-11-25 00:00", "2026-11-25 00:15", "2026-11-25 00:30"});
}

TEST_CASE("cron: DST spring forward fires once at the end of the gap", "[cron]") {
  // Europe/London 2026-03-29: 01:00 GMT (01:00Z) jumps to 02:00 BST.
  CHECK(next_utc("30 1 * * *", utc(2026, 3, 28, 12), "Europe/London") == "2026-03-29 01:00");
  CHECK(fires_wall("30 1 * * *", utc(2026, 3, 28, 12), 2, "Europe/London") ==
        std::vector<std::string>{"2026-03-29 02:00", "2026-03-30 01:30"});
  CHECK(fires_utc("*/15 * * * *", utc(2026, 3, 29, 0, 40), 4, "Europe/London") ==
        std::vector<std::string>{"2026-03-29 00:45", "2026-03-29 01:00", "2026-03-29 01:15",
                                 "2026-03-29 01:30"});
  CHECK(fires_wall("*/15 * * * *", utc(2026, 3, 29, 0, 40), 4, "Europe/London") ==
        std::vector<std::string>{"2026-03-29 00:45", "2026-03-29 02:00", "2026-03-29 02:15",
                                 "2026-03-29 02:30"});
  CHECK(fires_wall("0 * * * *", utc(2026, 3, 28, 23, 30), 3, "Europe/London") ==
        std::vector<std::string>{"2026-03-29 00:00", "2026-03-29 02:00", "2026-03-29 03:00"});
  // America/New_York 2026-03-08: 02:00 EST (07:00Z) jumps to 03:00 EDT.
  CHECK(next_utc("30 2 * * *", utc(2026, 3, 7, 12), "America/New_York") == "2026-03-08 07:00");
  CHECK(fires_wall("30 2 * * *", utc(2026, 3, 7, 12), 3, "America/New_York") ==
        std::vector<std::string>{"2026-03-08 03:00", "2026-03-09 02:30", "2026-03-10 02:30"});
  CHECK(next_utc("0 3 * * *", utc(2026, 3, 8, 7, 0), "America/New_York") == "2026-03-09 07:00");
  // Midnight is untouched by either change.
  CHECK(fires_utc("@daily", utc(2026, 3, 7, 12), 2, "America/New_York") ==
        std::vector<std::string>{"2026-03-08 05:00", "2026-03-09 04:00"});
}

TEST_CASE("cron: DST fall back fires an ambiguous wall time once at its first occurrence",
          "[cron]") {
  // Europe/London 2026-10-25: 02:00 BST (01:00Z) falls back to 01:00 GMT; 01:30 happens at
  // 00:30Z and 01:30Z.
  CHECK(next_utc("30 1 * * *", utc(2026, 10, 24, 12), "Europe/London") == "2026-10-25 00:30");
  CHECK(next_utc("30 1 * * *", utc(2026, 10, 25, 0, 30), "Europe/London") == "2026-10-26 01:30");
  CHECK(next_utc("30 1 * * *", utc(2026, 10, 25, 1, 10), "Europe/London") == "2026-10-26 01:30");
  // Hourly: 01:00 fires in the first pass only, then 02:00 GMT.
  CHECK(fires_utc("0 * * * *", utc(2026, 10, 24, 22, 30), 4, "Europe/London") ==
        std::vector<std::string>{"2026-10-24 23:00", "2026-10-25 00:00", "2026-10-25 02:00",
                                 "2026-10-25 03:00"});
  // America/New_York 2026-11-01: 02:00 EDT (06:00Z) falls back to 01:00 EST.
  CHECK(fires_utc("30 1 * * *", utc(2026, 10, 31, 12), 2, "America/New_York") ==
        std::vector<std::string>{"2026-11-01 05:30", "2026-11-02 06:30"});
  CHECK(fires_utc("@daily", utc(2026, 10, 31, 12), 2, "America/New_York") ==
        std::vector<std::string>{"2026-11-01 04:00", "2026-11-02 05:00"});
}

TEST_CASE("cron: next_fire_times gives count times unless the schedule ends", "[cron]") {
  const auto e = parse_ok("*/15 * * * *");
  const auto times = e.next_fire_times(utc(2026, 11, 24), zone("Africa/Lagos"), 96);
  REQUIRE(times.size() == 96);
  for (std::size_t i = 1; i < times.size(); ++i) CHECK(times[i] - times[i - 1] == 15min);
  CHECK(e.next_fire_times(utc(2026, 11, 24), zone("Africa/Lagos"), 0).empty());
}

TEST_CASE("manual_clock: set and advance and jump mode", "[cron][clock]") {
  synccore::cron::manual_clock c(utc(2026, 11, 24, 10, 0));
  CHECK(c.now() == utc(2026, 11, 24, 10, 0));
  c.advance(90s);
  CHECK(c.now() == utc(2026, 11, 24, 10, 1, 30));
  c.set(utc(2026, 1, 1));
  CHECK(c.now() == utc(2026, 1, 1));
  CHECK_FALSE(c.last_deadline().has_value());
  std::stop_source stop;
  // A deadline already reached returns at once.
  CHECK(c.sleep_until(utc(2025, 1, 1), stop.get_token()));
  CHECK(c.last_deadline() == utc(2025, 1, 1));

  synccore::cron::manual_clock jump(utc(2026, 11, 24),
                                    synccore::cron::manual_clock::sleep_mode::jump_to_deadline);
  CHECK(jump.sleep_until(utc(2026, 11, 25), stop.get_token()));
  CHECK(jump.now() == utc(2026, 11, 25));
  CHECK(jump.sleep_until(utc(2026, 11, 1), stop.get_token()));  // never moves backwards
  CHECK(jump.now() == utc(2026, 11, 25));
  stop.request_stop();
  CHECK_FALSE(jump.sleep_until(utc(2026, 12, 1), stop.get_token()));
  CHECK(jump.now() == utc(2026, 11, 25));
}

TEST_CASE("manual_clock: a sleeper wakes when time reaches its deadline", "[cron][clock]") {
  synccore::cron::manual_clock c(utc(2026, 11, 24, 10, 0));
  std::atomic<int> result{-1};
  std::jthread sleeper([&](std::stop_token) {
    std::stop_source never;
    result = c.sleep_until(utc(2026, 11, 24, 10, 1), never.get_token()) ? 1 : 0;
  });
  REQUIRE(c.wait_for_sleepers(1, 5s));
  CHECK(c.sleepers() == 1);
  c.advance(30s);
  std::this_thread::sleep_for(20ms);
  CHECK(result == -1);  // still asleep: the deadline is not reached
  CHECK(c.sleepers() == 1);
  c.advance(30s);
  sleeper.join();
  CHECK(result == 1);
  CHECK(c.sleepers() == 0);
  CHECK(c.last_deadline() == utc(2026, 11, 24, 10, 1));
}

TEST_CASE("manual_clock: a stop request wakes a sleeper", "[cron][clock]") {
  synccore::cron::manual_clock c(utc(2026, 11, 24));
  std::atomic<int> result{-1};
  std::jthread sleeper([&](std::stop_token token) {
    result = c.sleep_until(utc(2027, 1, 1), token) ? 1 : 0;
  });
  REQUIRE(c.wait_for_sleepers(1, 5s));
  sleeper.request_stop();
  sleeper.join();
  CHECK(result == 0);
  CHECK(c.now() == utc(2026, 11, 24));
  CHECK_FALSE(c.wait_for_sleepers(1, 10ms));
}

TEST_CASE("system_clock_source: tells the real time and sleeps until stopped", "[cron][clock]") {
  const synccore::cron::system_clock_source c;
  const auto real = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  CHECK(c.now() >= real);
  CHECK(c.now() - real <= 2s);

  std::stop_source stop;
  CHECK(c.sleep_until(c.now() - 10s, stop.get_token()));  // already passed

  auto start = std::chrono::steady_clock::now();
  CHECK(c.sleep_until(c.now() + 1s, stop.get_token()));
  CHECK(std::chrono::steady_clock::now() - start <= 2500ms);
  CHECK(c.now() >= real + 1s);

  // A far deadline: the stop request ends the sleep promptly.
  std::atomic<int> result{-1};
  start = std::chrono::steady_clock::now();
  std::jthread sleeper([&](std::stop_token token) {
    result = c.sleep_until(c.now() + 24h, token) ? 1 : 0;
  });
  std::this_thread::sleep_for(50ms);
  sleeper.request_stop();
  sleeper.join();
  CHECK(result == 0);
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  stop.request_stop();
  CHECK_FALSE(c.sleep_until(c.now() - 10s, stop.get_token()));
}
