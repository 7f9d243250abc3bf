// What a slave remembers between runs, in its own database: its node id (generated once, or
// SYNC_NODE_ID), the master's pull cursor per table, and the app's sync_logs rows (kept up to
// date as the PHP module did, so existing screens keep working).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace synccore::db {
class connection;
}

namespace synccore::sync {

// Returns the node id stored in ruxx_sync_meta, creating a random one ("node-" + 32 hex digits)
// on first use; `override_id` (SYNC_NODE_ID), when not empty, is stored and returned instead.
std::string ensure_node_id(db::connection& conn, std::string_view override_id = {});

// The saved pull cursor of `table`, if any.
std::optional<std::string> load_cursor(db::connection& conn, std::string_view table);
// Saves the pull cursor of `table` (inside the caller's transaction when there is one).
void save_cursor(db::connection& conn, std::string_view table, std::string_view cursor);
// Forgets every saved cursor (after recovery, or when switching masters).
void clear_cursors(db::connection& conn);

// Sets sync_logs.last_synced_at of `table` to now (database text in the app zone, given by the
// caller as `now_db`), creating the row when missing.
void touch_sync_log(db::connection& conn, std::string_view table, std::string_view now_db);
// Returns sync_logs.last_synced_at of `table` (database text), if any.
std::optional<std::string> last_synced_at(db::connection& conn, std::string_view table);

// A random identifier (32 hex digits) for batch and node ids.
std::string random_hex_id();

}  // namespace synccore::sync
