// The log levels of ruxx-sync, named and ordered as Monolog's (what Laravel writes), so that
// lines read "local.INFO", "local.WARNING" and so on. Monolog's ALERT and EMERGENCY are not used.
#pragma once

#include <synccore/util/expected.hpp>

#include <string_view>

namespace synccore::log {

// Ordered: a sink with minimum level L keeps records whose level is >= L.
enum class log_level { debug, info, notice, warning, error, critical };

// "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL".
std::string_view level_name(log_level level) noexcept;

// Parses a level name, case-insensitively ("debug", "INFO", "Warning"...), for a --log-level
// style option. Returns an input_error with field "log level" for anything else.
expected<log_level> parse_log_level(std::string_view text);

}  // namespace synccore::log
