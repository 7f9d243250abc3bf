// Takes the WAL checkpoints of a long-running process out of its requests. By SQLite's
// default, the commit that takes the write-ahead log past 1000 pages copies them into the
// database file and waits for the disk, inside whatever request happened to commit: on the
// master's 1M-row database a push every few syncs waited 5 to 15 ms more than the others,
// because the copied pages lie spread over the whole file. Connections attached here report
// each commit's WAL size instead (sqlite3_wal_hook, which replaces SQLite's autocheckpoint on
// them), and a thread with its own connection runs a PASSIVE checkpoint (it never blocks the
// writer or the readers) once nothing has been committed for `idle`, or at once when the WAL
// passes `soon_pages`. Should the thread fall behind (a reader pinning an old snapshot, a slow
// disk), a commit that finds the WAL past `backstop_pages` checkpoints inline, as SQLite's
// autocheckpoint would have, so the WAL stays bounded. Other processes on the same file (the
// Laravel app) keep their own autocheckpoint and gain too: they find the WAL short.
#pragma once

#include <synccore/db/connection.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <thread>

namespace synccore::db {

struct checkpoint_policy {
  // Checkpoint once this long has passed without a commit. Default: 200 ms.
  std::chrono::milliseconds idle{200};
  // Checkpoint in the background at once past this many WAL pages. Default: 1000 (SQLite's
  // autocheckpoint threshold).
  int soon_pages = 1000;
  // Checkpoint inline, in the committing connection, past this many pages. Default: 16000
  // (64 MiB of 4 KiB pages).
  int backstop_pages = 16000;
};

class wal_checkpointer {
 public:
  // Starts the thread; it opens its own connection to `database` when first needed.
  wal_checkpointer(std::filesystem::path database, checkpoint_policy policy = {});
  // Stops the thread (a checkpoint under way finishes first) and waits for it. Destroy the
  // attached connections first: their hooks point here.
  ~wal_checkpointer();
  wal_checkpointer(const wal_checkpointer&) = delete;
  wal_checkpointer& operator=(const wal_checkpointer&) = delete;

  // Routes `conn`'s commits here. `conn` must be a connection to the same database, and die
  // before this object.
  void attach(connection& conn);

  // Checkpoints the background thread has run so far (whether or not they copied every page).
  std::int64_t background_checkpoints() const;

 private:
  static int on_commit(void* self, sqlite3* db, const char* schema, int pages);
  void run(std::stop_token stop);

  std::filesystem::path database_;
  checkpoint_policy policy_;
  mutable std::mutex mutex_;
  std::condition_variable_any wake_;
  int wal_pages_ = 0;  // after the last commit reported; 0: nothing to checkpoint
  std::chrono::steady_clock::time_point last_commit_{};
  std::int64_t background_checkpoints_ = 0;
  std::jthread thread_;  // last: it starts once every member above exists
};

}  // namespace synccore::db
