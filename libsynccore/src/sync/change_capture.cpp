#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/db/transaction.hpp>
#include <synccore/sync/change_capture.hpp>
#include <synccore/tables/table_descriptor.hpp>

#include <algorithm>
#include <array>

namespace synccore::sync {

namespace {

std::string sql_literal(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

std::string trigger_name(std::string_view table, std::string_view suffix) {
  return "ruxx_sync_" + std::string(table) + "_" + std::string(suffix);
}

std::vector<std::string> trigger_names(const tables::table_descriptor& t, node_role role) {
  std::vector<std::string> names{trigger_name(t.name, "ai"), trigger_name(t.name, "au"),
                                 trigger_name(t.name, "ad")};
  if (role == node_role::slave && !t.counter_column.empty()) {
    names.push_back(trigger_name(t.name, "counter"));
  }
  return names;
}

constexpr std::string_view not_suppressed =
    "(SELECT suppress FROM ruxx_sync_capture WHERE id = 1) = 0";
constexpr std::string_view current_origin = "(SELECT origin FROM ruxx_sync_capture WHERE id = 1)";

std::string master_triggers(const tables::table_descriptor& t) {
  const std::string table = db::quote_identifier(t.name);
  const std::string lit = sql_literal(t.name);
  std::string sql;
  auto one = [&](std::string_view suffix, std::string_view event, std::string_view row,
                 std::string_view op) {
    sql += "CREATE TRIGGER " + trigger_name(t.name, suffix) + " AFTER " + std::string(event) +
           " ON " + table + " BEGIN INSERT OR REPLACE INTO ruxx_sync_changes "
           "(table_name, row_id, row_key, op, origin) VALUES (" + lit + ", " + std::string(row) +
           ".id, " + identity_expression(t.name, row) + ", '" + std::string(op) + "', " +
           std::string(current_origin) + "); END;\n";
  };
  one("ai", "INSERT", "NEW", "insert");
  one("au", "UPDATE", "NEW", "update");
  one("ad", "DELETE", "OLD", "delete");
  return sql;
}

std::string slave_triggers(const tables::table_descriptor& t) {
  const std::string table = db::quote_identifier(t.name);
  const std::string lit = sql_literal(t.name);
  const std::string pending_insert = "EXISTS (SELECT 1 FROM ruxx_sync_changes WHERE table_name = " +
                                     lit + " AND row_id = OLD.id AND op = 'insert')";
  std::string sql;
  // A new local row: pending insert (the master has never seen it).
  sql += "CREATE TRIGGER " + trigger_name(t.name, "ai") + " AFTER INSERT ON " + table +
         " WHEN " + std::string(not_suppressed) +
         " BEGIN INSERT OR REPLACE INTO ruxx_sync_changes (table_name, row_id, row_key, op, "
         "origin) VALUES (" + lit + ", NEW.id, " + identity_expression(t.name, "NEW") +
         ", 'insert', 'local'); END;\n";
  // An update keeps a pending insert an insert, and remembers the version it started from.
  sql += "CREATE TRIGGER " + trigger_name(t.name, "au") + " AFTER UPDATE ON " + table +
         " WHEN " + std::string(not_suppressed) +
         " BEGIN INSERT OR REPLACE INTO ruxx_sync_changes (table_name, row_id, row_key, op, "
         "origin, base_updated_at) VALUES (" + lit + ", NEW.id, " +
         identity_expression(t.name, "NEW") + ", CASE WHEN " + pending_insert +
         " THEN 'insert' ELSE 'update' END, 'local', CASE WHEN " + pending_insert +
         " THEN NULL ELSE COALESCE((SELECT base_updated_at FROM ruxx_sync_changes WHERE "
         "table_name = " + lit + " AND row_id = OLD.id), OLD.updated_at) END); END;\n";
  // A delete of a row the master never saw is simply forgotten; otherwise it is a tombstone.
  sql += "CREATE TRIGGER " + trigger_name(t.name, "ad") + " AFTER DELETE ON " + table +
         " WHEN " + std::string(not_suppressed) +
         " BEGIN INSERT OR REPLACE INTO ruxx_sync_changes (table_name, row_id, row_key, op, "
         "origin) SELECT " + lit + ", OLD.id, " + identity_expression(t.name, "OLD") +
         ", 'delete', 'local' WHERE NOT " + pending_insert +
         "; DELETE FROM ruxx_sync_changes WHERE table_name = " + lit +
         " AND row_id = OLD.id AND op = 'insert'; DELETE FROM ruxx_sync_counter_deltas WHERE "
         "table_name = " + lit + " AND row_id = OLD.id; END;\n";
  if (!t.counter_column.empty()) {
    const std::string col = db::quote_identifier(t.counter_column);
    sql += "CREATE TRIGGER " + trigger_name(t.name, "counter") + " AFTER UPDATE OF " + col +
           " ON " + table + " WHEN " + std::string(not_suppressed) + " AND NEW." + col +
           " IS NOT OLD." + col +
           " BEGIN INSERT INTO ruxx_sync_counter_deltas (table_name, row_id, column, delta) "
           "VALUES (" + lit + ", NEW.id, " + sql_literal(t.counter_column) + ", NEW." + col +
           " - OLD." + col + ") ON CONFLICT (table_name, row_id, column) DO UPDATE SET delta = "
           "delta + excluded.delta; END;\n";
  }
  return sql;
}

std::vector<std::string> existing_triggers(db::connection& conn) {
  std::vector<std::string> out;
  auto st = conn.prepare("SELECT name FROM sqlite_schema WHERE type = 'trigger' AND name LIKE "
                         "'ruxx\\_sync\\_%' ESCAPE '\\'");
  while (st.step()) out.push_back(st.column_string(0));
  return out;
}

}  // namespace

std::string identity_expression(std::string_view table, std::string_view row_alias) {
  const auto* d = tables::find_table(table);
  const std::string_view column = d ? d->identity_column : std::string_view("id");
  return "CAST(" + std::string(row_alias) + "." + db::quote_identifier(column) + " AS TEXT)";
}

void install_change_capture(db::connection& conn, node_role role) {
  db::transaction tx(conn);
  for (const auto& name : existing_triggers(conn)) {
    conn.execute("DROP TRIGGER IF EXISTS " + db::quote_identifier(name));
  }
  for (const auto& t : tables::all_tables()) {
    if (!conn.has_table(t.name)) continue;
    conn.execute(role == node_role::master ? master_triggers(t) : slave_triggers(t));
  }
  tx.commit();
}

std::vector<std::string> missing_capture_triggers(db::connection& conn, node_role role) {
  const auto present = existing_triggers(conn);
  std::vector<std::string> missing;
  for (const auto& t : tables::all_tables()) {
    for (auto& name : trigger_names(t, role)) {
      if (std::find(present.begin(), present.end(), name) == present.end()) {
        missing.push_back(std::move(name));
      }
    }
  }
  // A trigger set of the other role (a copied database) counts as incomplete too.
  if (role == node_role::master) {
    for (const auto& name : present) {
      if (name.ends_with("_counter")) missing.push_back("(slave trigger present) " + name);
    }
  }
  return missing;
}

void remove_change_capture(db::connection& conn) {
  db::transaction tx(conn);
  for (const auto& name : existing_triggers(conn)) {
    conn.execute("DROP TRIGGER IF EXISTS " + db::quote_identifier(name));
  }
  tx.commit();
}

capture_scope::capture_scope(db::connection& conn, bool suppress, std::string_view origin)
    : conn_(conn) {
  auto st = conn_.prepare("UPDATE ruxx_sync_capture SET suppress = ?, origin = ? WHERE id = 1");
  st.bind(1, suppress ? 1 : 0).bind(2, origin);
  st.run();
}

capture_scope::~capture_scope() {
  try {
    conn_.execute("UPDATE ruxx_sync_capture SET suppress = 0, origin = 'local' WHERE id = 1");
  } catch (...) {
    // The enclosing transaction is being rolled back; the row keeps its committed defaults.
  }
}

}  // namespace synccore::sync
