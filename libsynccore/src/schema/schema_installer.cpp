#include <synccore/schema/schema_installer.hpp>

#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/db/transaction.hpp>
#include <synccore/schema/embedded_schema.hpp>

#include <array>
#include <charconv>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace synccore::schema {

namespace {

// Apply order of tables::all_tables(), then the PHP module's sync_logs. Kept here as plain names
// (and checked against the descriptors by the tests) so the installer has no other dependency.
constexpr std::array<std::string_view, 6> required_tables{
    "users", "inventory", "transactions", "inventory_adjustments", "company_settings", "sync_logs"};

// One object of the reference schema: what app_tables.sql creates, as SQLite stored it.
struct schema_object {
  std::string type;  // "table" or "index"
  std::string name;
  std::string tbl_name;  // the table an index belongs to (the table itself for a table)
  std::string sql;
};

// Runs app_tables.sql in a private in-memory database and returns what it created, in creation
// order. Re-executing an object's stored `sql` reproduces the same sqlite_schema text, so this
// is the exact DDL of each table and index without parsing SQL ourselves.
std::vector<schema_object> reference_app_schema() {
  db::open_options options;
  options.wal = false;
  db::connection mem(":memory:", options);
  mem.execute(app_tables_sql());
  auto st = mem.prepare(
      "SELECT type, name, tbl_name, sql FROM sqlite_schema "
      "WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid");
  std::vector<schema_object> out;
  while (st.step()) {
    out.push_back(
        {st.column_string(0), st.column_string(1), st.column_string(2), st.column_string(3)});
  }
  return out;
}

// SQLite resolves names case-insensitively (ASCII), so "Users" blocks creating "users".
bool object_exists(db::connection& conn, std::string_view type, std::string_view name) {
  auto st = conn.prepare(
      "SELECT 1 FROM sqlite_schema WHERE type = ?1 AND name = ?2 COLLATE NOCASE LIMIT 1");
  st.bind(1, type).bind(2, name);
  return st.step();
}

void apply_v1(db::connection& conn) { conn.execute(sync_tables_sql()); }

// Version 2: ruxx_sync_changes.op was checked with `op IN ('insert', 'update', 'delete')`, which
// SQLite evaluates through an ephemeral table built anew on every insert a capture trigger
// makes: a third of the master's work per pushed row (docs/PERFORMANCE.md). The same rule as
// comparisons costs nothing. A CHECK cannot be altered in place, so the table is rebuilt with
// its rows, seq values and AUTOINCREMENT high-water mark; the triggers that write it are put
// back exactly as they were, in the same transaction, so no write goes uncaptured.
void apply_v2(db::connection& conn) {
  std::vector<std::string> triggers;
  {
    auto st = conn.prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND "
                           "sql LIKE '%ruxx_sync_changes%'");
    std::vector<std::string> names;
    while (st.step()) {
      names.push_back(st.column_string(0));
      triggers.push_back(st.column_string(1));
    }
    st.reset();
    for (const auto& name : names) conn.execute("DROP TRIGGER " + db::quote_identifier(name));
  }
  std::int64_t high_water = 0;
  {
    auto st = conn.prepare(
        "SELECT max(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'ruxx_sync_changes'), "
        "0), COALESCE((SELECT max(seq) FROM ruxx_sync_changes), 0))");
    st.step();
    high_water = st.column_int64(0);
  }
  conn.execute(
      "CREATE TABLE ruxx_sync_changes_v2 ("
      "seq INTEGER PRIMARY KEY AUTOINCREMENT, "
      "table_name TEXT NOT NULL, "
      "row_id INTEGER NOT NULL, "
      "row_key TEXT NOT NULL, "
      "op TEXT NOT NULL CHECK (op = 'insert' OR op = 'update' OR op = 'delete'), "
      "origin TEXT NOT NULL DEFAULT 'local', "
      "base_updated_at TEXT, "
      "UNIQUE (table_name, row_id))");
  // Copied only when there is something to copy: even an empty INSERT ... SELECT would leave a
  // sqlite_sequence row behind.
  if (high_water > 0) {
    conn.execute(
        "INSERT INTO ruxx_sync_changes_v2 (seq, table_name, row_id, row_key, op, origin, "
        "base_updated_at) SELECT seq, table_name, row_id, row_key, op, origin, base_updated_at "
        "FROM ruxx_sync_changes ORDER BY seq");
  }
  conn.execute(
      "DROP TABLE ruxx_sync_changes;"
      "ALTER TABLE ruxx_sync_changes_v2 RENAME TO ruxx_sync_changes;"
      "CREATE INDEX ruxx_sync_changes_table_seq ON ruxx_sync_changes (table_name, seq);");
  if (high_water > 0) {
    auto st = conn.prepare(
        "INSERT INTO sqlite_sequence (name, seq) SELECT 'ruxx_sync_changes', ?1 WHERE NOT EXISTS "
        "(SELECT 1 FROM sqlite_sequence WHERE name = 'ruxx_sync_changes')");
    st.bind(1, high_water);
    st.run();
    auto raise = conn.prepare(
        "UPDATE sqlite_sequence SET seq = max(seq, ?1) WHERE name = 'ruxx_sync_changes'");
    raise.bind(1, high_water);
    raise.run();
  }
  for (const auto& sql : triggers) conn.execute(sql);
}

// Version 3: whether a slave's pending change touched more than a counter column. A pending
// inventory change made only by sales is pushed as its stock delta alone, so a price the master
// changed meanwhile is not reported as the depot's losing version. Entries that exist already
// count as content changes (what every change was before).
void apply_v3(db::connection& conn) {
  conn.execute(
      "ALTER TABLE ruxx_sync_changes ADD COLUMN content_changed INTEGER NOT NULL DEFAULT 1");
}

// Version 4: the slave's base content per row of a table with a counter column
// (sync/base_content.hpp), which replaces the capture trigger that named every inventory column
// to fill content_changed (SQLite then refused the app's migrations dropping one of them).
// content_changed stays, unused: rebuilding the change log only to drop it would gain nothing.
void apply_v4(db::connection& conn) {
  conn.execute(
      "CREATE TABLE IF NOT EXISTS ruxx_sync_base_content ("
      "table_name TEXT NOT NULL, row_id INTEGER NOT NULL, content TEXT NOT NULL, "
      "PRIMARY KEY (table_name, row_id)) WITHOUT ROWID");
}

constexpr std::array<sync_migration, 4> migrations{{
    {1, "bookkeeping tables of schema/sync_tables.sql", &apply_v1},
    {2, "ruxx_sync_changes.op checked by comparisons instead of an IN list", &apply_v2},
    {3, "ruxx_sync_changes.content_changed: counter-only changes pushed as deltas", &apply_v3},
    {4, "ruxx_sync_base_content: counter-only changes told without naming columns in triggers",
     &apply_v4},
}};

void check_migrations(std::span<const sync_migration> list) {
  if (list.empty()) throw std::logic_error("sync schema migration list is empty");
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (list[i].version != static_cast<int>(i) + 1 || list[i].apply == nullptr) {
      throw std::logic_error("sync schema migrations must be numbered 1, 2, ... in order");
    }
  }
}

}  // namespace

std::span<const std::string_view> synced_app_tables() noexcept { return required_tables; }

std::vector<std::string> missing_synced_tables(db::connection& conn) {
  std::vector<std::string> missing;
  for (const auto table : required_tables) {
    if (!object_exists(conn, "table", table)) missing.emplace_back(table);
  }
  return missing;
}

bool has_all_synced_tables(db::connection& conn) { return missing_synced_tables(conn).empty(); }

bool ensure_app_tables(db::connection& conn) {
  const auto reference = reference_app_schema();
  db::transaction tx(conn);

  bool any_app_table = false;
  for (const auto& object : reference) {
    if (object.type == "table" && object_exists(conn, "table", object.name)) {
      any_app_table = true;
      break;
    }
  }
  if (!any_app_table) {
    conn.execute(app_tables_sql());
    tx.commit();
    return true;
  }

  std::vector<std::string_view> created;
  for (const auto table : required_tables) {
    if (object_exists(conn, "table", table)) continue;
    for (const auto& object : reference) {
      if (object.type == "table" && object.name == table) {
        conn.execute(object.sql);
        created.push_back(table);
      }
    }
  }
  for (const auto& object : reference) {
    if (object.type != "index") continue;
    bool ours = false;
    for (const auto table : created) ours = ours || object.tbl_name == table;
    if (ours && !object_exists(conn, "index", object.name)) conn.execute(object.sql);
  }
  tx.commit();
  return !created.empty();
}

std::span<const sync_migration> sync_migrations() noexcept { return migrations; }

int latest_sync_schema_version() noexcept { return migrations.back().version; }

int read_sync_schema_version(db::connection& conn) {
  if (!object_exists(conn, "table", "ruxx_sync_meta")) return 0;
  auto st = conn.prepare("SELECT value FROM ruxx_sync_meta WHERE key = 'schema_version'");
  if (!st.step()) return 0;
  const std::string text = st.column_string(0);
  int version = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, version);
  if (ec != std::errc{} || ptr != end || version < 0) {
    throw schema_version_error("ruxx_sync_meta.schema_version is not a version number: '" + text +
                               "'");
  }
  return version;
}

void ensure_sync_tables(db::connection& conn) { ensure_sync_tables(conn, migrations); }

void ensure_sync_tables(db::connection& conn, std::span<const sync_migration> list) {
  check_migrations(list);
  const int latest = list.back().version;
  db::transaction tx(conn);
  const int current = read_sync_schema_version(conn);
  if (current > latest) {
    throw schema_version_error("database " + conn.path().string() +
                               " has ruxx-sync schema version " + std::to_string(current) +
                               ", newer than this build supports (" + std::to_string(latest) +
                               "); refusing to downgrade it: upgrade ruxx-sync");
  }
  if (current == latest) return;  // nothing to do; the destructor ends the empty transaction
  for (const auto& migration : list) {
    if (migration.version > current) migration.apply(conn);
  }
  auto st = conn.prepare(
      "INSERT INTO ruxx_sync_meta (key, value) VALUES ('schema_version', ?1) "
      "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  st.bind(1, std::to_string(latest));
  st.run();
  tx.commit();
}

}  // namespace synccore::schema
