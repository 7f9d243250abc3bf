// A slave pulling from a master that migrated first: the master's rows carry a column this
// database does not have yet. The column is dropped, the rest of every row is applied, and the
// dropped names are reported once (the agent logs one warning per table and run).
#include <synccore/sync/pull_apply.hpp>
#include <synccore/tables/table_descriptor.hpp>
#include <synccore/time/app_zone.hpp>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "sync_nodes.hpp"
#include "temp_dir.hpp"

namespace json = boost::json;
using namespace synccore;

namespace {

json::object user_row(int id, std::string_view name) {
  return json::object{{"id", id},
                      {"name", name},
                      {"email", "u" + std::to_string(id) + "@x"},
                      {"password", "h"},
                      {"nickname", "nick"},         // added at the master, not here
                      {"loyalty_points", 12},       // likewise
                      {"created_at", "2026-11-24T07:00:00Z"},
                      {"updated_at", "2026-11-24T07:00:00Z"}};
}

}  // namespace

TEST_CASE("pulled rows with columns unknown here are applied without them", "[pull]") {
  ruxx_test::temp_dir dir;
  ruxx_test::node depot(dir / "s.sqlite", sync::node_role::slave);
  const json::array page{user_row(1, "Admin"), user_row(2, "Cashier")};
  const auto stats = sync::apply_pull_page(depot.conn, ruxx_test::lagos(),
                                           *tables::find_table("users"), page, json::array{},
                                           std::nullopt, "2026-11-24 12:00:00");
  CHECK(stats.inserted == 2);
  CHECK(stats.dropped_columns == std::vector<std::string>{"nickname", "loyalty_points"});
  CHECK(depot.scalar("SELECT count(*) FROM users WHERE name IN ('Admin', 'Cashier')") == 2);
  CHECK(depot.scalar("SELECT count(*) FROM pragma_table_info('users') WHERE name = 'nickname'") ==
        0);
  // Once this database has the column too, it is stored like any other.
  depot.conn.execute("ALTER TABLE users ADD COLUMN nickname varchar");
  auto renamed = user_row(2, "Cashier 2");
  renamed["updated_at"] = "2026-11-24T08:00:00Z";
  const auto later = sync::apply_pull_page(depot.conn, ruxx_test::lagos(),
                                           *tables::find_table("users"), json::array{renamed},
                                           json::array{}, std::nullopt, "2026-11-24 12:00:00");
  CHECK(later.updated == 1);
  CHECK(later.dropped_columns == std::vector<std::string>{"loyalty_points"});
  CHECK(depot.scalar("SELECT count(*) FROM users WHERE id = 2 AND nickname = 'nick' AND name = "
                     "'Cashier 2'") == 1);
}
