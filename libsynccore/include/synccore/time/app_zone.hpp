// Conversions between the database's timestamps ("YYYY-MM-DD HH:MM:SS", wall time in the app
// time zone APP_TIMEZONE, Africa/Lagos by default) and the wire's ISO-8601 UTC
// ("2026-11-24T14:28:49.000000Z"), using the tz database through Howard Hinnant's date/tz,
// never a hand-coded offset. An app_zone is immutable after construction and thread-safe.
#pragma once

#include <synccore/util/expected.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace date {
class time_zone;
}

namespace synccore::time {

using utc_instant = std::chrono::sys_time<std::chrono::microseconds>;

class app_zone {
 public:
  // Looks `tz_name` up in the system tz database ("Africa/Lagos", "Europe/London", "UTC").
  // Throws std::invalid_argument naming the zone when it is unknown.
  explicit app_zone(std::string_view tz_name);

  const std::string& name() const noexcept { return name_; }
  const date::time_zone* zone() const noexcept { return zone_; }

  // Parses a wire or user timestamp into an instant. Accepts ISO-8601 with 'T' or ' ' between
  // date and time, optional seconds fraction (any number of digits), and either 'Z', an offset
  // (+01:00, +0100, +01, -05:30), or no zone at all (meaning wall time in this zone); a date
  // alone means midnight in this zone. Wall times in a daylight-saving gap are moved forward by
  // the gap's length; in an overlap the earlier instant is taken. Returns an input_error
  // (field "timestamp") for anything else, including impossible dates like 2026-02-30.
  expected<utc_instant> parse(std::string_view text) const;

  // Parses the database's format "YYYY-MM-DD HH:MM:SS" (wall time in this zone); also accepts
  // anything parse() accepts, since other writers may store other shapes.
  expected<utc_instant> from_db(std::string_view db_text) const;

  // Formats an instant as the database stores it: wall time in this zone, whole seconds
  // (fractions are truncated), "YYYY-MM-DD HH:MM:SS".
  std::string to_db(utc_instant instant) const;

  // Formats an instant for the wire: "YYYY-MM-DDTHH:MM:SS.ffffffZ" in UTC (6 digits, as PHP).
  static std::string to_wire(utc_instant instant);

  // Shortcuts: database text -> wire text, wire text -> database text.
  expected<std::string> db_to_wire(std::string_view db_text) const;
  expected<std::string> wire_to_db(std::string_view wire_text) const;

 private:
  std::string name_;
  const date::time_zone* zone_;
};

}  // namespace synccore::time
