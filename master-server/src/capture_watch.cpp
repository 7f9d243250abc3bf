#include "capture_watch.hpp"

#include <synccore/db/connection.hpp>
#include <synccore/log/logger.hpp>
#include <synccore/sync/change_capture.hpp>

namespace master {

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

synccore::db::schema_watch watch_capture(const std::filesystem::path& database,
                                         std::chrono::milliseconds interval) {
  return synccore::db::schema_watch(
      database, interval, "check the change capture triggers", [](synccore::db::connection& conn) {
        log_capture_repair(synccore::sync::repair_master_capture(conn, true), true);
      });
}

}  // namespace master
