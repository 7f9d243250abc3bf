// Keeps the master's change capture whole while the server runs. The Laravel app's migrations
// may rebuild a table (SQLite's way of changing a column), which drops the table's capture
// triggers; the app's writes to it would then reach no slave until the next start. A thread
// reads `PRAGMA schema_version` every `interval` and, when the schema changed since it last
// looked, repairs capture (sync::repair_master_capture: the triggers back, and the rows of a
// table that lost them logged again so every slave receives what was written meanwhile).
#pragma once

#include <chrono>
#include <filesystem>
#include <thread>

namespace master {

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
