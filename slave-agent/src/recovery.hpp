// Detecting a database that needs recovery and rebuilding it from the master (DESIGN.md
// section 5). The check: the file is missing or empty, SQLite refuses it, `PRAGMA quick_check`
// is not ok, synced tables are missing, or every app table is empty while the master has rows.
// The rebuild: a fresh file "<db>.recovering" beside the database is created from schema/,
// filled page by page from the master (progress bar on a terminal, log lines otherwise),
// checked, given its capture triggers, and only then swapped in with rename(2); the old file
// (with its -wal and -shm) is moved aside as "<db>.damaged-<time>", never deleted. A recovery
// interrupted at any point leaves the old database in place; the next one starts over cleanly.
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
};

// Rebuilds `database` from the master. Returns the number of rows downloaded. Throws
// run_failure (3/4 for the master, 5 for local failures). REQUIRES: the sync lock is held.
std::size_t recover_database(const std::filesystem::path& database,
                             const synccore::time::app_zone& zone, master_api& master,
                             const recovery_options& options, std::stop_token stop);

}  // namespace slave
