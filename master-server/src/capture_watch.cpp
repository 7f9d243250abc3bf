#include "capture_watch.hpp"

#include <synccore/db/connection.hpp>
#include <synccore/db/sqlite_error.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/log/logger.hpp>
#include <synccore/sync/change_capture.hpp>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>

namespace master {

namespace {

std::int64_t schema_version(synccore::db::connection& conn) {
  auto st = conn.prepare("PRAGMA schema_version");
  st.step();
  return st.column_int64(0);
}

}  // namespace

void log_capture_repair(const synccore::sync::capture_repair& repair, bool had_capture) {
  if (had_capture && !repair.missing.empty()) {
    synccore::log::log_warning(
        "Change capture triggers were missing (a migration rebuilt a table?); reinstalled them "
        "and logged the affected tables' rows, and the rows found deleted meanwhile, for every "
        "slave",
        {{"first_missing", repair.missing.front()},
         {"missing", repair.missing.size()},
         {"rows_logged", repair.rows_logged},
         {"deletes_logged", repair.tombstones_logged}});
  } else if (had_capture && !repair.outdated.empty()) {
    synccore::log::log_info("Replaced outdated change capture triggers",
                            {{"outdated", repair.outdated.size()}});
  }
}

capture_watch::capture_watch(std::filesystem::path database, std::chrono::milliseconds interval)
    : database_(std::move(database)), interval_(interval) {
  if (interval_.count() > 0) thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

capture_watch::~capture_watch() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

void capture_watch::run(std::stop_token stop) {
  std::mutex mutex;
  std::condition_variable_any wake;
  std::optional<synccore::db::connection> conn;
  std::int64_t checked_version = -1;
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(mutex);
      if (wake.wait_for(lock, stop, interval_, [] { return false; })) break;
    }
    if (stop.stop_requested()) break;
    try {
      if (!conn) conn.emplace(database_);
      const auto version = schema_version(*conn);
      if (version == checked_version) continue;
      const auto repair = synccore::sync::repair_master_capture(*conn, true);
      // The repair itself changes the schema: remember the version after it.
      checked_version = schema_version(*conn);
      log_capture_repair(repair, true);
    } catch (const synccore::db::sqlite_error& e) {
      // Busy for longer than the timeout, or the file is gone: try again at the next tick.
      synccore::log::log_warning("Could not check the change capture triggers",
                                 {{"error", e.what()}});
      conn.reset();
    }
  }
}

}  // namespace master
