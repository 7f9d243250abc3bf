#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/db/transaction.hpp>
#include <synccore/sync/change_capture.hpp>
#include <synccore/tables/table_descriptor.hpp>

#include <algorithm>
#include <map>

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

constexpr std::string_view not_suppressed =
    "(SELECT suppress FROM ruxx_sync_capture WHERE id = 1) = 0";
constexpr std::string_view current_origin = "(SELECT origin FROM ruxx_sync_capture WHERE id = 1)";

// The statement that creates one trigger, as SQLite keeps it in sqlite_schema.sql.
struct trigger_definition {
  std::string name;
  std::string sql;
};

// On the master every change is logged with its origin. The insert trigger stands aside while
// `suppress` is set: an insert_capture then writes the same entries itself (see the header).
std::vector<trigger_definition> master_triggers(const tables::table_descriptor& t) {
  const std::string table = db::quote_identifier(t.name);
  const std::string lit = sql_literal(t.name);
  std::vector<trigger_definition> out;
  auto one = [&](std::string_view suffix, std::string_view event, std::string_view when,
                 std::string_view row, std::string_view op) {
    auto name = trigger_name(t.name, suffix);
    auto sql = "CREATE TRIGGER " + name + " AFTER " + std::string(event) + " ON " + table +
               std::string(when) + " BEGIN INSERT OR REPLACE INTO ruxx_sync_changes "
               "(table_name, row_id, row_key, op, origin) VALUES (" + lit + ", " +
               std::string(row) + ".id, " + identity_expression(t.name, row) + ", '" +
               std::string(op) + "', " + std::string(current_origin) + "); END";
    out.push_back({std::move(name), std::move(sql)});
  };
  one("ai", "INSERT", " WHEN " + std::string(not_suppressed), "NEW", "insert");
  one("au", "UPDATE", "", "NEW", "update");
  one("ad", "DELETE", "", "OLD", "delete");
  return out;
}

std::vector<trigger_definition> slave_triggers(const tables::table_descriptor& t) {
  const std::string table = db::quote_identifier(t.name);
  const std::string lit = sql_literal(t.name);
  const std::string pending_insert = "EXISTS (SELECT 1 FROM ruxx_sync_changes WHERE table_name = " +
                                     lit + " AND row_id = OLD.id AND op = 'insert')";
  std::vector<trigger_definition> out;
  // `event` is what follows AFTER (the table name included), `body` what follows WHEN.
  auto define = [&](std::string_view suffix, const std::string& event, const std::string& body) {
    auto name = trigger_name(t.name, suffix);
    out.push_back({name, "CREATE TRIGGER " + name + " AFTER " + event + " WHEN " + body});
  };
  // A new local row: pending insert (the master has never seen it).
  define("ai", "INSERT ON " + table,
         std::string(not_suppressed) +
             " BEGIN INSERT OR REPLACE INTO ruxx_sync_changes (table_name, row_id, row_key, op, "
             "origin) VALUES (" + lit + ", NEW.id, " + identity_expression(t.name, "NEW") +
             ", 'insert', 'local'); END");
  // An update keeps a pending insert an insert, and remembers the version it started from.
  // The trigger names no column beyond the id, the identity and `updated_at`: SQLite refuses an
  // ALTER TABLE ... DROP COLUMN of any column a trigger names, and the app's migrations must
  // keep working (whether a change touched more than the counter is told by base_content.hpp).
  define("au", "UPDATE ON " + table,
         std::string(not_suppressed) +
             " BEGIN INSERT OR REPLACE INTO ruxx_sync_changes (table_name, row_id, row_key, op, "
             "origin, base_updated_at) VALUES (" + lit + ", NEW.id, " +
             identity_expression(t.name, "NEW") + ", CASE WHEN " + pending_insert +
             " THEN 'insert' ELSE 'update' END, 'local', CASE WHEN " + pending_insert +
             " THEN NULL ELSE COALESCE((SELECT base_updated_at FROM ruxx_sync_changes WHERE "
             "table_name = " + lit + " AND row_id = OLD.id), OLD.updated_at) END); END");
  // A delete of a row the master never saw is simply forgotten; otherwise it is a tombstone that
  // carries the version it deleted (the base of an edit made before it, or the row's own), so
  // the master can tell a version of the row the depot never saw (docs/SYNC_DESIGN.md).
  define("ad", "DELETE ON " + table,
         std::string(not_suppressed) +
             " BEGIN INSERT OR REPLACE INTO ruxx_sync_changes (table_name, row_id, row_key, op, "
             "origin, base_updated_at) SELECT " + lit + ", OLD.id, " +
             identity_expression(t.name, "OLD") +
             ", 'delete', 'local', COALESCE((SELECT base_updated_at FROM ruxx_sync_changes "
             "WHERE table_name = " + lit + " AND row_id = OLD.id), OLD.updated_at) WHERE NOT " +
             pending_insert +
             "; DELETE FROM ruxx_sync_changes WHERE table_name = " + lit +
             " AND row_id = OLD.id AND op = 'insert'; DELETE FROM ruxx_sync_counter_deltas WHERE "
             "table_name = " + lit + " AND row_id = OLD.id; END");
  if (!t.counter_column.empty()) {
    const std::string col = db::quote_identifier(t.counter_column);
    define("counter", "UPDATE OF " + col + " ON " + table,
           std::string(not_suppressed) + " AND NEW." + col + " IS NOT OLD." + col +
               " BEGIN INSERT INTO ruxx_sync_counter_deltas (table_name, row_id, column, delta) "
               "VALUES (" + lit + ", NEW.id, " + sql_literal(t.counter_column) + ", NEW." + col +
               " - OLD." + col + ") ON CONFLICT (table_name, row_id, column) DO UPDATE SET "
               "delta = delta + excluded.delta; END");
  }
  return out;
}

std::vector<trigger_definition> triggers_for(const tables::table_descriptor& t, node_role role) {
  return role == node_role::master ? master_triggers(t) : slave_triggers(t);
}

// Every ruxx-sync trigger in the database: name -> its CREATE statement.
std::map<std::string, std::string> existing_triggers(db::connection& conn) {
  std::map<std::string, std::string> out;
  auto st = conn.prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND name "
                         "LIKE 'ruxx\\_sync\\_%' ESCAPE '\\'");
  while (st.step()) out.emplace(st.column_string(0), st.column_string(1));
  return out;
}

}  // namespace

std::string identity_expression(std::string_view table, std::string_view row_alias) {
  const auto* d = tables::find_table(table);
  const std::string_view column = d ? d->identity_column : std::string_view("id");
  return "CAST(" + std::string(row_alias) + "." + db::quote_identifier(column) + " AS TEXT)";
}

namespace {

// install_change_capture inside the caller's transaction.
void replace_triggers(db::connection& conn, node_role role) {
  for (const auto& [name, sql] : existing_triggers(conn)) {
    conn.execute("DROP TRIGGER IF EXISTS " + db::quote_identifier(name));
  }
  for (const auto& t : tables::all_tables()) {
    if (!conn.has_table(t.name)) continue;
    for (const auto& trigger : triggers_for(t, role)) conn.execute(trigger.sql);
  }
}

}  // namespace

void install_change_capture(db::connection& conn, node_role role) {
  db::transaction tx(conn);
  replace_triggers(conn, role);
  tx.commit();
}

std::vector<std::string> missing_capture_triggers(db::connection& conn, node_role role) {
  const auto present = existing_triggers(conn);
  std::vector<std::string> missing;
  for (const auto& t : tables::all_tables()) {
    for (auto& trigger : triggers_for(t, role)) {
      if (!present.contains(trigger.name)) missing.push_back(std::move(trigger.name));
    }
  }
  // A trigger set of the other role (a copied database) counts as incomplete too.
  if (role == node_role::master) {
    for (const auto& [name, sql] : present) {
      if (name.ends_with("_counter")) missing.push_back("(slave trigger present) " + name);
    }
  }
  return missing;
}

std::vector<std::string> outdated_capture_triggers(db::connection& conn, node_role role) {
  const auto present = existing_triggers(conn);
  std::vector<std::string> outdated;
  for (const auto& t : tables::all_tables()) {
    for (auto& trigger : triggers_for(t, role)) {
      const auto found = present.find(trigger.name);
      if (found != present.end() && found->second != trigger.sql) {
        outdated.push_back(std::move(trigger.name));
      }
    }
  }
  return outdated;
}

bool lacks_capture(const std::vector<std::string>& missing, std::string_view table,
                   captured_writes writes) {
  const auto lacks = [&](std::string_view suffix) {
    return std::find(missing.begin(), missing.end(), trigger_name(table, suffix)) !=
           missing.end();
  };
  return writes == captured_writes::deletes ? lacks("ad") : lacks("ai") || lacks("au");
}

capture_repair repair_master_capture(db::connection& conn, bool log_rows) {
  capture_repair repair;
  db::transaction tx(conn);
  repair.missing = missing_capture_triggers(conn, node_role::master);
  repair.outdated = outdated_capture_triggers(conn, node_role::master);
  if (repair.missing.empty() && repair.outdated.empty()) return repair;
  replace_triggers(conn, node_role::master);
  for (const auto& t : tables::all_tables()) {
    if (!log_rows || !conn.has_table(t.name)) continue;
    const std::string table = db::quote_identifier(t.name);
    if (lacks_capture(repair.missing, t.name, captured_writes::row_writes)) {
      auto st = conn.prepare("INSERT OR REPLACE INTO ruxx_sync_changes (table_name, row_id, "
                             "row_key, op, origin) SELECT ?, id, " +
                             identity_expression(t.name, table) + ", 'update', 'local' FROM " +
                             table + " ORDER BY id");
      st.bind(1, t.name);
      st.run();
      repair.rows_logged += static_cast<std::size_t>(conn.changes());
    }
    if (lacks_capture(repair.missing, t.name, captured_writes::deletes)) {
      // A row the log names as present (every delete captured turns its entry into a
      // tombstone) that is gone was deleted while the trigger was missing: its tombstone now.
      // The identity is the one logged with the row's last captured change.
      auto st = conn.prepare(
          "INSERT OR REPLACE INTO ruxx_sync_changes (table_name, row_id, row_key, op, origin) "
          "SELECT c.table_name, c.row_id, c.row_key, 'delete', 'local' FROM ruxx_sync_changes c "
          "WHERE c.table_name = ? AND c.op <> 'delete' AND NOT EXISTS (SELECT 1 FROM " + table +
          " r WHERE r.id = c.row_id) ORDER BY c.row_id");
      st.bind(1, t.name);
      st.run();
      repair.tombstones_logged += static_cast<std::size_t>(conn.changes());
    }
  }
  tx.commit();
  return repair;
}

void remove_change_capture(db::connection& conn) {
  db::transaction tx(conn);
  for (const auto& [name, sql] : existing_triggers(conn)) {
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

// Entries per statement: the batch_inserter's rows per INSERT, so one record() is one statement.
constexpr std::size_t max_entries_per_statement = 64;

insert_capture::insert_capture(db::connection& conn, std::string table_name)
    : conn_(conn), table_name_(std::move(table_name)) {}

insert_capture::~insert_capture() = default;

void insert_capture::set_suppress(bool suppress) {
  conn_.reusable(suppress ? "UPDATE ruxx_sync_capture SET suppress = 1 WHERE id = 1"
                          : "UPDATE ruxx_sync_capture SET suppress = 0 WHERE id = 1")
      ->run();
}

insert_capture::trigger_hold::trigger_hold(insert_capture& capture) : capture_(capture) {
  capture_.set_suppress(true);
}

insert_capture::trigger_hold::~trigger_hold() {
  try {
    capture_.set_suppress(false);
  } catch (...) {
    // The transaction is failing and will be rolled back; the row keeps its committed default.
  }
}

std::shared_ptr<db::statement> insert_capture::record_statement(std::size_t rows) {
  std::string sql =
      "INSERT OR REPLACE INTO ruxx_sync_changes (table_name, row_id, row_key, op, origin) "
      "SELECT ?1, v.column1, v.column2, 'insert', c.origin FROM (VALUES ";
  for (std::size_t r = 0; r < rows; ++r) {
    if (r > 0) sql += ", ";
    sql += "(?" + std::to_string(2 + 2 * r) + ", ?" + std::to_string(3 + 2 * r) + ")";
  }
  sql += ") AS v, ruxx_sync_capture AS c WHERE c.id = 1";
  return conn_.reusable(sql);  // compiled once per connection
}

void insert_capture::record(std::span<const std::pair<std::int64_t, std::string>> rows) {
  for (std::size_t first = 0; first < rows.size(); first += max_entries_per_statement) {
    const auto count = std::min(max_entries_per_statement, rows.size() - first);
    const auto st = record_statement(count);
    st->bind(1, table_name_);
    for (std::size_t r = 0; r < count; ++r) {
      const auto& [id, key] = rows[first + r];
      st->bind(static_cast<int>(2 + 2 * r), id).bind(static_cast<int>(3 + 2 * r), key);
    }
    st->run();
  }
}

}  // namespace synccore::sync
