#include <synccore/time/app_zone.hpp>
#include <synccore/time/timestamp_text.hpp>

#include <date/tz.h>

#include <stdexcept>
#include <string>

namespace synccore::time {

namespace {

using std::chrono::microseconds;

const date::time_zone* find_zone(std::string_view tz_name) {
  // Loading the database itself failing (no /usr/share/zoneinfo) is a fault and propagates as
  // it is; only the lookup of the name is the caller's input.
  (void)date::get_tzdb();
  try {
    return date::locate_zone(tz_name);
  } catch (const std::runtime_error&) {
    throw std::invalid_argument("unknown time zone \"" + std::string(tz_name) +
                                "\" (expected a tz database name like Africa/Lagos)");
  }
}

// The instant a wall time in `zone` names. A wall time that exists once maps to it; in an
// overlap (clocks set back) the earlier instant is taken, as date::choose::earliest would; in a
// gap (clocks set forward) the wall time is read with the offset in force before the gap, which
// moves it forward by the gap's length (Europe/London 2026-03-29 01:30 -> 02:30 BST = 01:30Z).
// In all three cases that is the offset of local_info::first.
utc_instant wall_to_instant(const date::time_zone& zone,
                            date::local_time<microseconds> wall) {
  const date::local_info info = zone.get_info(date::floor<std::chrono::seconds>(wall));
  return utc_instant{wall.time_since_epoch() - info.first.offset};
}

}  // namespace

app_zone::app_zone(std::string_view tz_name) : name_(tz_name), zone_(find_zone(tz_name)) {}

expected<utc_instant> app_zone::parse(std::string_view text) const {
  auto fields = parse_timestamp_text(text);
  if (!fields) return fields.error();
  if (fields->has_offset) return utc_instant{fields->wall.time_since_epoch() - fields->offset};
  return wall_to_instant(*zone_, fields->wall);
}

expected<utc_instant> app_zone::from_db(std::string_view db_text) const {
  // The database shape is one of the shapes parse() reads strictly and without allocating.
  return parse(db_text);
}

std::string app_zone::to_db(utc_instant instant) const {
  const auto secs = date::floor<std::chrono::seconds>(instant);
  const date::sys_info info = zone_->get_info(secs);
  return format_db_text(date::local_seconds{secs.time_since_epoch() + info.offset});
}

std::string app_zone::to_wire(utc_instant instant) { return format_wire_text(instant); }

expected<std::string> app_zone::db_to_wire(std::string_view db_text) const {
  auto instant = from_db(db_text);
  if (!instant) return instant.error();
  return format_wire_text(*instant);
}

expected<std::string> app_zone::wire_to_db(std::string_view wire_text) const {
  auto instant = parse(wire_text);
  if (!instant) return instant.error();
  return to_db(*instant);
}

}  // namespace synccore::time
