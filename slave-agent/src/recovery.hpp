// Detecting a database that needs recovery and rebuilding it from the master (DESIGN.md
// section 5). The check: the file is missing or empty, SQLite refuses it, `PRAGMA quick_check`
// is not ok, synced tables are missing, or every app table is empty while the master has rows.
// The rebuild never loses a local sale (docs/SYNC_DESIGN.md "Recovery"): from a readable old
// file the pending local changes are pushed first (a failed push ends the recovery there). A
// fresh file "<db>.recovering" beside the database is created from schema/, filled page by page
// from the master (progress bar on a terminal, log lines otherwise), checked and given its
// capture triggers. A readable old file is then replaced in place under its write lock once
// whatever the app wrote meanwhile is pushed too, a copy of it kept as "<db>.damaged-<time>"
// (recovery_swap.hpp); an unreadable one is moved aside under that name with its -wal and -shm
// (never deleted) and the new file renamed into its place. A recovery interrupted at any point
// leaves the old database in place; the next one starts over cleanly.
#pragma once

#include "master_api.hpp"

#include <filesystem>
#include <stop_token>
#include <string>

namespace synccore::time {
class app_zone;
}

namespace slave {

enum class db_health { healthy, missing, corrupt, incomplete, empty_but_master_has_rows };

struct health_report {
  db_health state = db_health::healthy;
  std::string detail;
};

// Checks the database. `master` is asked for its row counts only when every local app table is
// empty (nullptr skips that check). `thorough` adds `PRAGMA quick_check`, which reads the whole
// file: service start and --force ask for it; a plain --once run only does the cheap checks.
health_report check_database(const std::filesystem::path& database, master_api* master,
                             bool thorough);

struct recovery_options {
  std::string node_id_override;  // SYNC_NODE_ID
  bool show_progress = false;    // a progress bar on stderr (a terminal)
  std::size_t page_rows = 5000;
  // The old file opens and its tables can be read (not missing, not corrupt): push its pending
  // changes first and replace it in place. Default: false (moved aside).
  bool readable = false;
};

// Rebuilds `database` from the master. Returns the number of rows downloaded. Throws
// run_failure (3/4 for the master, including a failed push of the pending changes; 5 for local
// failures; 0 when `stop` interrupted it), always with the old database still in place.
// REQUIRES: the sync lock is held.
std::size_t recover_database(const std::filesystem::path& database,
                             const synccore::time::app_zone& zone, master_api& master,
                             const recovery_options& options, std::stop_token stop);

}  // namespace slave
