// cron_expression's schedule search: which wall times match, and which instant each one fires.
#include <synccore/cron/cron_expression.hpp>

#include <date/tz.h>

#include <bit>
#include <cstdint>

namespace synccore::cron {

namespace {

using std::chrono::hours;
using std::chrono::minutes;
using local_minutes = date::local_time<minutes>;

// A full Gregorian cycle (400 years, 146097 days): calendar and weekdays repeat after it, so a
// schedule that matches no wall time in it matches none ever.
constexpr date::days search_span{146097};

bool has_bit(std::uint64_t bits, unsigned index) noexcept {
  return ((bits >> index) & 1U) != 0;
}

// The lowest set bit of `bits` at or above `from`, or -1.
int next_bit(std::uint64_t bits, unsigned from) noexcept {
  if (from >= 64) return -1;
  const std::uint64_t rest = bits >> from << from;
  return rest == 0 ? -1 : std::countr_zero(rest);
}

// The instant a matching wall time fires: itself when it exists once; its first occurrence
// when it exists twice (overlap); the first instant after the gap when it does not exist.
date::sys_seconds fire_instant(const date::time_zone& zone, local_minutes wall) {
  const date::local_seconds wall_seconds{wall};
  const date::local_info info = zone.get_info(wall_seconds);
  if (info.result == date::local_info::nonexistent) return info.second.begin;
  // unique: first is the only period; ambiguous: first is the earlier (pre-transition) one.
  return date::sys_seconds{wall_seconds.time_since_epoch() - info.first.offset};
}

}  // namespace

bool cron_expression::day_matches(date::year_month_day ymd, date::weekday wd) const noexcept {
  const bool dom = has_bit(days_of_month_, static_cast<unsigned>(ymd.day()));
  const bool dow = has_bit(days_of_week_, wd.c_encoding());
  if (dom_unrestricted_ || dow_unrestricted_) return dom && dow;
  return dom || dow;
}

bool cron_expression::matches(local_minutes wall) const noexcept {
  const auto day = date::floor<date::days>(wall);
  const date::year_month_day ymd{day};
  const auto time_of_day = wall - day;
  const auto hour = static_cast<unsigned>(date::floor<hours>(time_of_day).count());
  const auto minute = static_cast<unsigned>((time_of_day - hours{hour}).count());
  return has_bit(months_, static_cast<unsigned>(ymd.month())) &&
         day_matches(ymd, date::weekday{day}) && has_bit(hours_, hour) &&
         has_bit(minutes_, minute);
}

std::optional<date::sys_seconds> cron_expression::next_fire_after(
    date::sys_seconds after, const date::time_zone* zone) const {
  // Fire instants grow with wall time (a gap maps to its end, an overlap to its first pass),
  // so every wall time up to `after`'s own fires at or before `after`: start one minute later.
  const date::sys_info now_info = zone->get_info(after);
  const auto after_wall = date::local_seconds{after.time_since_epoch() + now_info.offset};
  local_minutes wall = date::floor<minutes>(after_wall) + minutes{1};
  const local_minutes limit = wall + search_span;

  while (wall < limit) {
    const auto day = date::floor<date::days>(wall);
    const date::year_month_day ymd{day};
    if (!has_bit(months_, static_cast<unsigned>(ymd.month()))) {
      wall = date::local_days{(ymd.year() / ymd.month() + date::months{1}) / 1};
      continue;
    }
    if (!day_matches(ymd, date::weekday{day})) {
      wall = day + date::days{1};
      continue;
    }
    const auto time_of_day = wall - day;
    const auto hour = static_cast<unsigned>(date::floor<hours>(time_of_day).count());
    const int fire_hour = next_bit(hours_, hour);
    if (fire_hour < 0) {
      wall = day + date::days{1};
      continue;
    }
    if (static_cast<unsigned>(fire_hour) != hour) {
      wall = day + hours{fire_hour};
      continue;
    }
    const auto minute = static_cast<unsigned>((time_of_day - hours{hour}).count());
    const int fire_minute = next_bit(minutes_, minute);
    if (fire_minute < 0) {
      wall = day + hours{hour + 1};
      continue;
    }
    wall = day + hours{hour} + minutes{fire_minute};
    const date::sys_seconds instant = fire_instant(*zone, wall);
    if (instant > after) return instant;
    // Only in an overlap's second pass (already fired in the first) or a gap already passed.
    wall += minutes{1};
  }
  return std::nullopt;
}

std::vector<date::sys_seconds> cron_expression::next_fire_times(date::sys_seconds after,
                                                                const date::time_zone* zone,
                                                                std::size_t count) const {
  std::vector<date::sys_seconds> times;
  times.reserve(count);
  while (times.size() < count) {
    const auto next = next_fire_after(after, zone);
    if (!next) break;
    times.push_back(*next);
    after = *next;
  }
  return times;
}

}  // namespace synccore::cron
