// Unit tests of the sync engine on real SQLite files: the master's push apply and the slave's
// capture, batches, acknowledgement and pull apply, wired together without HTTP.
#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/schema/schema_installer.hpp>
#include <synccore/sync/change_capture.hpp>
#include <synccore/sync/pull_apply.hpp>
#include <synccore/sync/pull_reader.hpp>
#include <synccore/sync/push_apply.hpp>
#include <synccore/sync/push_batch.hpp>
#include <synccore/tables/table_descriptor.hpp>
#include <synccore/time/app_zone.hpp>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "sync_nodes.hpp"
#include "temp_dir.hpp"

namespace json = boost::json;
using namespace synccore;

using ruxx_test::lagos;
using ruxx_test::master_and_slave;
using ruxx_test::node;
using ruxx_test::pull_all;
using ruxx_test::push_all;
using ruxx_test::seed_users;

namespace {

// A master with one inventory row (1000 kg at 850, `notes` as given) and a slave that has
// pulled it.
struct inventory_nodes {
  explicit inventory_nodes(const char* notes = nullptr) {
    auto st = master.conn.prepare(
        "INSERT INTO inventory (id, current_stock, price_per_kg, notes, created_at, updated_at) "
        "VALUES (1, 1000, 850, ?, '2026-11-01 08:00:00', '2026-11-01 08:00:00')");
    if (notes) st.bind(1, std::string_view(notes));
    st.run();
    pull_all(master, slave, "inventory");
  }
  ruxx_test::temp_dir dir;
  node master{dir / "m.sqlite", sync::node_role::master};
  node slave{dir / "s.sqlite", sync::node_role::slave};
};

}  // namespace

TEST_CASE("rows the agent applies from the master are not captured again", "[sync]") {
  ruxx_test::temp_dir dir;
  node master(dir / "m.sqlite", sync::node_role::master);
  node slave(dir / "s.sqlite", sync::node_role::slave);
  seed_users(master);
  pull_all(master, slave, "users");
  CHECK(slave.scalar("SELECT count(*) FROM users") == 2);
  CHECK(slave.scalar("SELECT count(*) FROM ruxx_sync_changes") == 0);
  // The capture switch is back to its default for the app after the agent's transaction.
  CHECK(slave.scalar("SELECT suppress FROM ruxx_sync_capture") == 0);
  // A local edit by the app is captured as an update of a row the master knows.
  slave.conn.execute("UPDATE users SET name = 'Boss' WHERE id = 1");
  CHECK(slave.scalar("SELECT count(*) FROM ruxx_sync_changes WHERE op = 'update'") == 1);
}

TEST_CASE("a column the app adds later keeps syncing", "[sync]") {
  ruxx_test::temp_dir dir;
  node master(dir / "m.sqlite", sync::node_role::master);
  node slave(dir / "s.sqlite", sync::node_role::slave);
  seed_users(master);
  pull_all(master, slave, "users");
  for (auto* n : {&master, &slave}) {
    n->conn.execute("ALTER TABLE transactions ADD COLUMN discount numeric not null default '0'");
  }
  slave.conn.execute(
      "INSERT INTO transactions (transaction_number, cashier_id, quantity_kg, price_per_kg, "
      "total_amount, discount, created_at, updated_at) VALUES ('TXN-20261124-ADDCOL', 2, 3, 850, "
      "2550, 12.5, '2026-11-24 10:00:00', '2026-11-24 10:00:00')");
  push_all(slave, master, "transactions", "node-a");
  CHECK(master.real("SELECT discount FROM transactions WHERE transaction_number = "
                    "'TXN-20261124-ADDCOL'") == 12.5);
}

// A Laravel migration that changes a column rebuilds the table in SQLite (new table, rows
// copied, old one dropped, new one renamed), and the capture triggers go with the old table.
namespace {
void rebuild_users(node& n) {
  const auto users_sql = n.text("SELECT sql FROM sqlite_schema WHERE name = 'users'");
  n.conn.execute("PRAGMA foreign_keys = OFF");
  n.conn.execute("BEGIN");
  n.conn.execute("CREATE TABLE __temp__users AS SELECT * FROM users");
  n.conn.execute("DROP TABLE users");
  n.conn.execute(users_sql);
  n.conn.execute("INSERT INTO users SELECT * FROM __temp__users");
  n.conn.execute("DROP TABLE __temp__users");
  n.conn.execute("COMMIT");
  n.conn.execute("PRAGMA foreign_keys = ON");
}

}  // namespace

TEST_CASE("the master repairs capture after a migration rebuilt a table, losing no write",
          "[sync]") {
  master_and_slave nodes;
  auto& master = nodes.master;
  auto& slave = nodes.slave;
  // Whole capture: nothing to repair, nothing logged.
  auto none = sync::repair_master_capture(master.conn, true);
  CHECK(none.missing.empty());
  CHECK(none.rows_logged == 0);
  rebuild_users(master);
  CHECK_FALSE(sync::missing_capture_triggers(master.conn, sync::node_role::master).empty());
  // The app keeps writing: an edit and a new user, neither captured.
  master.conn.execute("UPDATE users SET name = 'Renamed meanwhile', updated_at = "
                      "'2026-11-24 12:00:00' WHERE id = 1");
  master.conn.execute("INSERT INTO users (id, name, email, password, created_at, updated_at) "
                      "VALUES (3, 'New meanwhile', 'n@x', 'h', '2026-11-24 12:00:00', "
                      "'2026-11-24 12:00:00')");
  const auto before = master.scalar("SELECT max(seq) FROM ruxx_sync_changes");
  auto repair = sync::repair_master_capture(master.conn, true);
  CHECK(repair.missing.size() == 3);  // ai, au, ad of users
  CHECK(repair.rows_logged == 3);     // every row of users, as an update by the master's app
  CHECK(sync::missing_capture_triggers(master.conn, sync::node_role::master).empty());
  CHECK(master.scalar("SELECT count(*) FROM ruxx_sync_changes WHERE table_name = 'users' AND "
                      "seq > " + std::to_string(before) + " AND origin = 'local'") == 3);
  // The slave, which pulled users before, receives both writes.
  pull_all(master, slave, "users");
  CHECK(slave.text("SELECT name FROM users WHERE id = 1") == "Renamed meanwhile");
  CHECK(slave.text("SELECT name FROM users WHERE id = 3") == "New meanwhile");
  // Capture works again for the app, and a second repair finds nothing to do.
  master.conn.execute("UPDATE users SET name = 'After' WHERE id = 2");
  pull_all(master, slave, "users");
  CHECK(slave.text("SELECT name FROM users WHERE id = 2") == "After");
  CHECK(sync::repair_master_capture(master.conn, true).missing.empty());
}

TEST_CASE("a row the master's app deletes while a rebuilt table lacks its triggers is deleted "
          "at the slaves too", "[sync]") {
  master_and_slave nodes;  // users 1 and 2, both in the master's change log, pulled
  auto& master = nodes.master;
  auto& slave = nodes.slave;
  rebuild_users(master);
  master.conn.execute("DELETE FROM users WHERE id = 2");  // no trigger: no tombstone
  auto repair = sync::repair_master_capture(master.conn, true);
  CHECK(repair.tombstones_logged == 1);
  CHECK(repair.rows_logged == 1);  // user 1, as an update
  CHECK(master.scalar("SELECT count(*) FROM ruxx_sync_changes WHERE table_name = 'users' AND "
                      "row_id = 2 AND op = 'delete' AND row_key = '2'") == 1);
  pull_all(master, slave, "users");
  CHECK(slave.scalar("SELECT count(*) FROM users WHERE id = 2") == 0);
  CHECK(slave.text("SELECT name FROM users WHERE id = 1") == "Admin");
  // Repaired once: a second look finds nothing and logs nothing.
  const auto again = sync::repair_master_capture(master.conn, true);
  CHECK(again.missing.empty());
  CHECK(again.tombstones_logged == 0);
}

TEST_CASE("a master that never had capture gets triggers without logging its rows", "[sync]") {
  ruxx_test::temp_dir dir;
  node master(dir / "m.sqlite", sync::node_role::master);
  seed_users(master);
  sync::remove_change_capture(master.conn);
  master.conn.execute("DELETE FROM ruxx_sync_changes");
  auto repair = sync::repair_master_capture(master.conn, false);
  CHECK_FALSE(repair.missing.empty());
  CHECK(repair.rows_logged == 0);
  CHECK(master.scalar("SELECT count(*) FROM ruxx_sync_changes") == 0);
  CHECK(sync::missing_capture_triggers(master.conn, sync::node_role::master).empty());
}

TEST_CASE("stock deltas of two slaves are both counted and a retried batch only once", "[sync]") {
  ruxx_test::temp_dir dir;
  node master(dir / "m.sqlite", sync::node_role::master);
  node a(dir / "a.sqlite", sync::node_role::slave);
  node b(dir / "b.sqlite", sync::node_role::slave);
  master.conn.execute("INSERT INTO inventory (id, current_stock, created_at, updated_at) VALUES "
                      "(1, 1000, '2026-11-01 08:00:00', '2026-11-01 08:00:00')");
  pull_all(master, a, "inventory");
  pull_all(master, b, "inventory");
  a.conn.execute("UPDATE inventory SET current_stock = current_stock - 5 WHERE id = 1");
  b.conn.execute("UPDATE inventory SET current_stock = current_stock - 7.25 WHERE id = 1");
  master.conn.execute("UPDATE inventory SET current_stock = current_stock - 3 WHERE id = 1");

  // Slave A's batch is applied, but its answer is "lost": the batch stays in the outbox.
  const auto* inv = tables::find_table("inventory");
  auto batch = sync::next_push_batch(a.conn, lagos(), *inv, "node-a", 100, sync::push_protocol::v2);
  REQUIRE(batch);
  auto body = json::parse(batch->body).as_object();
  sync::push_request req{inv, &body.at("data").as_array(), &body.at("meta").as_array(),
                         &body.at("deleted").as_array(), "node-a", batch->batch_id};
  REQUIRE(std::holds_alternative<json::object>(sync::apply_push(master.conn, lagos(), req)));
  // Another sale happens on A before the retry.
  a.conn.execute("UPDATE inventory SET current_stock = current_stock - 1 WHERE id = 1");
  auto answer = push_all(a, master, "inventory", "node-a");  // resends the same batch, then more
  push_all(b, master, "inventory", "node-b");
  CHECK(master.real("SELECT current_stock FROM inventory WHERE id = 1") == Approx(983.75));
  pull_all(master, a, "inventory");
  pull_all(master, b, "inventory");
  CHECK(a.real("SELECT current_stock FROM inventory WHERE id = 1") == Approx(983.75));
  CHECK(b.real("SELECT current_stock FROM inventory WHERE id = 1") == Approx(983.75));
  CHECK(a.scalar("SELECT count(*) FROM ruxx_sync_counter_deltas") == 0);
}

TEST_CASE("a sale during a master price change is no conflict; a depot's price edit still is",
          "[sync]") {
  inventory_nodes nodes;
  auto& master = nodes.master;
  auto& slave = nodes.slave;
  // What the next push says of the pending change: only the counter changed (counter_only).
  const auto content_changed = [&] {
    const auto batch = sync::next_push_batch(slave.conn, lagos(),
                                             *tables::find_table("inventory"), "node-a", 100,
                                             sync::push_protocol::v2);
    REQUIRE(batch);
    const auto body = json::parse(batch->body).as_object();
    const auto& meta = body.at("meta").as_array().at(0).as_object();
    slave.conn.execute("DELETE FROM ruxx_sync_outbox");  // built to look at, not sent
    return meta.contains("counter_only") ? 0 : 1;
  };
  const auto conflicts = [&] {
    return master.scalar("SELECT count(*) FROM ruxx_sync_conflicts WHERE table_name = "
                         "'inventory'");
  };

  // The app's sale: stock and updated_at only.
  slave.conn.execute("UPDATE inventory SET current_stock = current_stock - 12.5, updated_at = "
                     "'2026-11-24 09:00:00' WHERE id = 1");
  CHECK(content_changed() == 0);
  master.conn.execute("UPDATE inventory SET price_per_kg = 860, updated_at = "
                      "'2026-11-24 09:05:00' WHERE id = 1");
  push_all(slave, master, "inventory", "node-a");
  CHECK(conflicts() == 0);
  CHECK(master.real("SELECT current_stock FROM inventory WHERE id = 1") == Approx(987.5));
  CHECK(master.real("SELECT price_per_kg FROM inventory WHERE id = 1") == Approx(860));
  pull_all(master, slave, "inventory");
  CHECK(slave.real("SELECT price_per_kg FROM inventory WHERE id = 1") == Approx(860));

  // The depot edits the price, then sells: the edit stays recorded across the sale, travels in
  // full, loses to the master's row and is logged; the stock is counted either way.
  slave.conn.execute("UPDATE inventory SET price_per_kg = 900, updated_at = "
                     "'2026-11-24 10:00:00' WHERE id = 1");
  CHECK(content_changed() == 1);
  slave.conn.execute("UPDATE inventory SET current_stock = current_stock - 2.5, updated_at = "
                     "'2026-11-24 10:01:00' WHERE id = 1");
  CHECK(content_changed() == 1);
  push_all(slave, master, "inventory", "node-a");
  CHECK(conflicts() == 1);
  CHECK(master.real("SELECT current_stock FROM inventory WHERE id = 1") == Approx(985));
  CHECK(master.real("SELECT price_per_kg FROM inventory WHERE id = 1") == Approx(860));

  // After that push the next sale is a sale again.
  slave.conn.execute("UPDATE inventory SET current_stock = current_stock - 1, updated_at = "
                     "'2026-11-24 11:00:00' WHERE id = 1");
  CHECK(content_changed() == 0);

  SECTION("a sale-only row the master no longer has travels in full and is stored again") {
    // A master restored from a backup older than the row: no row, no tombstone.
    master.conn.execute("DELETE FROM inventory");
    master.conn.execute("DELETE FROM ruxx_sync_changes");
    const auto answer = push_all(slave, master, "inventory", "node-a");
    INFO(json::serialize(answer));
    CHECK(master.scalar("SELECT count(*) FROM inventory WHERE id = 1 AND price_per_kg = 900") ==
          1);
  }
}

// Laravel drops a column on SQLite with ALTER TABLE ... DROP COLUMN, which SQLite refuses when
// a trigger names the column: the capture triggers must name only the id, the identity, the
// counter and updated_at, or an app upgrade fails at the depot (schema v3's inventory trigger
// named every column).
TEST_CASE("the app's migrations can drop columns of synced tables with capture installed",
          "[sync]") {
  inventory_nodes nodes("tank A");
  auto& master = nodes.master;
  auto& slave = nodes.slave;
  for (auto* n : {&master, &slave}) {
    INFO((n == &master ? "master" : "slave"));
    n->conn.execute("ALTER TABLE inventory DROP COLUMN notes");
    n->conn.execute("ALTER TABLE inventory DROP COLUMN minimum_stock");
    n->conn.execute("ALTER TABLE transactions DROP COLUMN customer_phone");
    n->conn.execute("ALTER TABLE users DROP COLUMN remember_token");
    const auto role = n == &master ? sync::node_role::master : sync::node_role::slave;
    CHECK(sync::missing_capture_triggers(n->conn, role).empty());
  }
  // Capture goes on: a sale at the depot is counted at the master, and is a sale only (the
  // master's price is kept without a conflict) once the depot has the new shape's base.
  slave.conn.execute("UPDATE inventory SET current_stock = current_stock - 10, updated_at = "
                     "'2026-11-24 09:00:00' WHERE id = 1");
  master.conn.execute("UPDATE inventory SET price_per_kg = 870 WHERE id = 1");
  push_all(slave, master, "inventory", "node-a");
  CHECK(master.real("SELECT current_stock FROM inventory WHERE id = 1") == Approx(990));
  CHECK(master.real("SELECT price_per_kg FROM inventory WHERE id = 1") == Approx(870));
  pull_all(master, slave, "inventory");
  CHECK(slave.real("SELECT price_per_kg FROM inventory WHERE id = 1") == Approx(870));
  slave.conn.execute("UPDATE inventory SET current_stock = current_stock - 5 WHERE id = 1");
  master.conn.execute("UPDATE inventory SET price_per_kg = 880 WHERE id = 1");
  const auto conflicts_before = master.scalar("SELECT count(*) FROM ruxx_sync_conflicts");
  push_all(slave, master, "inventory", "node-a");
  CHECK(master.scalar("SELECT count(*) FROM ruxx_sync_conflicts") == conflicts_before);
  CHECK(master.real("SELECT current_stock FROM inventory WHERE id = 1") == Approx(985));
  CHECK(master.real("SELECT price_per_kg FROM inventory WHERE id = 1") == Approx(880));
}

namespace {

// A master with the seed users and two slaves that pulled them, each then registering its own
// new user under the same local id 3 ('New a', new-a@x and 'New b', new-b@x).
struct two_slaves_new_user_3 {
  ruxx_test::temp_dir dir;
  node master{dir / "m.sqlite", sync::node_role::master};
  node a{dir / "a.sqlite", sync::node_role::slave};
  node b{dir / "b.sqlite", sync::node_role::slave};
  two_slaves_new_user_3() {
    seed_users(master);
    for (auto* n : {&a, &b}) {
      pull_all(master, *n, "users");
      const std::string who = n == &a ? "a" : "b";
      n->conn.execute("INSERT INTO users (id, name, email, password, created_at, updated_at) "
                      "VALUES (3, 'New " + who + "', 'new-" + who + "@x', 'h', "
                      "'2026-11-24 09:00:00', '2026-11-24 09:00:00')");
    }
  }
};

}  // namespace

TEST_CASE("two slaves creating a user with the same local id get two master rows", "[sync]") {
  two_slaves_new_user_3 nodes;
  auto& [dir, master, a, b] = nodes;
  for (auto* n : {&a, &b}) {
    const std::string who = n == &a ? "a" : "b";
    n->conn.execute("INSERT INTO transactions (transaction_number, cashier_id, quantity_kg, "
                    "price_per_kg, total_amount, created_at, updated_at) VALUES ('TXN-" + who +
                    "', 3, 1, 850, 850, '2026-11-24 09:05:00', '2026-11-24 09:05:00')");
  }
  for (auto* n : {&a, &b}) {
    n->conn.execute("INSERT INTO sessions (id, user_id, payload, last_activity) VALUES "
                    "('admin', 1, 'p', 1), ('new', 3, 'p', 1)");
  }
  push_all(a, master, "users", "node-a");
  auto answer = push_all(b, master, "users", "node-b");
  CHECK(answer.at("results").as_array()[0].as_object().at("status").as_string() == "reassigned");
  CHECK(master.scalar("SELECT count(*) FROM users") == 4);
  const auto b_id = master.scalar("SELECT id FROM users WHERE email = 'new-b@x'");
  CHECK(b_id != 3);
  // B renumbered its user and the sale that points at it; the sale reaches the master intact.
  CHECK(b.scalar("SELECT cashier_id FROM transactions WHERE transaction_number = 'TXN-b'") == b_id);
  // B's cashier, logged in as 3, must log in again (as b_id); nobody else is logged out.
  CHECK(b.text("SELECT group_concat(id) FROM sessions") == "admin");
  CHECK(a.scalar("SELECT count(*) FROM sessions") == 2);
  push_all(a, master, "transactions", "node-a");
  push_all(b, master, "transactions", "node-b");
  CHECK(master.scalar("SELECT cashier_id FROM transactions WHERE transaction_number = 'TXN-b'") ==
        b_id);
  CHECK(master.scalar("SELECT cashier_id FROM transactions WHERE transaction_number = 'TXN-a'") == 3);
}

TEST_CASE("a local id a slave uses again does not name the row it was mapped to before",
          "[sync]") {
  // Convergence seed 63756: B's first user (local 3) became master row 4, and the master
  // remembered "B's 3 is 4". B then moved a new pending user out of the way onto the freed id 3;
  // pushed, it was taken for master row 4 and refused (its e-mail collided), for ever.
  two_slaves_new_user_3 nodes;
  auto& [dir, master, a, b] = nodes;
  push_all(a, master, "users", "node-a");
  push_all(b, master, "users", "node-b");
  const auto b_id = master.scalar("SELECT id FROM users WHERE email = 'new-b@x'");
  REQUIRE(b_id != 3);
  REQUIRE(b.scalar("SELECT id FROM users WHERE email = 'new-b@x'") == b_id);
  const std::string email = GENERATE("new-a@x", "other@x");
  INFO("B's new user: " << email);
  // The person A registered, registered at B too (or someone new), on B's freed local id 3.
  b.conn.execute("INSERT INTO users (id, name, email, password, created_at, updated_at) VALUES "
                 "(3, 'Again at B', '" + email + "', 'h', '2026-11-24 09:30:00', "
                 "'2026-11-24 09:30:00')");
  push_all(b, master, "users", "node-b");
  CHECK(master.text("SELECT name || ' ' || email FROM users WHERE id = " +
                    std::to_string(b_id)) == "New b new-b@x");
  CHECK(master.scalar("SELECT count(*) FROM users WHERE email = '" + email + "'") == 1);
  CHECK(master.text("SELECT name FROM users WHERE email = '" + email + "'") == "Again at B");
  CHECK(b.scalar("SELECT count(*) FROM ruxx_sync_changes") == 0);
  pull_all(master, b, "users");
  CHECK(b.scalar("SELECT count(*) FROM users") == master.scalar("SELECT count(*) FROM users"));
}

TEST_CASE("last writer wins by updated_at; a tie keeps the master's row; losers are logged",
          "[sync]") {
  master_and_slave nodes;
  auto& master = nodes.master;
  auto& slave = nodes.slave;
  slave.conn.execute("UPDATE users SET name = 'Slave tie', updated_at = '2026-11-24 10:00:00' "
                     "WHERE id = 1");
  master.conn.execute("UPDATE users SET name = 'Master tie', updated_at = '2026-11-24 10:00:00' "
                      "WHERE id = 1");
  push_all(slave, master, "users", "node-a");
  CHECK(master.scalar("SELECT count(*) FROM users WHERE name = 'Master tie'") == 1);
  CHECK(master.scalar("SELECT count(*) FROM ruxx_sync_conflicts WHERE origin_node = 'node-a'") == 1);
  // The losing slave receives the winner on its next pull.
  pull_all(master, slave, "users");
  CHECK(slave.scalar("SELECT count(*) FROM users WHERE name = 'Master tie'") == 1);
  // A newer slave edit wins.
  slave.conn.execute("UPDATE users SET name = 'Slave newer', updated_at = '2026-11-24 11:00:00' "
                     "WHERE id = 1");
  push_all(slave, master, "users", "node-a");
  CHECK(master.scalar("SELECT count(*) FROM users WHERE name = 'Slave newer'") == 1);
}

TEST_CASE("deletes travel both ways and a new local row is never sent as a delete", "[sync]") {
  ruxx_test::temp_dir dir;
  node master(dir / "m.sqlite", sync::node_role::master);
  node slave(dir / "s.sqlite", sync::node_role::slave);
  seed_users(master);
  master.conn.execute("INSERT INTO inventory_adjustments (id, user_id, type, quantity_kg, "
                      "previous_stock, new_stock, reason, created_at, updated_at) VALUES (1, 1, "
                      "'loss', 1, 10, 9, 'Leak', '2026-11-01 08:00:00', '2026-11-01 08:00:00'), (2, 1, "
                      "'loss', 1, 9, 8, 'Leak', '2026-11-01 08:00:00', '2026-11-01 08:00:00')");
  pull_all(master, slave, "users");
  pull_all(master, slave, "inventory_adjustments");
  slave.conn.execute("DELETE FROM inventory_adjustments WHERE id = 1");
  master.conn.execute("DELETE FROM inventory_adjustments WHERE id = 2");
  // A row created and deleted locally before any push leaves no trace.
  slave.conn.execute("INSERT INTO inventory_adjustments (id, user_id, type, quantity_kg, "
                     "previous_stock, new_stock, reason) VALUES (50, 1, 'loss', 1, 1, 0, 'x')");
  slave.conn.execute("DELETE FROM inventory_adjustments WHERE id = 50");
  push_all(slave, master, "inventory_adjustments", "node-a");
  pull_all(master, slave, "inventory_adjustments");
  CHECK(master.scalar("SELECT count(*) FROM inventory_adjustments") == 0);
  CHECK(slave.scalar("SELECT count(*) FROM inventory_adjustments") == 0);
}
