#include <synccore/db/schema_watch.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/log/logger.hpp>

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>

namespace synccore::db {

namespace {

std::int64_t schema_version(connection& conn) {
  auto st = conn.prepare("PRAGMA schema_version");
  st.step();
  return st.column_int64(0);
}

}  // namespace

schema_watch::schema_watch(std::filesystem::path database, std::chrono::milliseconds interval,
                           std::string what, std::function<void(connection&)> on_change)
    : database_(std::move(database)),
      interval_(interval),
      what_(std::move(what)),
      on_change_(std::move(on_change)) {
  if (interval_.count() > 0) thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

schema_watch::~schema_watch() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

void schema_watch::run(std::stop_token stop) {
  std::mutex mutex;
  std::condition_variable_any wake;
  std::int64_t seen_version = -1;
  std::string last_error;  // logged once, not at every tick while it lasts
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(mutex);
      if (wake.wait_for(lock, stop, interval_, [] { return false; })) break;
    }
    if (stop.stop_requested()) break;
    try {
      // No journal-mode switch: looking must not turn an empty file into a database.
      connection conn(database_, {.create = false, .wal = false});
      if (schema_version(conn) == seen_version) continue;
      on_change_(conn);
      seen_version = schema_version(conn);  // the callback's own changes are seen
      last_error.clear();
    } catch (const std::exception& e) {
      if (e.what() != last_error) {
        log::log_warning("Could not " + what_ + "; trying again at every check",
                         {{"error", e.what()}});
        last_error = e.what();
      }
      seen_version = -1;
    }
  }
}

}  // namespace synccore::db
