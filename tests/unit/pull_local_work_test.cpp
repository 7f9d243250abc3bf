// Unit tests of what the slave's pull does when the master's rows and deletes meet the depot's
// own work not yet pushed: a tombstone spares a new local row that merely holds the same id,
// a pulled user whose e-mail a local row holds does not fail the run, and every local version
// the pull replaces or deletes is in the conflict log (docs/SYNC_DESIGN.md, "A pull meeting
// local work not yet pushed").
#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/sync/pull_apply.hpp>
#include <synccore/sync/push_apply.hpp>
#include <synccore/sync/push_batch.hpp>
#include <synccore/sync/slave_state.hpp>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <set>

#include "sync_nodes.hpp"
#include "temp_dir.hpp"

using namespace synccore;
using ruxx_test::node;
using ruxx_test::pull_all;
using ruxx_test::push_all;

namespace {

// A master with two users, and slave "node-a" that has pulled them.
struct depot {
  ruxx_test::temp_dir dir;
  node master{dir / "m.sqlite", sync::node_role::master};
  node slave{dir / "s.sqlite", sync::node_role::slave};
  depot() {
    sync::ensure_node_id(slave.conn, "node-a");
    master.conn.execute(
        "INSERT INTO users (id, name, email, password, created_at, updated_at) VALUES "
        "(1, 'Admin', 'a@x', 'h', '2026-11-01 08:00:00', '2026-11-01 08:00:00'),"
        "(2, 'Cashier', 'c@x', 'h', '2026-11-01 08:00:00', '2026-11-01 08:00:00')");
    pull_all(master, slave, "users");
  }
  // A sale by `cashier`, made at the depot.
  void sell(std::int64_t cashier, const std::string& number) {
    auto st = slave.conn.prepare(
        "INSERT INTO transactions (transaction_number, cashier_id, quantity_kg, price_per_kg, "
        "total_amount, created_at, updated_at) VALUES (?, ?, 12.5, 850, 10625, "
        "'2026-11-24 09:30:00', '2026-11-24 09:30:00')");
    st.bind(1, number).bind(2, cashier);
    st.run();
  }
  // Two tanks at the master (1: 1000 kg, 2: 500 kg, both at 850), pulled by the depot.
  void two_tanks() {
    master.conn.execute("INSERT INTO inventory (id, current_stock, price_per_kg, notes, "
                        "created_at, updated_at) VALUES (1, 1000, 850, 'tank', "
                        "'2026-11-01 08:00:00', '2026-11-01 08:00:00'), (2, 500, 850, 'spare', "
                        "'2026-11-01 08:00:00', '2026-11-01 08:00:00')");
    pull_all(master, slave, "inventory");
  }
  // One sync run of users and transactions, as the agent does it.
  void run() {
    for (const char* table : {"users", "transactions"}) {
      push_all(slave, master, table, "node-a");
      pull_all(master, slave, table);
    }
  }
};

}  // namespace

TEST_CASE("a pulled delete spares a new local row that merely holds the same id, and its sales",
          "[pull_apply]") {
  depot d;
  // Another node's user 7 reached the master and was deleted there since the depot's pull.
  d.master.conn.execute("INSERT INTO users (id, name, email, password, created_at, updated_at) "
                        "VALUES (7, 'Gone', 'gone@x', 'h', '2026-11-02 08:00:00', "
                        "'2026-11-02 08:00:00')");
  d.master.conn.execute("DELETE FROM users WHERE id = 7");
  // Meanwhile the depot registered a cashier who got local id 7, and sold: nothing pushed yet.
  d.slave.conn.execute("INSERT INTO users (id, name, email, password, created_at, updated_at) "
                       "VALUES (7, 'New cashier', 'new@x', 'h', '2026-11-24 09:00:00', "
                       "'2026-11-24 09:00:00')");
  d.sell(7, "TXN-20261124-000001");
  pull_all(d.master, d.slave, "users");
  CHECK(d.slave.text("SELECT name FROM users WHERE id = 7") == "New cashier");
  CHECK(d.slave.scalar("SELECT count(*) FROM transactions WHERE cashier_id = 7") == 1);
  CHECK(d.slave.text("SELECT op FROM ruxx_sync_changes WHERE table_name = 'users' AND "
                     "row_id = 7") == "insert");
  // The next run pushes the cashier, who gets a new master id, and the sale follows.
  d.run();
  const auto id = d.master.scalar("SELECT id FROM users WHERE email = 'new@x'");
  CHECK(id != 7);
  CHECK(d.slave.scalar("SELECT id FROM users WHERE email = 'new@x'") == id);
  CHECK(d.master.scalar("SELECT cashier_id FROM transactions WHERE transaction_number = "
                        "'TXN-20261124-000001'") == id);
  CHECK(d.slave.scalar("SELECT cashier_id FROM transactions") == id);
  CHECK(d.master.scalar("SELECT count(*) FROM users WHERE id = 7") == 0);
}

TEST_CASE("a pulled delete of a row edited at the depot deletes it and logs the depot's version",
          "[pull_apply]") {
  depot d;
  d.slave.conn.execute("UPDATE users SET name = 'Edited at depot', updated_at = "
                       "'2026-11-24 09:00:00' WHERE id = 2");
  // A sale by that cashier, not pushed yet: the delete takes it along (ON DELETE CASCADE).
  d.sell(2, "TXN-20261124-000009");
  d.master.conn.execute("DELETE FROM users WHERE id = 2");
  pull_all(d.master, d.slave, "users");
  CHECK(d.slave.scalar("SELECT count(*) FROM users WHERE id = 2") == 0);
  // Nothing is left to push: a sale's pending insert would go out as a delete of its key.
  CHECK(d.slave.scalar("SELECT count(*) FROM ruxx_sync_changes") == 0);
  CHECK(d.slave.scalar("SELECT count(*) FROM ruxx_sync_conflicts WHERE table_name = "
                       "'transactions' AND row_key = 'TXN-20261124-000009' AND origin_node = "
                       "'node-a' AND reason LIKE '%deleted on the master%'") == 1);
  CHECK(d.slave.scalar("SELECT count(*) FROM ruxx_sync_conflicts WHERE table_name = 'users' AND "
                       "row_key = '2' AND origin_node = 'node-a' AND reason LIKE '%deleted on "
                       "the master%' AND losing_row LIKE '%Edited at depot%'") == 1);
}

TEST_CASE("a user registered at the depot with an e-mail the master has becomes that user",
          "[pull_apply]") {
  depot d;
  // The master registered dup@x since the depot's pull; the depot registers it too (after its
  // users push), and sells.
  d.master.conn.execute("INSERT INTO users (id, name, email, password, created_at, updated_at) "
                        "VALUES (5, 'At master', 'dup@x', 'h', '2026-11-24 08:00:00', "
                        "'2026-11-24 08:00:00')");
  const bool depot_newer = GENERATE(false, true);
  auto reg = d.slave.conn.prepare(
      "INSERT INTO users (id, name, email, password, created_at, updated_at) VALUES (3, "
      "'At depot', 'dup@x', 'h', '2026-11-24 09:00:00', ?)");
  reg.bind(1, std::string(depot_newer ? "2026-11-24 09:00:00" : "2026-11-24 07:00:00"));
  reg.run();
  d.sell(3, "TXN-20261124-000002");
  REQUIRE_NOTHROW(pull_all(d.master, d.slave, "users"));
  CHECK(d.slave.scalar("SELECT id FROM users WHERE email = 'dup@x'") == 5);
  CHECK(d.slave.scalar("SELECT count(*) FROM users") == 3);
  CHECK(d.slave.scalar("SELECT cashier_id FROM transactions") == 5);
  CHECK(d.slave.text("SELECT name FROM users WHERE id = 5") ==
        (depot_newer ? "At depot" : "At master"));
  CHECK(d.slave.scalar("SELECT count(*) FROM ruxx_sync_conflicts WHERE origin_node = 'node-a' "
                       "AND losing_row LIKE '%At depot%'") == (depot_newer ? 0 : 1));
  // The next run converges: one user, the depot's sale under the master's id.
  d.run();
  CHECK(d.master.scalar("SELECT count(*) FROM users WHERE email = 'dup@x'") == 1);
  CHECK(d.master.scalar("SELECT cashier_id FROM transactions WHERE transaction_number = "
                        "'TXN-20261124-000002'") == 5);
  CHECK(d.master.text("SELECT name FROM users WHERE id = 5") ==
        (depot_newer ? "At depot" : "At master"));
  CHECK(d.slave.text("SELECT name FROM users WHERE id = 5") ==
        d.master.text("SELECT name FROM users WHERE id = 5"));
  CHECK(d.slave.scalar("SELECT count(*) FROM ruxx_sync_changes") == 0);
}

TEST_CASE("a new depot user with the e-mail a known user takes at the master merges into it",
          "[pull_apply]") {
  depot d;
  d.master.conn.execute("UPDATE users SET email = 'new@x', updated_at = '2026-11-24 08:00:00' "
                        "WHERE id = 2");
  d.slave.conn.execute("INSERT INTO users (id, name, email, password, created_at, updated_at) "
                       "VALUES (3, 'Registered at depot', 'new@x', 'h', '2026-11-24 09:00:00', "
                       "'2026-11-24 09:00:00')");
  d.sell(3, "TXN-20261124-000003");
  REQUIRE_NOTHROW(pull_all(d.master, d.slave, "users"));
  CHECK(d.slave.scalar("SELECT id FROM users WHERE email = 'new@x'") == 2);
  CHECK(d.slave.scalar("SELECT count(*) FROM users") == 2);
  CHECK(d.slave.scalar("SELECT cashier_id FROM transactions") == 2);
  CHECK(d.slave.scalar("SELECT count(*) FROM ruxx_sync_conflicts WHERE origin_node = 'node-a' "
                       "AND losing_row LIKE '%Registered at depot%'") == 1);
  d.run();
  CHECK(d.master.scalar("SELECT cashier_id FROM transactions WHERE transaction_number = "
                        "'TXN-20261124-000003'") == 2);
  CHECK(d.master.scalar("SELECT count(*) FROM users") == 2);
}

TEST_CASE("e-mails the master reassigned between its users reach the depot in one pull",
          "[pull_apply]") {
  depot d;
  // A user deleted and registered again with the same e-mail, and two users swapping theirs.
  d.master.conn.execute("INSERT INTO users (id, name, email, password, created_at, updated_at) "
                        "VALUES (3, 'Third', 't@x', 'h', '2026-11-01 08:00:00', "
                        "'2026-11-01 08:00:00')");
  pull_all(d.master, d.slave, "users");
  d.master.conn.execute("DELETE FROM users WHERE id = 3");
  d.master.conn.execute("INSERT INTO users (id, name, email, password, created_at, updated_at) "
                        "VALUES (4, 'Third again', 't@x', 'h', '2026-11-24 08:00:00', "
                        "'2026-11-24 08:00:00')");
  d.master.conn.execute("UPDATE users SET email = 'tmp@x' WHERE id = 1");
  d.master.conn.execute("UPDATE users SET email = 'a@x' WHERE id = 2");
  d.master.conn.execute("UPDATE users SET email = 'c@x' WHERE id = 1");
  REQUIRE_NOTHROW(pull_all(d.master, d.slave, "users"));
  CHECK(d.slave.text("SELECT email FROM users WHERE id = 1") == "c@x");
  CHECK(d.slave.text("SELECT email FROM users WHERE id = 2") == "a@x");
  CHECK(d.slave.text("SELECT group_concat(id) FROM users WHERE email = 't@x'") == "4");
  CHECK(d.slave.scalar("SELECT count(*) FROM users") == 3);
  CHECK(d.slave.scalar("SELECT count(*) FROM ruxx_sync_conflicts") == 0);
}

TEST_CASE("a local edit the pull replaces is kept in the conflict log", "[pull_apply]") {
  depot d;
  d.slave.conn.execute("UPDATE users SET name = 'Depot edit', updated_at = '2026-11-24 09:00:00' "
                       "WHERE id = 1");
  d.master.conn.execute("UPDATE users SET name = 'Master edit', updated_at = "
                        "'2026-11-24 10:00:00' WHERE id = 1");
  pull_all(d.master, d.slave, "users");
  CHECK(d.slave.text("SELECT name FROM users WHERE id = 1") == "Master edit");
  CHECK(d.slave.scalar("SELECT count(*) FROM ruxx_sync_conflicts WHERE table_name = 'users' AND "
                       "row_key = '1' AND origin_node = 'node-a' AND reason LIKE 'replaced by the "
                       "pull: older updated_at%' AND losing_row LIKE '%Depot edit%' AND "
                       "winning_row LIKE '%Master edit%'") == 1);
  // A version the master accepted from this depot comes back without a record.
  d.slave.conn.execute("UPDATE users SET name = 'Depot again', updated_at = "
                       "'2026-11-24 11:00:00' WHERE id = 1");
  d.run();
  CHECK(d.master.text("SELECT name FROM users WHERE id = 1") == "Depot again");
  CHECK(d.slave.scalar("SELECT count(*) FROM ruxx_sync_conflicts") == 1);
}

TEST_CASE("a local edit made during a sync survives the pull or is in the conflict log",
          "[pull_apply]") {
  depot d;
  const auto* t = tables::find_table("users");
  d.slave.conn.execute("UPDATE users SET name = 'First', updated_at = '2026-11-24 09:00:00' "
                       "WHERE id = 1");
  // The push reads the edit; the app edits the row again before the answer and the pull.
  auto batch = sync::next_push_batch(d.slave.conn, ruxx_test::lagos(), *t, "node-a", 100,
                                     sync::push_protocol::v2);
  REQUIRE(batch);
  const bool master_newer = GENERATE(false, true);
  d.slave.conn.execute("UPDATE users SET name = 'During sync', updated_at = "
                       "'2026-11-24 09:30:00' WHERE id = 1");
  auto body = boost::json::parse(batch->body).as_object();
  sync::push_request req{t, &body.at("data").as_array(), &body.at("meta").as_array(),
                         &body.at("deleted").as_array(), "node-a", batch->batch_id};
  auto answer = std::get<boost::json::object>(sync::apply_push(d.master.conn,
                                                               ruxx_test::lagos(), req));
  sync::acknowledge_push(d.slave.conn, *batch, answer, "2026-11-24 12:00:00");
  if (master_newer) {
    d.master.conn.execute("UPDATE users SET name = 'Master', updated_at = '2026-11-24 10:00:00' "
                          "WHERE id = 1");
  }
  pull_all(d.master, d.slave, "users");
  if (master_newer) {
    CHECK(d.slave.text("SELECT name FROM users WHERE id = 1") == "Master");
    CHECK(d.slave.scalar("SELECT count(*) FROM ruxx_sync_conflicts WHERE losing_row LIKE "
                         "'%During sync%' AND origin_node = 'node-a'") == 1);
  } else {
    CHECK(d.slave.text("SELECT name FROM users WHERE id = 1") == "During sync");
    d.run();
    CHECK(d.master.text("SELECT name FROM users WHERE id = 1") == "During sync");
    CHECK(d.slave.scalar("SELECT count(*) FROM ruxx_sync_conflicts") == 0);
  }
}

TEST_CASE("a depot's inventory edit the master's row replaces is logged; a sale is not",
          "[pull_apply]") {
  depot d;
  d.master.conn.execute("INSERT INTO inventory (id, current_stock, price_per_kg, notes, "
                        "created_at, updated_at) VALUES (1, 1000, 850, 'tank', "
                        "'2026-11-01 08:00:00', '2026-11-01 08:00:00')");
  pull_all(d.master, d.slave, "inventory");
  d.master.conn.execute("UPDATE inventory SET price_per_kg = 900, updated_at = "
                        "'2026-11-24 08:00:00' WHERE id = 1");
  const bool depot_edit = GENERATE(false, true);
  d.slave.conn.execute("UPDATE inventory SET current_stock = current_stock - 12.5, updated_at = "
                       "'2026-11-24 09:00:00' WHERE id = 1");
  if (depot_edit) d.slave.conn.execute("UPDATE inventory SET notes = 'depot note' WHERE id = 1");
  pull_all(d.master, d.slave, "inventory");
  CHECK(d.slave.real("SELECT price_per_kg FROM inventory WHERE id = 1") == 900);
  CHECK(d.slave.real("SELECT current_stock FROM inventory WHERE id = 1") == 987.5);
  CHECK(d.slave.scalar("SELECT count(*) FROM ruxx_sync_conflicts WHERE table_name = 'inventory' "
                       "AND origin_node = 'node-a' AND losing_row LIKE '%depot note%'") ==
        (depot_edit ? 1 : 0));
  CHECK(d.slave.scalar("SELECT count(*) FROM ruxx_sync_conflicts") == (depot_edit ? 1 : 0));
}

TEST_CASE("a full replace that removes a tank the depot changed logs the depot's version",
          "[pull_apply]") {
  depot d;
  const auto* t = tables::find_table("inventory");
  d.two_tanks();
  d.slave.conn.execute("UPDATE inventory SET notes = 'depot note' WHERE id = 2");
  std::set<std::int64_t> seen{1};
  CHECK(sync::finish_full_replace(d.slave.conn, ruxx_test::lagos(), *t, seen) == 1);
  CHECK(d.slave.scalar("SELECT count(*) FROM inventory") == 1);
  CHECK(d.slave.scalar("SELECT count(*) FROM ruxx_sync_conflicts WHERE table_name = 'inventory' "
                       "AND row_key = '2' AND origin_node = 'node-a' AND losing_row LIKE "
                       "'%depot note%'") == 1);
}

TEST_CASE("local inventory changes a version 1 master cannot take are dropped, edits logged",
          "[pull_apply]") {
  depot d;
  const auto* t = tables::find_table("inventory");
  d.two_tanks();
  d.slave.conn.execute("UPDATE inventory SET current_stock = current_stock - 3 WHERE id = 1");
  d.slave.conn.execute("UPDATE inventory SET notes = 'depot note' WHERE id = 2");
  CHECK(sync::drop_unsendable_changes(d.slave.conn, ruxx_test::lagos(), *t) == 2);
  CHECK(d.slave.scalar("SELECT count(*) FROM ruxx_sync_changes") == 0);
  CHECK(d.slave.scalar("SELECT count(*) FROM ruxx_sync_counter_deltas") == 0);
  // The sale's stock change is no edit; the note is.
  CHECK(d.slave.scalar("SELECT count(*) FROM ruxx_sync_conflicts") == 1);
  CHECK(d.slave.scalar("SELECT count(*) FROM ruxx_sync_conflicts WHERE table_name = 'inventory' "
                       "AND row_key = '2' AND origin_node = 'node-a' AND losing_row LIKE "
                       "'%depot note%'") == 1);
}
