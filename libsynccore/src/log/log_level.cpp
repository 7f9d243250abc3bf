#include <synccore/log/log_level.hpp>

#include <array>
#include <string>

namespace synccore::log {
namespace {

constexpr std::array<log_level, 6> all_levels = {log_level::debug,   log_level::info,
                                                 log_level::notice,  log_level::warning,
                                                 log_level::error,   log_level::critical};

bool equals_ignoring_case(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

}  // namespace

std::string_view level_name(log_level level) noexcept {
  switch (level) {
    case log_level::debug: return "DEBUG";
    case log_level::info: return "INFO";
    case log_level::notice: return "NOTICE";
    case log_level::warning: return "WARNING";
    case log_level::error: return "ERROR";
    case log_level::critical: return "CRITICAL";
  }
  return "INFO";
}

expected<log_level> parse_log_level(std::string_view text) {
  for (log_level level : all_levels) {
    if (equals_ignoring_case(text, level_name(level))) return level;
  }
  return input_error{"log level",
                     "unknown log level \"" + std::string(text) +
                         "\" (use debug, info, notice, warning, error or critical)"};
}

}  // namespace synccore::log
