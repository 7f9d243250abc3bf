// Unit tests of sync::row_writer::update: it writes exactly the columns whose stored value
// changes, so an unchanged row fires no trigger and an index on unchanged columns is not
// rewritten, while every real change (a letter's case in a NOCASE column, a number stored as
// text, NULL against a value) is still written.
#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/schema/table_schema.hpp>
#include <synccore/sync/row_writer.hpp>
#include <synccore/time/app_zone.hpp>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "temp_dir.hpp"

namespace json = boost::json;
using namespace synccore;

namespace {

// A table with a NOCASE name, a decimal, a text code under an index, and triggers that count
// which columns each UPDATE names.
struct writer_db {
  ruxx_test::temp_dir dir;
  db::connection conn{dir / "w.sqlite"};
  schema::table_schema table;

  writer_db() {
    conn.execute(R"sql(
      CREATE TABLE items (id INTEGER PRIMARY KEY, name VARCHAR(50) COLLATE NOCASE,
                          price DECIMAL(10,2), code VARCHAR(20), note TEXT,
                          updated_at DATETIME);
      CREATE INDEX items_code_index ON items (code);
      CREATE TABLE fired (what TEXT);
      CREATE TRIGGER items_any AFTER UPDATE ON items BEGIN INSERT INTO fired VALUES ('row'); END;
      CREATE TRIGGER items_code AFTER UPDATE OF code ON items
        BEGIN INSERT INTO fired VALUES ('code'); END;
      INSERT INTO items VALUES (1, 'Gas Cylinder', 500, '0042', NULL, '2026-11-24 09:00:00');
    )sql");
    table = schema::read_table_schema(conn, "items");
  }

  codec::decoded_row decode(const json::object& row) {
    static const time::app_zone zone("Africa/Lagos");
    codec::row_decoder decoder(table, zone);
    auto decoded = decoder.decode(row);
    REQUIRE(decoded);
    return *decoded;
  }

  std::string fired() {
    std::string out;
    auto st = conn.prepare("SELECT what FROM fired ORDER BY rowid");
    while (st.step()) out += st.column_string(0) + ";";
    conn.execute("DELETE FROM fired");
    return out;
  }

  std::string stored(std::string_view column) {
    auto st = conn.prepare("SELECT quote(" + std::string(column) + ") FROM items WHERE id = 1");
    REQUIRE(st.step());
    return st.column_string(0);
  }
};

json::object as_stored() {
  return json::object{{"id", 1},          {"name", "Gas Cylinder"}, {"price", "500.00"},
                      {"code", "0042"},   {"note", nullptr},        {"updated_at", "2026-11-24T08:00:00Z"}};
}

}  // namespace

TEST_CASE("row_writer::update leaves a row that arrives as stored untouched", "[sync][writer]") {
  writer_db w;
  sync::row_writer writer(w.conn, w.table);
  CHECK(writer.update(1, w.decode(as_stored())));
  CHECK(w.fired().empty());  // nothing written, so no trigger (and no change captured)
  CHECK(w.stored("price") == "500");
}

TEST_CASE("row_writer::update writes only the columns that change", "[sync][writer]") {
  writer_db w;
  sync::row_writer writer(w.conn, w.table);
  auto row = as_stored();
  row["note"] = "refilled";
  row["updated_at"] = "2026-11-24T10:00:00Z";
  CHECK(writer.update(1, w.decode(row)));
  CHECK(w.fired() == "row;");  // the UPDATE did not name code: its index is not rewritten
  CHECK(w.stored("note") == "'refilled'");
  CHECK(w.stored("updated_at") == "'2026-11-24 11:00:00'");
  CHECK(w.stored("code") == "'0042'");

  row["code"] = "0043";
  CHECK(writer.update(1, w.decode(row)));
  CHECK(w.fired() == "code;row;");  // SQLite fires the later trigger first
  CHECK(w.stored("code") == "'0043'");
}

TEST_CASE("row_writer::update treats every real difference as a change", "[sync][writer]") {
  writer_db w;
  sync::row_writer writer(w.conn, w.table);
  auto row = as_stored();

  SECTION("a change of letter case in a NOCASE column") {
    row["name"] = "GAS CYLINDER";
    CHECK(writer.update(1, w.decode(row)));
    CHECK(w.stored("name") == "'GAS CYLINDER'");
    CHECK(w.fired() == "row;");
  }
  SECTION("a number where a text column holds text that differs from it") {
    row["code"] = 42;  // the text column stores '42', which is not '0042'
    CHECK(writer.update(1, w.decode(row)));
    CHECK(w.stored("code") == "'42'");
    CHECK(w.fired() == "code;row;");
  }
  SECTION("a value where NULL is stored, and NULL where a value is") {
    row["note"] = "";
    row["price"] = nullptr;
    CHECK(writer.update(1, w.decode(row)));
    CHECK(w.stored("note") == "''");
    CHECK(w.stored("price") == "NULL");
    CHECK(w.fired() == "row;");
  }
  SECTION("a decimal that differs in the last place") {
    row["price"] = "500.01";
    CHECK(writer.update(1, w.decode(row)));
    CHECK(w.stored("price") == "500.01");
    CHECK(w.fired() == "row;");
  }
}

TEST_CASE("row_writer::update reports a missing row", "[sync][writer]") {
  writer_db w;
  sync::row_writer writer(w.conn, w.table);
  auto row = as_stored();
  row["id"] = 7;
  CHECK_FALSE(writer.update(7, w.decode(row)));
  CHECK(w.fired().empty());
}
