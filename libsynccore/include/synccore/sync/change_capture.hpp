// Change capture inside the database itself: the Laravel app writes straight to SQLite, so
// triggers on the five synced tables record every insert, update and delete into
// ruxx_sync_changes (and, on a slave, counter deltas of inventory.current_stock into
// ruxx_sync_counter_deltas). The triggers differ by role: on the master every change is kept,
// with the node it came from, as the pull stream; on a slave a change is pending work to push,
// and writes the agent applies from the master are not captured (no echo). A capture_scope sets
// those two facts for the duration of one write transaction.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace synccore::db {
class connection;
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

// The value of ruxx_sync_changes.row_key for a row: the identity column's value as text.
// `identity_sql` is the SQL expression used by the triggers (exposed for tests).
std::string identity_expression(std::string_view table, std::string_view row_alias);

}  // namespace synccore::sync
