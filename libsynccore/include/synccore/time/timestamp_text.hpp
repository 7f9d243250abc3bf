// The text side of timestamps, without any time-zone math: a strict, allocation-free parser of
// the ISO-8601 / SQL shapes the app and the wire use ("2026-11-24 15:28:49",
// "2026-11-24T14:28:49.000000Z", "2026-11-24T15:28:49+01:00", "2026-11-24"), and fast
// formatters for the database and wire shapes. app_zone turns the parsed wall time into an
// instant with the tz database; everything here is pure, stateless and thread-safe.
#pragma once

#include <synccore/util/expected.hpp>

#include <date/date.h>

#include <chrono>
#include <string>
#include <string_view>

namespace synccore::time {

// What a timestamp text says, before any zone is applied.
struct timestamp_fields {
  // The date and time as written (midnight when only a date was given), to the microsecond;
  // fraction digits beyond the sixth are truncated.
  date::local_time<std::chrono::microseconds> wall;
  // True when the text ends in 'Z' or a numeric offset; false means "wall time in the app zone".
  bool has_offset = false;
  // The written offset east of UTC ('Z' is zero). Meaningful only when has_offset.
  std::chrono::minutes offset{0};
};

// Parses YYYY-MM-DD, optionally followed by 'T' or ' ' and HH:MM[:SS[.fraction]], optionally
// followed by 'Z' or an offset +HH:MM, +HHMM or +HH (also '-'; hours 0-23, minutes 0-59).
// Every field has exactly its number of digits; the date must exist (no 2026-02-30), hours are
// 00-23, minutes and seconds 00-59; nothing may follow. Returns an input_error with field
// "timestamp" whose message quotes the input and says what is wrong. Does not allocate on
// success.
expected<timestamp_fields> parse_timestamp_text(std::string_view text);

// Formats `instant` as "YYYY-MM-DDTHH:MM:SS.ffffffZ" (UTC, 6 fraction digits, as PHP/Carbon).
// Years outside 0000-9999 are written with as many digits as needed and a leading '-' when
// negative. The only allocation is the returned string.
std::string format_wire_text(date::sys_time<std::chrono::microseconds> instant);

// Formats a wall time as "YYYY-MM-DD HH:MM:SS" (the database's shape).
std::string format_db_text(date::local_seconds wall);

}  // namespace synccore::time
