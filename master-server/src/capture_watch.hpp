// Keeps the master's change capture whole while the server runs. The Laravel app's migrations
// may rebuild a table (SQLite's way of changing a column), which drops the table's capture
// triggers; the app's writes to it would then reach no slave until the next start. When the
// schema changed, capture is repaired (sync::repair_master_capture: the triggers back, and the
// rows of a table that lost them logged again, deletes included, so every slave receives what
// was written meanwhile).
#pragma once

#include <synccore/db/schema_watch.hpp>
#include <synccore/sync/change_capture.hpp>

#include <chrono>
#include <filesystem>

namespace master {

// Logs what sync::repair_master_capture did, at start or from the watch: a warning when
// triggers were missing on a database that had capture before (`had_capture`: the affected
// tables' rows were logged again), a note when outdated ones were replaced; nothing for a
// database getting capture for the first time or one whose capture was whole.
void log_capture_repair(const synccore::sync::capture_repair& repair, bool had_capture);

// Watches the master database's schema (db::schema_watch, every `interval`; zero: never) and
// repairs capture when it changed.
synccore::db::schema_watch watch_capture(const std::filesystem::path& database,
                                         std::chrono::milliseconds interval);

}  // namespace master
