// The table descriptors checked against the real app schema and the PHP master's captures: every
// column they name exists, identities are unique, parents come before children, and the columns
// hidden from version-1 pulls are exactly those the PHP master leaves out.
#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/schema/embedded_schema.hpp>
#include <synccore/schema/table_schema.hpp>
#include <synccore/tables/table_descriptor.hpp>

#include <boost/json/parse.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "temp_dir.hpp"

using synccore::db::connection;
namespace tables = synccore::tables;

namespace {

struct fixture_db {
  ruxx_test::temp_dir dir;
  connection conn{dir / "app.sqlite"};
  fixture_db() { conn.execute(synccore::schema::app_tables_sql()); }
};

// The JSON body after "### response body ... verbatim" in a capture file.
std::string capture_body(const std::string& name) {
  std::ifstream in(std::string(RUXX_FIXTURES_DIR) + "/wire/" + name, std::ios::binary);
  REQUIRE(in.good());
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("### response body", 0) == 0) break;
  }
  std::ostringstream rest;
  rest << in.rdbuf();
  return rest.str();
}

bool has_unique_index_on(connection& c, std::string_view table, std::string_view column) {
  auto st = c.prepare(
      "SELECT 1 FROM pragma_index_list(?1) AS l, pragma_index_info(l.name) AS i "
      "WHERE l.\"unique\" = 1 AND i.name = ?2 "
      "AND (SELECT count(*) FROM pragma_index_info(l.name)) = 1");
  st.bind(1, table).bind(2, column);
  return st.step();
}

}  // namespace

TEST_CASE("five descriptors with parents before children", "[tables]") {
  const auto all = tables::all_tables();
  REQUIRE(all.size() == 5);
  fixture_db db;
  for (std::size_t i = 0; i < all.size(); ++i) {
    INFO(all[i].name);
    const auto s = synccore::schema::read_table_schema(db.conn, all[i].name);
    REQUIRE_FALSE(s.empty());
    for (const auto& fk : s.foreign_keys) {
      const auto* parent = tables::find_table(fk.parent_table);
      REQUIRE(parent != nullptr);
      CHECK(parent < &all[i]);
    }
  }
}

TEST_CASE("find_table is exact", "[tables]") {
  for (const auto& d : tables::all_tables()) CHECK(tables::find_table(d.name) == &d);
  CHECK(tables::find_table("Users") == nullptr);
  CHECK(tables::find_table("users ") == nullptr);
  CHECK(tables::find_table("users; DROP TABLE users") == nullptr);
  CHECK(tables::find_table("") == nullptr);
  CHECK(tables::find_table("sync_logs") == nullptr);
  CHECK(tables::find_table("migrations") == nullptr);
}

TEST_CASE("every column a descriptor names exists in the app schema", "[tables]") {
  fixture_db db;
  for (const auto& d : tables::all_tables()) {
    INFO(d.name);
    const auto s = synccore::schema::read_table_schema(db.conn, d.name);
    REQUIRE(s.find(d.identity_column) != nullptr);
    if (d.identity_column != "id") CHECK(has_unique_index_on(db.conn, d.name, d.identity_column));
    if (d.master_assigns_id) CHECK(d.identity_column == "id");
    if (!d.counter_column.empty()) {
      REQUIRE(s.find(d.counter_column) != nullptr);
      CHECK(s.find(d.counter_column)->kind == synccore::schema::column_kind::decimal);
    }
    for (auto c : d.never_sent_columns) CHECK(s.find(c) != nullptr);
    for (auto c : d.hidden_from_v1_columns) CHECK(s.find(c) != nullptr);
    for (auto c : d.natural_unique_columns) {
      REQUIRE(s.find(c) != nullptr);
      CHECK(has_unique_index_on(db.conn, d.name, c));
    }
  }
}

TEST_CASE("the rules of DESIGN.md section 2", "[tables]") {
  const auto& users = *tables::find_table("users");
  CHECK(users.rule == tables::conflict_rule::last_writer_wins);
  REQUIRE(users.never_sent_columns.size() == 1);
  CHECK(users.never_sent_columns[0] == "remember_token");

  const auto& txn = *tables::find_table("transactions");
  CHECK(txn.identity_column == "transaction_number");
  CHECK(txn.rule == tables::conflict_rule::last_writer_wins);

  const auto& inv = *tables::find_table("inventory");
  CHECK(inv.rule == tables::conflict_rule::master_wins);
  CHECK(inv.counter_column == "current_stock");
  CHECK(inv.pull_is_full_replace);

  CHECK(tables::find_table("inventory_adjustments")->rule ==
        tables::conflict_rule::last_writer_wins);
  const auto& cs = *tables::find_table("company_settings");
  CHECK(cs.rule == tables::conflict_rule::master_wins_insert_if_empty);

  for (const auto& d : tables::all_tables()) {
    INFO(d.name);
    CHECK(d.in_sync_run == (d.name != "company_settings"));
    // Master wins for both: the slave ends each pull as a copy of the master's table.
    CHECK(d.pull_is_full_replace == (d.name == "inventory" || d.name == "company_settings"));
  }
}

TEST_CASE("columns hidden from v1 pulls are those the PHP master leaves out", "[tables]") {
  fixture_db db;
  for (const auto& d : tables::all_tables()) {
    INFO(d.name);
    const auto body =
        boost::json::parse(capture_body("pull_nosince_" + std::string(d.name) + ".txt"));
    const auto& rows = body.at("data").as_array();
    REQUIRE_FALSE(rows.empty());
    std::set<std::string> sent;
    for (const auto& kv : rows[0].as_object()) sent.emplace(kv.key());

    std::set<std::string> expected;
    for (const auto& c : synccore::schema::read_table_schema(db.conn, d.name).columns) {
      const auto& hidden = d.hidden_from_v1_columns;
      if (std::find(hidden.begin(), hidden.end(), c.name) == hidden.end()) expected.insert(c.name);
    }
    CHECK(sent == expected);
  }
}
