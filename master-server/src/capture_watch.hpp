// Keeps the master's change capture whole while the server runs. The Laravel app's migrations
// may rebuild a table (SQLite's way of changing a column), which drops the table's capture
// triggers; the app's writes to it would then reach no slave until the next start. A thread
// reads `PRAGMA schema_version` every `interval` and, when the schema changed since it last
// looked, repairs capture (sync::repair_master_capture: the triggers back, and the rows of a
// table that lost them logged again so every slave receives what was written meanwhile).
#pragma once

#include <synccore/sync/change_capture.hpp>

#include <chrono>
#include <filesystem>
#include <thread>

namespace master {

// Logs what sync::repair_master_capture did, at start or from the watch: a warning when
// triggers were missing on a database that had capture before (`had_capture`: the affected
// tables' rows were logged again), a note when outdated ones were replaced; nothing for a
// database getting capture for the first time or one whose capture was whole.
void log_capture_repair(const synccore::sync::capture_repair& repair, bool had_capture);

class capture_watch {
 public:
  // Starts watching `database` (a zero interval: no thread, nothing watched).
  capture_watch(std::filesystem::path database, std::chrono::milliseconds interval);
  // Stops the thread (at once, between two checks) and waits for it.
  ~capture_watch();
  capture_watch(const capture_watch&) = delete;
  capture_watch& operator=(const capture_watch&) = delete;

 private:
  void run(std::stop_token stop);

  std::filesystem::path database_;
  std::chrono::milliseconds interval_;
  std::jthread thread_;
};

}  // namespace master
