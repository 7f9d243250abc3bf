// Logging for both binaries, on Boost.Log, in the Laravel line format (line_format.hpp):
//   [2024-01-01 12:00:00] local.INFO: Successfully synced inventory {"count":12}
// setup_logging() adds this process's sinks (stderr, optionally a size-rotated file, optionally
// a line observer) to Boost.Log's core and returns a log_session that removes them again when
// it dies; the log_* functions may be called from any thread at any time. Secrets given to
// setup_logging never reach a sink. Boost.Log's core is process-global by design; nothing else
// here is: each session owns its own sinks and settings.
#pragma once

#include <synccore/log/log_level.hpp>
#include <synccore/log/rotating_file.hpp>

#include <boost/json/object.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace synccore::log {

struct log_options {
  // The tz database zone line times are written in (APP_TIMEZONE). Default: "Africa/Lagos".
  std::string time_zone = "Africa/Lagos";
  // The channel written before the level, as Laravel's APP_ENV. Default: "local".
  std::string environment = "local";
  // Records below this level are dropped. Default: info.
  log_level min_level = log_level::info;
  // Write every line to stderr. Default: true (tests turn it off).
  bool to_stderr = true;
  // Also append to this file, rotated by size (--log-file). Default: none.
  std::optional<std::filesystem::path> file;
  // Rotation of `file`. Default: 10 MiB, 5 old files kept.
  rotation_policy rotation;
  // Strings that must never be written (the API key): every occurrence in a line, raw or
  // JSON-escaped, is replaced by ********. Empty strings are ignored. Default: none.
  std::vector<std::string> secrets;
  // Receives every line (redacted, without the newline) after the other sinks; called under
  // this session's lock, one line at a time. Default: none.
  std::function<void(std::string_view line)> line_observer;
  // Where line times come from. Default: none, meaning the time the record was made. Tests set
  // a fixed clock; it must be thread-safe.
  std::function<std::chrono::system_clock::time_point()> clock;
};

// Owns the sinks one setup_logging() call added. Destroying (or moving over) a session flushes
// and removes them; records logged afterwards no longer reach them. Movable, not copyable.
// Several sessions may exist at once: each formats and writes every record on its own.
class log_session {
 public:
  log_session() noexcept;  // owns nothing
  ~log_session();
  log_session(log_session&&) noexcept;
  log_session& operator=(log_session&&) noexcept;
  log_session(const log_session&) = delete;
  log_session& operator=(const log_session&) = delete;

  // Waits until every line logged so far is written (file and stderr writes are synchronous;
  // this flushes the streams). Thread-safe.
  void flush();

 private:
  struct state;
  explicit log_session(std::unique_ptr<state> s) noexcept;
  friend log_session setup_logging(const log_options& options);
  std::unique_ptr<state> state_;
};

// Adds the sinks `options` asks for. Throws std::invalid_argument for an unknown time zone and
// std::system_error naming the path when the log file cannot be opened (its directory is not
// created). Write failures later on are dropped for the file (stderr still gets the line).
[[nodiscard]] log_session setup_logging(const log_options& options);

// Logs `message` with an optional context object (written as JSON after the message) to every
// live session's sinks whose minimum level allows it. Never throws for I/O problems of the
// stderr or file sink (an exception from a line_observer propagates); does nothing when no
// session is live. Thread-safe.
void log_message(log_level level, std::string_view message,
                 const boost::json::object& context = {});

inline void log_debug(std::string_view message, const boost::json::object& context = {}) {
  log_message(log_level::debug, message, context);
}
inline void log_info(std::string_view message, const boost::json::object& context = {}) {
  log_message(log_level::info, message, context);
}
inline void log_notice(std::string_view message, const boost::json::object& context = {}) {
  log_message(log_level::notice, message, context);
}
inline void log_warning(std::string_view message, const boost::json::object& context = {}) {
  log_message(log_level::warning, message, context);
}
inline void log_error(std::string_view message, const boost::json::object& context = {}) {
  log_message(log_level::error, message, context);
}
inline void log_critical(std::string_view message, const boost::json::object& context = {}) {
  log_message(log_level::critical, message, context);
}

}  // namespace synccore::log
