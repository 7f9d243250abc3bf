// The Laravel (Monolog LineFormatter) log line, as pure functions so the exact text can be
// tested with a fixed time:
//   [2024-01-01 12:00:00] local.INFO: Successfully synced inventory {"count":12}
// The time is wall time in the app time zone (never the machine's local time), whole seconds.
// The context object follows the message after one space, and nothing follows when the context
// is empty (Laravel itself prints trailing spaces there; we print none). A message is kept on
// one line: CR and LF in it are written as the two characters \r and \n. Thread-safe.
#pragma once

#include <synccore/log/log_level.hpp>

#include <boost/json/fwd.hpp>

#include <chrono>
#include <string>
#include <string_view>

namespace date {
class time_zone;
}

namespace synccore::log {

// Serializes a context object as PHP's json_encode does with Monolog's flags: no spaces,
// slashes and non-ASCII text unescaped, floats in shortest round-trip form with a zero
// fraction kept (12.5, 12.0, 0.25, 1e+21), NaN and infinities as null. An empty object gives
// "" (so that nothing is appended to the line).
std::string context_to_json(const boost::json::object& context);

// Formats one line without the trailing newline:
// "[<time in zone>] <channel>.<LEVEL>: <message>" then " <context_json>" when it is not empty.
// REQUIRES: zone != nullptr (from date::locate_zone, which lives for the whole program).
std::string format_log_line(const date::time_zone* zone, std::string_view channel,
                            std::chrono::system_clock::time_point time, log_level level,
                            std::string_view message, std::string_view context_json);

}  // namespace synccore::log
