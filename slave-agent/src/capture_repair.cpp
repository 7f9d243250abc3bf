#include "capture_repair.hpp"

#include <synccore/db/statement.hpp>
#include <synccore/db/transaction.hpp>
#include <synccore/log/logger.hpp>
#include <synccore/sync/change_capture.hpp>
#include <synccore/sync/slave_state.hpp>
#include <synccore/tables/table_descriptor.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace slave {

namespace {

// Rows the app wrote while `t` had no capture triggers (a depot database in use before the
// agent's first run, or a Laravel migration that rebuilt the table, which drops its triggers)
// were never logged and would never be pushed. Logs every row changed since the table's last
// sync (10 minutes earlier, for a migration run during that sync; every row when the table
// never synced) as a pending change: `insert` when created after the last sync, `update` for
// an older row the master knows by its id. Re-sending a row the master has is harmless (equal
// content is "unchanged"). Inventory is skipped: the master's row wins and stock changes made
// without the counter trigger cannot be told apart from the master's. Returns the rows logged.
std::size_t log_uncaptured_rows(synccore::db::connection& conn,
                                const synccore::tables::table_descriptor& t) {
  if (!t.counter_column.empty() || !conn.has_table(t.name)) return 0;
  const auto last = synccore::sync::last_synced_at(conn, t.name);
  const std::string table = synccore::db::quote_identifier(t.name);
  synccore::db::transaction tx(conn);
  auto st = conn.prepare(
      "INSERT OR IGNORE INTO ruxx_sync_changes (table_name, row_id, row_key, op, origin) SELECT "
      "?1, id, " + synccore::sync::identity_expression(t.name, table) + ", CASE WHEN ?2 IS NULL "
      "OR created_at IS NULL OR created_at > ?2 THEN 'insert' ELSE 'update' END, 'local' FROM " +
      table + " WHERE (?2 IS NULL OR updated_at IS NULL OR updated_at >= datetime(?2, "
      "'-10 minutes')) AND id NOT IN (SELECT row_id FROM ruxx_sync_changes WHERE table_name = ?1)");
  st.bind(1, t.name);
  if (last && !last->empty()) st.bind(2, *last);
  else st.bind_null(2);
  st.run();
  const auto logged = static_cast<std::size_t>(conn.changes());
  tx.commit();
  return logged;
}

}  // namespace

void repair_capture(synccore::db::connection& conn) {
  const auto missing =
      synccore::sync::missing_capture_triggers(conn, synccore::sync::node_role::slave);
  if (!missing.empty()) {
    synccore::log::log_warning("Change capture triggers were missing; reinstalling them",
                               {{"first_missing", missing.front()},
                                {"missing", missing.size()}});
    synccore::sync::install_change_capture(conn, synccore::sync::node_role::slave);
    for (const auto& t : synccore::tables::all_tables()) {
      if (!synccore::sync::lacks_capture(missing, t.name,
                                          synccore::sync::captured_writes::row_writes)) {
        continue;
      }
      if (const auto logged = log_uncaptured_rows(conn, t)) {
        synccore::log::log_warning("Rows changed without change capture will be pushed",
                                   {{"table", t.name}, {"rows", logged}});
      } else if (!t.counter_column.empty()) {
        synccore::log::log_warning("Changes made without change capture are not recovered; "
                                   "the master's rows win",
                                   {{"table", t.name}});
      }
    }
  } else if (const auto outdated = synccore::sync::outdated_capture_triggers(
                 conn, synccore::sync::node_role::slave);
             !outdated.empty()) {
    // Set up by an older ruxx-sync: no change was lost, the new definitions simply replace them.
    synccore::log::log_info("Updating the change capture triggers",
                            {{"first_outdated", outdated.front()}, {"outdated", outdated.size()}});
    synccore::sync::install_change_capture(conn, synccore::sync::node_role::slave);
  }
}

}  // namespace slave
