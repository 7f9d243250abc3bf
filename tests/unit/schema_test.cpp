// Schema installer: app tables from the embedded app_tables.sql (exactly the real app's schema),
// only-missing synced tables, versioned bookkeeping migrations, and app data never touched.
#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/schema/embedded_schema.hpp>
#include <synccore/db/sqlite_error.hpp>
#include <synccore/schema/schema_installer.hpp>
#include <synccore/sync/change_capture.hpp>
#include <synccore/tables/table_descriptor.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "temp_dir.hpp"

using synccore::db::connection;
namespace db = synccore::db;
namespace schema = synccore::schema;


namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string fixture_sql() {
  return read_file(std::string(RUXX_FIXTURES_DIR) + "/laravel_schema.sql");
}

// type|name|tbl_name|sql of every schema object, in creation order, optionally without ours.
std::vector<std::string> schema_rows(connection& c, bool without_bookkeeping = false) {
  auto st = c.prepare(
      "SELECT type, name, tbl_name, ifnull(sql, '') FROM sqlite_schema "
      "ORDER BY rowid");
  std::vector<std::string> out;
  while (st.step()) {
    const std::string name = st.column_string(1);
    const std::string table = st.column_string(2);
    if (without_bookkeeping && table.rfind("ruxx_sync_", 0) == 0) continue;
    out.push_back(st.column_string(0) + "|" + name + "|" + table + "|" + st.column_string(3));
  }
  return out;
}

// Every row of every non-bookkeeping table (sqlite_sequence included), values tagged with their
// storage class so 1, 1.0 and '1' differ.
std::vector<std::string> data_rows(connection& c) {
  std::vector<std::string> tables;
  {
    auto st = c.prepare(
        "SELECT name FROM sqlite_schema WHERE type = 'table' "
        "AND name NOT LIKE 'ruxx\\_sync\\_%' ESCAPE '\\' ORDER BY name");
    while (st.step()) tables.push_back(st.column_string(0));
  }
  std::vector<std::string> out;
  for (const auto& t : tables) {
    auto st = c.prepare("SELECT * FROM " + synccore::db::quote_identifier(t) + " ORDER BY rowid");
    while (st.step()) {
      std::string row = t + ":";
      for (int i = 0; i < st.column_count(); ++i) {
        row +=
            "|" + std::to_string(static_cast<int>(st.column_type(i))) + ":" + st.column_string(i);
      }
      out.push_back(row);
    }
  }
  return out;
}

long long count(connection& c, const std::string& sql) {
  auto st = c.prepare(sql);
  REQUIRE(st.step());
  return st.column_int64(0);
}

void fill_every_app_table(connection& c) {
  const std::string ts = "'2026-11-24 15:28:49'";
  c.execute("INSERT INTO migrations (migration, batch) "
            "VALUES ('2014_10_12_000000_create_users_table', 1)");
  c.execute("INSERT INTO users (name, email, password, role, is_active, remember_token, "
            "created_at, updated_at) VALUES "
            "('Chiké Admin', 'admin@x.test', '$2y$10$abc', 'admin', 1, 'tok', " + ts + ", " +
            ts + "), ('Cashier', 'c@x.test', '$2y$10$def', 'cashier', 0, NULL, " + ts + ", " +
            ts + ")");
  c.execute("INSERT INTO password_reset_tokens (email, token, created_at) "
            "VALUES ('c@x.test', 't', " + ts + ")");
  c.execute("INSERT INTO sessions (id, user_id, ip_address, user_agent, payload, last_activity) "
            "VALUES ('s1', 1, '127.0.0.1', 'curl', 'p', 1700000000)");
  c.execute("INSERT INTO inventory (current_stock, minimum_stock, price_per_kg, notes, "
            "created_at, updated_at) VALUES (1250.25, 100, '850.50', '₦ note', " + ts + ", " +
            ts + ")");
  c.execute("INSERT INTO transactions (transaction_number, cashier_id, quantity_kg, "
            "price_per_kg, total_amount, customer_name, customer_phone, notes, status, "
            "created_at, updated_at, payment_type) VALUES ('TXN-20261124-FSFKFL', 2, 12.5, "
            "850.5, 10631.25, 'Ada', '+2348000000001', NULL, 'completed', " + ts + ", " + ts +
            ", 'card')");
  c.execute("INSERT INTO inventory_adjustments (user_id, type, quantity_kg, previous_stock, "
            "new_stock, reason, notes, created_at, updated_at) VALUES (1, 'addition', 250.25, "
            "1000, 1250.25, 'Delivery', 'truck #1', " + ts + ", " + ts + ")");
  c.execute("INSERT INTO company_settings (company_address, smtp_host, smtp_port, "
            "smtp_password, created_at, updated_at) VALUES ('123 Gas Plant Street', "
            "'smtp.mailtrap.io', 2525, 'secret', " + ts + ", " + ts + ")");
  c.execute("INSERT INTO sync_logs (table_name, last_synced_at, created_at, updated_at) "
            "VALUES ('transactions', " + ts + ", " + ts + ", " + ts + ")");
}

// The released migrations followed by `step` as the next version.
std::vector<schema::sync_migration> released_plus(const char* what, void (*step)(connection&)) {
  std::vector<schema::sync_migration> list(schema::sync_migrations().begin(),
                                           schema::sync_migrations().end());
  list.push_back({schema::latest_sync_schema_version() + 1, what, step});
  return list;
}

void bump_to_v2(connection& c) {
  c.execute("CREATE TABLE ruxx_sync_test_v2 (n INTEGER); INSERT INTO ruxx_sync_test_v2 VALUES (1)");
}
void failing_v2(connection& c) {
  c.execute("CREATE TABLE ruxx_sync_test_fail (n INTEGER)");
  c.execute("INSERT INTO no_such_table VALUES (1)");
}

}  // namespace

TEST_CASE("the embedded app schema is the fixture verbatim", "[schema]") {
  CHECK(std::string(schema::app_tables_sql()) == fixture_sql());
  CHECK(std::string(schema::app_tables_sql()) ==
        read_file(std::string(RUXX_SCHEMA_DIR) + "/app_tables.sql"));
  CHECK(std::string(schema::sync_tables_sql()) ==
        read_file(std::string(RUXX_SCHEMA_DIR) + "/sync_tables.sql"));
}

TEST_CASE("a fresh file gets exactly the real app's schema", "[schema]") {
  ruxx_test::temp_dir dir;
  connection reference(dir / "reference.sqlite");
  reference.execute(fixture_sql());

  connection fresh(dir / "fresh.sqlite");
  CHECK(schema::missing_synced_tables(fresh).size() == schema::synced_app_tables().size());
  CHECK_FALSE(schema::has_all_synced_tables(fresh));
  CHECK(schema::ensure_app_tables(fresh));
  CHECK(schema_rows(fresh) == schema_rows(reference));
  CHECK(schema::has_all_synced_tables(fresh));
  CHECK(schema::missing_synced_tables(fresh).empty());

  SECTION("a second call creates nothing") {
    CHECK_FALSE(schema::ensure_app_tables(fresh));
    CHECK(schema_rows(fresh) == schema_rows(reference));
  }
  SECTION("identical to the sqlite3 shell's result, when the shell is installed") {
    if (std::system("command -v sqlite3 >/dev/null 2>&1") != 0) {
      WARN("sqlite3 shell not installed: comparison with the shell skipped");
      return;
    }
    const auto shell_db = (dir / "shell.sqlite").string();
    const std::string cmd =
        "sqlite3 '" + shell_db + "' < '" + RUXX_FIXTURES_DIR + "/laravel_schema.sql'";
    REQUIRE(std::system(cmd.c_str()) == 0);
    connection shell(shell_db);
    CHECK(schema_rows(fresh) == schema_rows(shell));
  }
}

TEST_CASE("a file with only foreign tables still counts as fresh", "[schema]") {
  ruxx_test::temp_dir dir;
  connection reference(dir / "reference.sqlite");
  reference.execute(fixture_sql());
  connection c(dir / "a.sqlite");
  c.execute("CREATE TABLE other (x INTEGER); INSERT INTO other VALUES (7)");
  CHECK(schema::ensure_app_tables(c));
  auto rows = schema_rows(c);
  REQUIRE(rows.front() == "table|other|other|CREATE TABLE other (x INTEGER)");
  rows.erase(rows.begin());
  CHECK(rows == schema_rows(reference));
  CHECK(count(c, "SELECT x FROM other") == 7);
}

TEST_CASE("only the missing synced tables are created with their indexes", "[schema]") {
  ruxx_test::temp_dir dir;
  connection reference(dir / "reference.sqlite");
  reference.execute(fixture_sql());
  const auto expected = schema_rows(reference);

  connection c(dir / "a.sqlite");
  c.execute(fixture_sql());
  fill_every_app_table(c);
  c.execute("PRAGMA foreign_keys = OFF");
  c.execute("DROP TABLE transactions; DROP TABLE company_settings; DROP TABLE sync_logs");
  c.execute("PRAGMA foreign_keys = ON");
  // An app that altered a table later: the installer must not "fix" it.
  c.execute("ALTER TABLE users ADD COLUMN phone varchar");
  const auto users_sql_before = schema_rows(c);
  const auto data_before = data_rows(c);

  CHECK(schema::missing_synced_tables(c) ==
        std::vector<std::string>{"transactions", "company_settings", "sync_logs"});
  CHECK(schema::ensure_app_tables(c));
  CHECK(schema::missing_synced_tables(c).empty());

  // Every object of the reference schema now exists with the same SQL...
  const auto after = schema_rows(c);
  for (const auto& row : expected) {
    if (row.rfind("table|users|", 0) == 0) continue;  // altered by the app, see below
    CHECK(std::find(after.begin(), after.end(), row) != after.end());
  }
  // ...the objects that existed are unchanged and in place, and no data moved.
  for (std::size_t i = 0; i < users_sql_before.size(); ++i) CHECK(after[i] == users_sql_before[i]);
  CHECK(after.size() == expected.size());
  CHECK(count(c, "SELECT count(*) FROM pragma_table_info('users') WHERE name = 'phone'") == 1);
  CHECK(data_rows(c) == data_before);
  CHECK(count(c,
              "SELECT count(*) FROM sqlite_schema WHERE tbl_name = 'transactions' "
              "AND type = 'index'") == 3);
  CHECK_FALSE(schema::ensure_app_tables(c));
}

TEST_CASE("Laravel's own unsynced tables are not created into an existing app", "[schema]") {
  ruxx_test::temp_dir dir;
  connection c(dir / "a.sqlite");
  c.execute(R"(CREATE TABLE "sessions" ("id" varchar not null, "payload" text not null, )"
            R"(primary key ("id")))");
  CHECK(schema::ensure_app_tables(c));
  CHECK(schema::has_all_synced_tables(c));
  CHECK_FALSE(c.has_table("migrations"));
  CHECK_FALSE(c.has_table("password_reset_tokens"));
  CHECK(count(c, "SELECT count(*) FROM pragma_table_info('sessions')") == 2);
}

TEST_CASE("a table whose name differs only in case is not recreated", "[schema]") {
  ruxx_test::temp_dir dir;
  connection c(dir / "a.sqlite");
  c.execute(fixture_sql());
  c.execute("PRAGMA foreign_keys = OFF; DROP TABLE sync_logs; CREATE TABLE SYNC_LOGS (x)");
  CHECK(schema::missing_synced_tables(c).empty());
  CHECK_FALSE(schema::ensure_app_tables(c));
}

TEST_CASE("the required tables are the descriptors' tables plus sync_logs", "[schema]") {
  const auto required = schema::synced_app_tables();
  const auto tables = synccore::tables::all_tables();
  REQUIRE(required.size() == tables.size() + 1);
  for (std::size_t i = 0; i < tables.size(); ++i) CHECK(required[i] == tables[i].name);
  CHECK(required.back() == "sync_logs");
}

TEST_CASE("bookkeeping tables are installed once and versioned", "[schema]") {
  ruxx_test::temp_dir dir;
  connection c(dir / "a.sqlite");
  CHECK(schema::read_sync_schema_version(c) == 0);
  schema::ensure_sync_tables(c);
  CHECK(schema::latest_sync_schema_version() == 4);
  CHECK(schema::read_sync_schema_version(c) == 4);
  CHECK(count(c, "SELECT count(*) FROM pragma_table_info('ruxx_sync_changes') WHERE name = "
                 "'content_changed' AND dflt_value = '1' AND \"notnull\" = 1") == 1);
  for (const char* t :
       {"ruxx_sync_meta", "ruxx_sync_capture", "ruxx_sync_changes", "ruxx_sync_counter_deltas",
        "ruxx_sync_conflicts", "ruxx_sync_cursors", "ruxx_sync_outbox", "ruxx_sync_nodes",
        "ruxx_sync_batches", "ruxx_sync_id_map", "ruxx_sync_base_content"}) {
    INFO(t);
    CHECK(c.has_table(t));
  }
  CHECK(
      count(c, "SELECT count(*) FROM ruxx_sync_capture WHERE suppress = 0 AND origin = 'local'") ==
      1);
  CHECK_FALSE(c.in_transaction());

  const auto before = schema_rows(c);
  schema::ensure_sync_tables(c);
  CHECK(schema_rows(c) == before);
  CHECK(count(c, "SELECT count(*) FROM ruxx_sync_meta WHERE key = 'schema_version'") == 1);
  CHECK_FALSE(c.in_transaction());
}

TEST_CASE("a newer bookkeeping schema is refused and never downgraded", "[schema]") {
  ruxx_test::temp_dir dir;
  connection c(dir / "a.sqlite");
  schema::ensure_sync_tables(c);
  c.execute("UPDATE ruxx_sync_meta SET value = '7' WHERE key = 'schema_version'");
  c.execute("DELETE FROM ruxx_sync_capture");
  try {
    schema::ensure_sync_tables(c);
    FAIL("expected schema_version_error");
  } catch (const schema::schema_version_error& e) {
    const std::string what = e.what();
    CHECK(what.find("version 7") != std::string::npos);
    CHECK(what.find("newer") != std::string::npos);
  }
  CHECK(schema::read_sync_schema_version(c) == 7);
  CHECK(count(c, "SELECT count(*) FROM ruxx_sync_capture") == 0);  // v1 was not re-run
  CHECK_FALSE(c.in_transaction());

  c.execute("UPDATE ruxx_sync_meta SET value = 'one' WHERE key = 'schema_version'");
  CHECK_THROWS_AS(schema::read_sync_schema_version(c), schema::schema_version_error);
  CHECK_THROWS_AS(schema::ensure_sync_tables(c), schema::schema_version_error);
}

TEST_CASE("later migrations apply only their own steps and only once", "[schema]") {
  ruxx_test::temp_dir dir;
  connection c(dir / "a.sqlite");
  schema::ensure_sync_tables(c);
  c.execute("DELETE FROM ruxx_sync_capture");  // would come back if version 1 ran again

  const auto next = schema::latest_sync_schema_version() + 1;
  const auto v2 = released_plus("test step", &bump_to_v2);
  schema::ensure_sync_tables(c, v2);
  CHECK(schema::read_sync_schema_version(c) == next);
  CHECK(count(c, "SELECT count(*) FROM ruxx_sync_test_v2") == 1);
  CHECK(count(c, "SELECT count(*) FROM ruxx_sync_capture") == 0);
  schema::ensure_sync_tables(c, v2);
  CHECK(count(c, "SELECT count(*) FROM ruxx_sync_test_v2") == 1);

  // The released build now refuses this database.
  CHECK_THROWS_AS(schema::ensure_sync_tables(c), schema::schema_version_error);

  SECTION("a fresh database runs every step in order") {
    connection f(dir / "fresh.sqlite");
    schema::ensure_sync_tables(f, v2);
    CHECK(schema::read_sync_schema_version(f) == next);
    CHECK(count(f, "SELECT count(*) FROM ruxx_sync_capture") == 1);
    CHECK(count(f, "SELECT count(*) FROM ruxx_sync_test_v2") == 1);
  }
}

TEST_CASE("a failing migration leaves the database as it was", "[schema]") {
  ruxx_test::temp_dir dir;
  connection c(dir / "a.sqlite");
  schema::ensure_sync_tables(c);
  CHECK_THROWS(schema::ensure_sync_tables(c, released_plus("fails", &failing_v2)));
  CHECK_FALSE(c.has_table("ruxx_sync_test_fail"));
  CHECK(schema::read_sync_schema_version(c) == schema::latest_sync_schema_version());
  CHECK_FALSE(c.in_transaction());
}

TEST_CASE("version 2 rebuilds the change log with its rows, seq high-water mark and triggers",
          "[schema]") {
  ruxx_test::temp_dir dir;
  connection c(dir / "a.sqlite");
  schema::ensure_app_tables(c);
  // A version 1 database as an older ruxx-sync left it, with capture triggers and a change log
  // whose newest entry was pruned (its seq must never be handed out again).
  schema::ensure_sync_tables(c, schema::sync_migrations().first(1));
  REQUIRE(schema::read_sync_schema_version(c) == 1);
  synccore::sync::install_change_capture(c, synccore::sync::node_role::slave);
  c.execute("INSERT INTO users (id, name, email, password, created_at, updated_at) VALUES "
            "(1, 'A', 'a@x', 'h', '2026-11-01 08:00:00', '2026-11-01 08:00:00'), "
            "(2, 'B', 'b@x', 'h', '2026-11-01 08:00:00', '2026-11-01 08:00:00'), "
            "(3, 'C', 'c@x', 'h', '2026-11-01 08:00:00', '2026-11-01 08:00:00')");
  c.execute("UPDATE ruxx_sync_changes SET base_updated_at = 'base' WHERE row_id = 2");
  c.execute("DELETE FROM ruxx_sync_changes WHERE row_id = 3");
  const auto entries = [&] {
    std::vector<std::string> out;
    auto st = c.prepare("SELECT seq || '|' || table_name || '|' || row_id || '|' || row_key || "
                        "'|' || op || '|' || origin || '|' || COALESCE(base_updated_at, '-') "
                        "FROM ruxx_sync_changes ORDER BY seq");
    while (st.step()) out.push_back(st.column_string(0));
    return out;
  };
  const auto before = entries();
  REQUIRE(before.size() == 2);
  const auto trigger_sql = [&] {
    std::vector<std::string> out;
    auto st = c.prepare("SELECT name || ':' || sql FROM sqlite_schema WHERE type = 'trigger' "
                        "ORDER BY name");
    while (st.step()) out.push_back(st.column_string(0));
    return out;
  };
  const auto triggers_before = trigger_sql();

  schema::ensure_sync_tables(c);
  CHECK(schema::read_sync_schema_version(c) == schema::latest_sync_schema_version());
  CHECK(entries() == before);
  CHECK(trigger_sql() == triggers_before);
  CHECK(synccore::sync::missing_capture_triggers(c, synccore::sync::node_role::slave).empty());
  CHECK(count(c, "SELECT count(*) FROM sqlite_schema WHERE sql LIKE '%IN (''insert''%' AND "
                 "name = 'ruxx_sync_changes'") == 0);
  CHECK(count(c, "SELECT count(*) FROM sqlite_schema WHERE name = "
                 "'ruxx_sync_changes_table_seq'") == 1);
  // Capture still works, past the pruned entry's seq, and the op rule still holds.
  c.execute("INSERT INTO users (id, name, email, password, created_at, updated_at) VALUES "
            "(4, 'D', 'd@x', 'h', '2026-11-01 08:00:00', '2026-11-01 08:00:00')");
  CHECK(count(c, "SELECT seq FROM ruxx_sync_changes WHERE row_id = 4") == 4);
  CHECK_THROWS_AS(c.execute("INSERT INTO ruxx_sync_changes (table_name, row_id, row_key, op) "
                            "VALUES ('users', 9, '9', 'upsert')"),
                  db::sqlite_error);
  auto check = c.prepare("PRAGMA integrity_check");
  REQUIRE(check.step());
  CHECK(check.column_string(0) == "ok");
}

namespace {
// An app database with the bookkeeping tables at `version` and one pending inventory update.
void at_version_with_a_pending_change(connection& c, std::size_t version) {
  schema::ensure_app_tables(c);
  schema::ensure_sync_tables(c, schema::sync_migrations().first(version));
  c.execute("INSERT INTO ruxx_sync_changes (table_name, row_id, row_key, op) VALUES "
            "('inventory', 1, '1', 'update')");
}
}  // namespace

TEST_CASE("version 3 marks the pending changes it finds as content changes", "[schema]") {
  ruxx_test::temp_dir dir;
  connection c(dir / "a.sqlite");
  at_version_with_a_pending_change(c, 2);
  schema::ensure_sync_tables(c, schema::sync_migrations().first(3));
  CHECK(schema::read_sync_schema_version(c) == 3);
  CHECK(count(c, "SELECT content_changed FROM ruxx_sync_changes WHERE row_id = 1") == 1);
}

TEST_CASE("version 4 adds the base contents and keeps the change log as it is", "[schema]") {
  ruxx_test::temp_dir dir;
  connection c(dir / "a.sqlite");
  at_version_with_a_pending_change(c, 3);
  CHECK_FALSE(c.has_table("ruxx_sync_base_content"));
  schema::ensure_sync_tables(c);
  CHECK(schema::read_sync_schema_version(c) == 4);
  CHECK(c.has_table("ruxx_sync_base_content"));
  CHECK(count(c, "SELECT count(*) FROM ruxx_sync_changes WHERE row_id = 1 AND op = 'update'") ==
        1);
  CHECK(count(c, "SELECT count(*) FROM ruxx_sync_base_content") == 0);
}

// A master set up by an older ruxx-sync has an insert trigger without the WHEN that lets a push
// write its own change-log entries: the trigger counts as outdated (not missing: it lost no
// change), and reinstalling brings the current definition.
TEST_CASE("capture triggers of an older definition are found and replaced", "[schema]") {
  namespace sync = synccore::sync;
  ruxx_test::temp_dir dir;
  connection c(dir / "m.sqlite");
  schema::ensure_app_tables(c);
  schema::ensure_sync_tables(c);
  sync::install_change_capture(c, sync::node_role::master);
  CHECK(sync::missing_capture_triggers(c, sync::node_role::master).empty());
  CHECK(sync::outdated_capture_triggers(c, sync::node_role::master).empty());
  // The insert trigger as ruxx-sync 1.0 created it.
  c.execute("DROP TRIGGER ruxx_sync_users_ai");
  c.execute("CREATE TRIGGER ruxx_sync_users_ai AFTER INSERT ON \"users\" BEGIN INSERT OR REPLACE "
            "INTO ruxx_sync_changes (table_name, row_id, row_key, op, origin) VALUES ('users', "
            "NEW.id, CAST(NEW.\"id\" AS TEXT), 'insert', (SELECT origin FROM ruxx_sync_capture "
            "WHERE id = 1)); END");
  CHECK(sync::missing_capture_triggers(c, sync::node_role::master).empty());
  CHECK(sync::outdated_capture_triggers(c, sync::node_role::master) ==
        std::vector<std::string>{"ruxx_sync_users_ai"});
  sync::install_change_capture(c, sync::node_role::master);
  CHECK(sync::outdated_capture_triggers(c, sync::node_role::master).empty());
  CHECK(count(c, "SELECT count(*) FROM sqlite_schema WHERE name = 'ruxx_sync_users_ai' AND sql "
                 "LIKE '%WHEN (SELECT suppress FROM ruxx_sync_capture WHERE id = 1) = 0 BEGIN%'") ==
        1);
  // The reinstalled trigger captures app inserts as before.
  c.execute("INSERT INTO users (id, name, email, password) VALUES (7, 'G', 'g@x', 'h')");
  CHECK(count(c, "SELECT count(*) FROM ruxx_sync_changes WHERE row_id = 7 AND op = 'insert' AND "
                 "origin = 'local'") == 1);
}

TEST_CASE("a malformed migration list is a programming error", "[schema]") {
  ruxx_test::temp_dir dir;
  connection c(dir / "a.sqlite");
  const std::vector<schema::sync_migration> gap{schema::sync_migrations().front(),
                                                {3, "gap", &bump_to_v2}};
  CHECK_THROWS_AS(schema::ensure_sync_tables(c, gap), std::logic_error);
  CHECK_THROWS_AS(schema::ensure_sync_tables(c, {}), std::logic_error);
  CHECK_FALSE(c.has_table("ruxx_sync_meta"));
}

TEST_CASE("opening an existing app database never changes app data or schema", "[schema]") {
  ruxx_test::temp_dir dir;
  connection c(dir / "app.sqlite");
  c.execute(fixture_sql());
  fill_every_app_table(c);
  for (const char* t : {"migrations", "users", "password_reset_tokens", "sessions", "inventory",
                        "transactions", "inventory_adjustments", "company_settings", "sync_logs"}) {
    INFO(t);
    REQUIRE(count(c, std::string("SELECT count(*) FROM ") + t) > 0);
  }
  const auto schema_before = schema_rows(c);
  const auto data_before = data_rows(c);

  for (int round = 0; round < 2; ++round) {
    INFO("round " << round);
    CHECK_FALSE(schema::ensure_app_tables(c));
    schema::ensure_sync_tables(c);
    CHECK(schema_rows(c, true) == schema_before);
    CHECK(data_rows(c) == data_before);
  }
  // And through a new connection, as the next process start would see it.
  connection again(dir / "app.sqlite");
  CHECK_FALSE(schema::ensure_app_tables(again));
  schema::ensure_sync_tables(again);
  CHECK(schema_rows(again, true) == schema_before);
  CHECK(data_rows(again) == data_before);
}
