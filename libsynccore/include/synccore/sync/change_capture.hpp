// Change capture inside the database itself: the Laravel app writes straight to SQLite, so
// triggers on the five synced tables record every insert, update and delete into
// ruxx_sync_changes (and, on a slave, counter deltas of inventory.current_stock into
// ruxx_sync_counter_deltas). The triggers differ by role: on the master every change is kept,
// with the node it came from, as the pull stream; on a slave a change is pending work to push,
// and writes the agent applies from the master are not captured (no echo). A capture_scope sets
// those two facts for the duration of one write transaction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace synccore::db {
class connection;
class statement;
}

namespace synccore::sync {

enum class node_role { master, slave };

// Creates (or recreates) the capture triggers of every synced table for `role`. Idempotent.
// Tables that do not exist are skipped. Must run after the app and bookkeeping tables exist.
// REQUIRES: no other writer holds a half-done transaction on `conn`.
void install_change_capture(db::connection& conn, node_role role);

// Returns the names of capture triggers that should exist for `role` but do not (for instance
// after the app's migrations rebuilt a table). Empty when capture is complete.
std::vector<std::string> missing_capture_triggers(db::connection& conn, node_role role);

// Whether `missing` (from missing_capture_triggers) names the capture trigger of `table` for
// inserts or updates (`row_writes`: a write to the table went unlogged) or for deletes.
enum class captured_writes { row_writes, deletes };
bool lacks_capture(const std::vector<std::string>& missing, std::string_view table,
                   captured_writes writes);

// Returns the names of capture triggers that exist but differ from what install_change_capture
// would create for `role` (a database set up by an older ruxx-sync). Reinstalling fixes them;
// unlike missing triggers they lost no change.
std::vector<std::string> outdated_capture_triggers(db::connection& conn, node_role role);

// What repair_master_capture found and did.
struct capture_repair {
  std::vector<std::string> missing;   // triggers that were missing (reinstalled)
  std::vector<std::string> outdated;  // triggers of an older definition (replaced)
  std::size_t rows_logged = 0;        // rows logged as changes (see below)
  std::size_t tombstones_logged = 0;  // rows found deleted meanwhile, logged as deletes
};

// Master: reinstalls missing or outdated capture triggers. A table whose insert or update
// trigger was missing (a Laravel migration rebuilt it, which drops its triggers) had writes
// that reached no change log, and nothing tells which: unless `log_rows` is false (a database
// that never had capture: nothing was ever pulled from its change log), every row of such a
// table is logged as an update by the master's app, so every slave receives the table again
// and with it whatever was written meanwhile. A table whose delete trigger was missing gets a
// tombstone for every row the change log names as present that no longer exists (deleted
// meanwhile), so the slaves delete it too; a row that was never in the change log (it predates
// ruxx-sync and was never changed since) leaves no trace when deleted so, and stays at the
// slaves. One transaction. Nothing changes when capture is whole.
capture_repair repair_master_capture(db::connection& conn, bool log_rows);

// Removes every capture trigger (used by recovery before a bulk load).
void remove_change_capture(db::connection& conn);

// Inside a write transaction: marks writes as coming from `origin` (master) and, when
// `suppress` is true (slave applying master rows), keeps them out of the change log. The
// destructor restores the defaults, so other connections only ever see suppress = 0 and
// origin = 'local'. REQUIRES: `conn` is inside a transaction for the scope's whole life.
class capture_scope {
 public:
  capture_scope(db::connection& conn, bool suppress, std::string_view origin);
  ~capture_scope();
  capture_scope(const capture_scope&) = delete;
  capture_scope& operator=(const capture_scope&) = delete;

 private:
  db::connection& conn_;
};

// Master only: the change-log entries of rows that a multi-row INSERT stores, written by the
// writer itself instead of the insert trigger. SQLite runs a trigger's sub-program once per row
// and that set-up cost about as much as the rows' own B-tree work (10k pushed rows: 78 ms with
// the trigger, 51 ms with one INSERT of their entries; docs/PERFORMANCE.md). While a
// trigger_hold lives, the master's insert triggers stand aside (ruxx_sync_capture.suppress = 1,
// which only their WHEN reads); `record` then writes exactly the entries they would have: op
// 'insert', the origin of the current capture_scope, the key as CAST(identity AS TEXT).
// REQUIRES: inside a write transaction on `conn`, with capture not suppressed.
class insert_capture {
 public:
  insert_capture(db::connection& conn, std::string table_name);
  ~insert_capture();
  insert_capture(const insert_capture&) = delete;
  insert_capture& operator=(const insert_capture&) = delete;

  // Holds the insert triggers off from construction to destruction (keep it to one statement).
  class trigger_hold {
   public:
    explicit trigger_hold(insert_capture& capture);
    ~trigger_hold();
    trigger_hold(const trigger_hold&) = delete;
    trigger_hold& operator=(const trigger_hold&) = delete;

   private:
    insert_capture& capture_;
  };

  // One entry per written row: its id and its identity value as text.
  void record(std::span<const std::pair<std::int64_t, std::string>> rows);

 private:
  void set_suppress(bool suppress);
  std::shared_ptr<db::statement> record_statement(std::size_t rows);

  db::connection& conn_;
  std::string table_name_;
};

// The value of ruxx_sync_changes.row_key for a row: the identity column's value as text.
// `identity_sql` is the SQL expression used by the triggers (exposed for tests).
std::string identity_expression(std::string_view table, std::string_view row_alias);

}  // namespace synccore::sync
