// Introspection: column kinds, NOT NULL/defaults, foreign keys and referencing columns, read from
// the fixture schema with PRAGMA table_info / foreign_key_list.
#include <synccore/db/connection.hpp>
#include <synccore/schema/embedded_schema.hpp>
#include <synccore/schema/table_schema.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "temp_dir.hpp"

using synccore::db::connection;
using synccore::schema::column_kind;
using synccore::schema::kind_from_declared_type;
using synccore::schema::read_table_schema;
using synccore::schema::referencing_columns;

namespace {

using kinds = std::vector<std::pair<std::string, column_kind>>;

constexpr column_kind I = column_kind::integer;
constexpr column_kind D = column_kind::decimal;
constexpr column_kind B = column_kind::boolean;
constexpr column_kind T = column_kind::timestamp;
constexpr column_kind X = column_kind::text;

const std::map<std::string, kinds>& expected_kinds() {
  static const std::map<std::string, kinds> k{
      {"users",
       {{"id", I},
        {"name", X},
        {"email", X},
        {"email_verified_at", T},
        {"password", X},
        {"role", X},
        {"is_active", B},
        {"remember_token", X},
        {"created_at", T},
        {"updated_at", T}}},
      {"inventory",
       {{"id", I},
        {"current_stock", D},
        {"minimum_stock", D},
        {"price_per_kg", D},
        {"notes", X},
        {"created_at", T},
        {"updated_at", T}}},
      {"transactions",
       {{"id", I},
        {"transaction_number", X},
        {"cashier_id", I},
        {"quantity_kg", D},
        {"price_per_kg", D},
        {"total_amount", D},
        {"customer_name", X},
        {"customer_phone", X},
        {"notes", X},
        {"status", X},
        {"created_at", T},
        {"updated_at", T},
        {"payment_type", X}}},
      {"inventory_adjustments",
       {{"id", I},
        {"user_id", I},
        {"type", X},
        {"quantity_kg", D},
        {"previous_stock", D},
        {"new_stock", D},
        {"reason", X},
        {"notes", X},
        {"created_at", T},
        {"updated_at", T}}},
      {"company_settings",
       {{"id", I},
        {"company_name", X},
        {"company_address", X},
        {"company_phone", X},
        {"company_email", X},
        {"logo_path", X},
        {"smtp_host", X},
        {"smtp_port", I},
        {"smtp_username", X},
        {"smtp_password", X},
        {"smtp_encryption", X},
        {"created_at", T},
        {"updated_at", T}}},
      {"sync_logs",
       {{"id", I}, {"table_name", X}, {"last_synced_at", T}, {"created_at", T}, {"updated_at", T}}},
  };
  return k;
}

struct fixture_db {
  ruxx_test::temp_dir dir;
  connection conn{dir / "app.sqlite"};
  fixture_db() { conn.execute(synccore::schema::app_tables_sql()); }
};

}  // namespace

TEST_CASE("declared types map to wire kinds", "[table_schema]") {
  CHECK(kind_from_declared_type("integer") == I);
  CHECK(kind_from_declared_type("INTEGER") == I);
  CHECK(kind_from_declared_type("bigint") == I);
  CHECK(kind_from_declared_type("tinyint") == I);
  CHECK(kind_from_declared_type("tinyint(4)") == I);
  CHECK(kind_from_declared_type("tinyint(1)") == B);
  CHECK(kind_from_declared_type(" TINYINT ( 1 ) ") == B);
  CHECK(kind_from_declared_type("boolean") == B);
  CHECK(kind_from_declared_type("numeric") == D);
  CHECK(kind_from_declared_type("decimal(8, 2)") == D);
  CHECK(kind_from_declared_type("float") == D);
  CHECK(kind_from_declared_type("REAL") == D);
  CHECK(kind_from_declared_type("double precision") == D);
  CHECK(kind_from_declared_type("datetime") == T);
  CHECK(kind_from_declared_type("timestamp") == T);
  CHECK(kind_from_declared_type("DATE") == column_kind::date);  // a calendar day, not an instant
  CHECK(kind_from_declared_type("time") == X);
  CHECK(kind_from_declared_type("varchar") == X);
  CHECK(kind_from_declared_type("varchar(255)") == X);
  CHECK(kind_from_declared_type("text") == X);
  CHECK(kind_from_declared_type("") == X);
  CHECK(kind_from_declared_type("blob") == column_kind::blob);
  CHECK(kind_from_declared_type("longblob") == column_kind::blob);
}

TEST_CASE("every synced table of the fixture has the expected columns and kinds",
          "[table_schema]") {
  fixture_db db;
  for (const auto& [table, columns] : expected_kinds()) {
    INFO(table);
    const auto s = read_table_schema(db.conn, table);
    CHECK(s.name == table);
    REQUIRE(s.columns.size() == columns.size());
    for (std::size_t i = 0; i < columns.size(); ++i) {
      INFO(columns[i].first);
      CHECK(s.columns[i].name == columns[i].first);
      CHECK(s.columns[i].kind == columns[i].second);
      CHECK(s.find(columns[i].first) == &s.columns[i]);
    }
    const auto* id = s.find("id");
    REQUIRE(id != nullptr);
    CHECK(id->primary_key_position == 1);
    CHECK(id->rowid_alias);
    CHECK(id->not_null);
    CHECK_FALSE(id->required_on_insert());
  }
}

TEST_CASE("NOT NULL and defaults decide required_on_insert", "[table_schema]") {
  fixture_db db;
  const auto users = read_table_schema(db.conn, "users");
  CHECK(users.find("password")->required_on_insert());
  CHECK(users.find("name")->required_on_insert());
  CHECK(users.find("email")->required_on_insert());
  CHECK_FALSE(users.find("role")->required_on_insert());
  CHECK(users.find("role")->not_null);
  CHECK(users.find("role")->default_sql == "'cashier'");
  CHECK(users.find("is_active")->default_sql == "'1'");
  CHECK(users.find("is_active")->declared_type == "tinyint(1)");
  CHECK_FALSE(users.find("remember_token")->required_on_insert());
  CHECK_FALSE(users.find("remember_token")->not_null);
  CHECK_FALSE(users.find("remember_token")->has_default());
  CHECK(users.find("email")->primary_key_position == 0);
  CHECK_FALSE(users.find("email")->rowid_alias);

  const auto settings = read_table_schema(db.conn, "company_settings");
  CHECK(settings.find("smtp_port")->default_sql == "'587'");
  for (const auto& c : settings.columns) {
    INFO(c.name);
    CHECK_FALSE(c.required_on_insert());
  }

  const auto txn = read_table_schema(db.conn, "transactions");
  std::vector<std::string> required;
  for (const auto& c : txn.columns) {
    if (c.required_on_insert()) required.push_back(c.name);
  }
  CHECK(required == std::vector<std::string>{"transaction_number", "cashier_id", "quantity_kg",
                                             "price_per_kg", "total_amount"});
}

TEST_CASE("only a single INTEGER primary key of a rowid table is the rowid", "[table_schema]") {
  ruxx_test::temp_dir dir;
  connection c(dir / "a.sqlite");
  c.execute(
      "CREATE TABLE a (id INT PRIMARY KEY NOT NULL);"
      "CREATE TABLE b (id INTEGER NOT NULL, k INTEGER NOT NULL, PRIMARY KEY (id, k));"
      "CREATE TABLE w (id INTEGER PRIMARY KEY NOT NULL, v TEXT) WITHOUT ROWID;"
      "CREATE TABLE r (id integer PRIMARY KEY, v TEXT)");
  CHECK(read_table_schema(c, "a").find("id")->required_on_insert());
  CHECK(read_table_schema(c, "b").find("id")->required_on_insert());
  CHECK(read_table_schema(c, "b").find("k")->primary_key_position == 2);
  CHECK(read_table_schema(c, "w").find("id")->required_on_insert());
  CHECK(read_table_schema(c, "r").find("id")->rowid_alias);
  CHECK_FALSE(read_table_schema(c, "r").find("id")->required_on_insert());
}

TEST_CASE("foreign keys of the fixture tables point at users", "[table_schema]") {
  fixture_db db;
  const auto txn = read_table_schema(db.conn, "transactions");
  REQUIRE(txn.foreign_keys.size() == 1);
  CHECK(txn.foreign_keys[0].from_column == "cashier_id");
  CHECK(txn.foreign_keys[0].parent_table == "users");
  CHECK(txn.foreign_keys[0].parent_column == "id");

  const auto adj = read_table_schema(db.conn, "inventory_adjustments");
  REQUIRE(adj.foreign_keys.size() == 1);
  CHECK(adj.foreign_keys[0].from_column == "user_id");
  CHECK(adj.foreign_keys[0].parent_table == "users");
  CHECK(adj.foreign_keys[0].parent_column == "id");

  CHECK(read_table_schema(db.conn, "users").foreign_keys.empty());
  CHECK(read_table_schema(db.conn, "inventory").foreign_keys.empty());
}

TEST_CASE("referencing_columns finds every child of a table", "[table_schema]") {
  fixture_db db;
  const auto refs = referencing_columns(db.conn, "users");
  REQUIRE(refs.size() == 2);
  CHECK(refs[0].first == "inventory_adjustments");
  CHECK(refs[0].second.from_column == "user_id");
  CHECK(refs[0].second.parent_column == "id");
  CHECK(refs[1].first == "transactions");
  CHECK(refs[1].second.from_column == "cashier_id");
  CHECK(refs[1].second.parent_table == "users");

  CHECK(referencing_columns(db.conn, "USERS").size() == 2);
  CHECK(referencing_columns(db.conn, "inventory").empty());
  CHECK(referencing_columns(db.conn, "nope").empty());
  CHECK(referencing_columns(db.conn, "users' OR '1'='1").empty());

  SECTION("a reference without a parent column resolves to the parent's primary key") {
    db.conn.execute(
        "CREATE TABLE notes_by_user (id INTEGER PRIMARY KEY, author REFERENCES users, "
        "editor INTEGER, FOREIGN KEY (editor) REFERENCES users (id))");
    const auto more = referencing_columns(db.conn, "users");
    REQUIRE(more.size() == 4);
    CHECK(more[1].first == "notes_by_user");
    CHECK(more[2].first == "notes_by_user");
    std::vector<std::string> from{more[1].second.from_column, more[2].second.from_column};
    std::sort(from.begin(), from.end());
    CHECK(from == std::vector<std::string>{"author", "editor"});
    CHECK(more[1].second.parent_column == "id");
    CHECK(more[2].second.parent_column == "id");
  }
}

TEST_CASE("a column the app adds later is seen", "[table_schema]") {
  fixture_db db;
  db.conn.execute("ALTER TABLE transactions ADD COLUMN discount numeric not null default '0'");
  const auto txn = read_table_schema(db.conn, "transactions");
  REQUIRE(txn.columns.size() == 14);
  const auto& d = txn.columns.back();
  CHECK(d.name == "discount");
  CHECK(d.kind == D);
  CHECK(d.not_null);
  CHECK(d.default_sql == "'0'");
  CHECK_FALSE(d.required_on_insert());
  CHECK(txn.foreign_keys.size() == 1);
}

TEST_CASE("a missing table or a hostile name gives an empty schema", "[table_schema]") {
  fixture_db db;
  const auto missing = read_table_schema(db.conn, "no_such_table");
  CHECK(missing.empty());
  CHECK(missing.columns.empty());
  CHECK(missing.foreign_keys.empty());
  CHECK(missing.find("id") == nullptr);

  CHECK(read_table_schema(db.conn, "users; DROP TABLE users").empty());
  CHECK(read_table_schema(db.conn, "users') --").empty());
  CHECK(read_table_schema(db.conn, "").empty());
  CHECK(db.conn.has_table("users"));
}
