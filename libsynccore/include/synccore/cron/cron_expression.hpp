// Five-field cron expressions ("minute hour day-of-month month day-of-week", as crontab(5)),
// parsed once and then asked for their next fire time. The schedule is evaluated on WALL time
// in a tz-database zone, so "0 0 * * *" in Africa/Lagos fires at local midnight (23:00Z), and
// daylight-saving changes are handled like cronie/systemd: a wall time that does not exist (a
// spring-forward gap) fires at the first instant after the gap, and a wall time that happens
// twice (a fall-back overlap) fires once, at its first occurrence. See docs/TIME_AND_CRON.md.
#pragma once

#include <synccore/util/expected.hpp>

#include <date/date.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace date {
class time_zone;
}

namespace synccore::cron {

// An immutable, parsed cron expression; cheap to copy and safe to share across threads.
class cron_expression {
 public:
  // Parses five whitespace-separated fields: minute 0-59, hour 0-23, day-of-month 1-31,
  // month 1-12 or jan-dec, day-of-week 0-7 or sun-sat (0 and 7 are both Sunday); names are
  // case-insensitive. Each field is a comma list of `*`, `N`, `N-M`, each optionally followed by
  // `/STEP`; `N/STEP` means `N-max/STEP`. Also the macros @yearly, @annually, @monthly, @weekly,
  // @daily, @midnight and @hourly. Leading and trailing whitespace is ignored. Returns an
  // input_error with field "cron" naming the bad field and value, e.g.
  // `minute field "61" is out of range 0-59`.
  static expected<cron_expression> parse(std::string_view text);

  // The first fire time strictly after `after`, evaluating the schedule on wall time in `zone`.
  // A matching wall time inside a DST gap fires at the first instant after the gap (several
  // such wall times fire once); a matching wall time inside an overlap fires only at its first
  // occurrence. Returns std::nullopt when the expression can never fire (e.g. "0 0 30 2 *"):
  // the search covers 400 years of wall time, a full Gregorian cycle, so it always ends.
  // REQUIRES: zone != nullptr; `after` lies within years 1-9000.
  std::optional<std::chrono::sys_seconds> next_fire_after(std::chrono::sys_seconds after,
                                                          const date::time_zone* zone) const;

  // Up to `count` successive fire times after `after` (fewer only when the schedule ends).
  // REQUIRES: as next_fire_after.
  std::vector<std::chrono::sys_seconds> next_fire_times(std::chrono::sys_seconds after,
                                                        const date::time_zone* zone,
                                                        std::size_t count) const;

  // True when the wall-clock minute `wall` matches all five fields (with the day-of-month /
  // day-of-week rule below). Ignores DST: this is the schedule itself.
  bool matches(date::local_time<std::chrono::minutes> wall) const noexcept;

  // The text this expression was parsed from, trimmed.
  const std::string& text() const noexcept { return text_; }

  // True when both expressions parsed to the same fields and day rule, whatever their texts
  // ("@daily" == "0 0 * * *" == "0 0 * * *  ", "0 0 * * 7" == "0 0 * * sun").
  friend bool operator==(const cron_expression& a, const cron_expression& b) noexcept;

 private:
  cron_expression() = default;

  bool day_matches(date::year_month_day ymd, date::weekday wd) const noexcept;

  std::uint64_t minutes_ = 0;       // bit m: minute m (0-59)
  std::uint32_t hours_ = 0;         // bit h: hour h (0-23)
  std::uint32_t days_of_month_ = 0; // bit d: day d (1-31)
  std::uint16_t months_ = 0;        // bit m: month m (1-12)
  std::uint8_t days_of_week_ = 0;   // bit d: weekday d (0 = Sunday ... 6 = Saturday)
  // Day rule (as Vixie cron and cronie): a day field whose text starts with '*' is
  // "unrestricted". When either day field is unrestricted a day must match both fields;
  // when both are restricted, a day matching either one fires.
  bool dom_unrestricted_ = true;
  bool dow_unrestricted_ = true;
  std::string text_;
};

}  // namespace synccore::cron
