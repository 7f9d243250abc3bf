// Calls back when a database's schema changes, from a thread of its own, for the long-running
// processes that must keep their change capture whole while the Laravel app migrates the same
// file (a migration that rebuilds a table drops its triggers). Every `interval` the thread opens
// the database afresh (so a file replaced meanwhile, as a recovery does, is the one looked at;
// never creating it, nor switching its journal mode),
// reads `PRAGMA schema_version` and, when it differs from what it saw last (always on the first
// look), calls `on_change` with that connection; what the callback changes counts as seen. A
// failure (the file busy, missing or damaged, or the callback throwing) is logged as a warning
// and the next tick tries again.
#pragma once

#include <synccore/db/connection.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

namespace synccore::db {

class schema_watch {
 public:
  // Starts watching `database` (a zero interval: no thread, nothing watched). `what` names the
  // watch in its warnings.
  schema_watch(std::filesystem::path database, std::chrono::milliseconds interval,
               std::string what, std::function<void(connection&)> on_change);
  // Stops the thread (at once between two looks; a callback under way finishes) and waits.
  ~schema_watch();
  schema_watch(const schema_watch&) = delete;
  schema_watch& operator=(const schema_watch&) = delete;

 private:
  void run(std::stop_token stop);

  std::filesystem::path database_;
  std::chrono::milliseconds interval_;
  std::string what_;
  std::function<void(connection&)> on_change_;
  std::jthread thread_;  // last: it starts once every member above exists
};

}  // namespace synccore::db
