#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/schema/table_schema.hpp>
#include <synccore/sync/renumber.hpp>
#include <synccore/tables/table_descriptor.hpp>

#include <algorithm>

namespace synccore::sync {

std::int64_t fresh_id(db::connection& conn, std::string_view table) {
  auto st = conn.prepare("SELECT max(COALESCE((SELECT max(id) FROM " +
                         db::quote_identifier(table) +
                         "), 0), COALESCE((SELECT seq FROM sqlite_sequence WHERE name = ?), 0))");
  st.bind(1, table);
  st.step();
  return st.column_int64(0) + 1;
}

// Laravel's database session driver keeps the logged-in user's id in `sessions.user_id` (and in
// the payload), with no foreign key that would follow the user to its new id. A session left
// behind would keep writing the old id: a FOREIGN KEY error on the next sale, or, when another
// renumbered user now holds that id, sales silently recorded for the wrong cashier. Ending the
// session makes the app ask that cashier to log in again, under the new id.
void end_app_sessions(db::connection& conn, std::int64_t user_id) {
  auto has = conn.prepare("SELECT 1 FROM pragma_table_info('sessions') WHERE name = 'user_id'");
  if (!has.step()) return;  // another session driver, or no sessions table
  auto st = conn.prepare("DELETE FROM sessions WHERE user_id = ?");
  st.bind(1, user_id);
  st.run();
}

void repoint_references(db::connection& conn, std::string_view table, std::int64_t from_id,
                        std::int64_t to_id) {
  for (const auto& [child, fk] : schema::referencing_columns(conn, table)) {
    if (fk.parent_column != "id") continue;
    auto st = conn.prepare("UPDATE " + db::quote_identifier(child) + " SET " +
                           db::quote_identifier(fk.from_column) + " = ? WHERE " +
                           db::quote_identifier(fk.from_column) + " = ?");
    st.bind(1, to_id).bind(2, from_id);
    st.run();
  }
}

void renumber_row(db::connection& conn, std::string_view table, std::int64_t from_id,
                  std::int64_t to_id) {
  if (from_id == to_id) return;
  const std::string name = db::quote_identifier(table);
  if (table == "users") end_app_sessions(conn, from_id);
  {
    auto occupied = conn.prepare("SELECT 1 FROM " + name + " WHERE id = ?");
    occupied.bind(1, to_id);
    if (occupied.step()) renumber_row(conn, table, to_id, fresh_id(conn, table));
  }
  conn.execute("PRAGMA defer_foreign_keys = ON");
  auto move = conn.prepare("UPDATE " + name + " SET id = ? WHERE id = ?");
  move.bind(1, to_id).bind(2, from_id);
  move.run();
  repoint_references(conn, table, from_id, to_id);
  const auto* d = tables::find_table(table);
  const bool key_is_id = d && d->identity_column == "id";
  auto changes = conn.prepare(
      key_is_id ? "UPDATE ruxx_sync_changes SET row_id = ?, row_key = CAST(? AS TEXT) WHERE "
                  "table_name = ? AND row_id = ?"
                : "UPDATE ruxx_sync_changes SET row_id = ?1 WHERE table_name = ?3 AND row_id = ?4");
  changes.bind(1, to_id).bind(2, to_id).bind(3, table).bind(4, from_id);
  changes.run();
  auto deltas = conn.prepare(
      "UPDATE ruxx_sync_counter_deltas SET row_id = ? WHERE table_name = ? AND row_id = ?");
  deltas.bind(1, to_id).bind(2, table).bind(3, from_id);
  deltas.run();
  // Keep AUTOINCREMENT ahead of the moved id so the app never reuses it.
  auto seq = conn.prepare("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?");
  seq.bind(1, to_id).bind(2, table);
  seq.run();
}

}  // namespace synccore::sync
