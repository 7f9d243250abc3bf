// Unit tests of how pushed rows are applied, on real SQLite files with the master's push apply
// and the slave's batches, acknowledgement and pull wired together without HTTP
// (sync_nodes.hpp): a row edited while its insert is in flight, a cancelled sale meeting a newer
// version of itself, a delete of a row the master changed meanwhile, and pushed rows without
// updated_at.
#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/sync/change_capture.hpp>
#include <synccore/sync/push_apply.hpp>
#include <synccore/sync/push_batch.hpp>
#include <synccore/tables/table_descriptor.hpp>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "sync_nodes.hpp"
#include "temp_dir.hpp"

namespace json = boost::json;
using namespace synccore;

using ruxx_test::lagos;
using ruxx_test::node;
using ruxx_test::pull_all;
using ruxx_test::push_all;

namespace {

// Builds the next v2 batch of `table` at `from` and applies it at `to`; returns the batch and
// the master's answer, not yet acknowledged (the batch is "in flight").
struct in_flight {
  sync::push_batch batch;
  json::object answer;
};
in_flight send_batch(node& from, node& to, std::string_view table, const std::string& id) {
  const auto* t = tables::find_table(table);
  auto batch = sync::next_push_batch(from.conn, lagos(), *t, id, 100, sync::push_protocol::v2);
  REQUIRE(batch);
  auto body = json::parse(batch->body).as_object();
  sync::push_request req{t, &body.at("data").as_array(), &body.at("meta").as_array(),
                         &body.at("deleted").as_array(), id, batch->batch_id};
  auto result = sync::apply_push(to.conn, lagos(), req);
  REQUIRE(std::holds_alternative<json::object>(result));
  return {*batch, std::get<json::object>(result)};
}

void add_sale(node& n, const std::string& number, const std::string& at) {
  n.conn.execute("INSERT INTO transactions (transaction_number, cashier_id, quantity_kg, "
                 "price_per_kg, total_amount, notes, created_at, updated_at) VALUES ('" + number +
                 "', 2, 12.5, 850, 10625, 'first', '" + at + "', '" + at + "')");
}

void add_adjustment(node& n, const std::string& at) {
  n.conn.execute("INSERT INTO inventory_adjustments (user_id, type, quantity_kg, previous_stock, "
                 "new_stock, reason, notes, created_at, updated_at) VALUES (1, 'loss', 1, 10, 9, "
                 "'Leak', 'first', '" + at + "', '" + at + "')");
}

// The slave of `nodes` creates an adjustment at 09:00 whose push reaches the master; the
// answer is not back yet.
in_flight new_adjustment_in_flight(ruxx_test::master_and_slave& nodes) {
  add_adjustment(nodes.slave, "2026-11-24 09:00:00");
  return send_batch(nodes.slave, nodes.master, "inventory_adjustments", "node-a");
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// 1. A row edited while the push carrying its insert is in flight.

TEST_CASE("an adjustment edited while its insert is in flight exists once with the edit",
          "[sync][push_rules]") {
  ruxx_test::master_and_slave nodes;
  auto& master = nodes.master;
  auto& slave = nodes.slave;
  const bool id_taken = GENERATE(false, true);
  const bool answer_lost = GENERATE(false, true);
  INFO("id taken at the master: " << id_taken << ", answer lost: " << answer_lost);
  if (id_taken) add_adjustment(master, "2026-11-24 08:00:00");  // master id 1
  add_adjustment(slave, "2026-11-24 09:00:00");                // local id 1
  auto flight = send_batch(slave, master, "inventory_adjustments", "node-a");
  slave.conn.execute("UPDATE inventory_adjustments SET notes = 'edited', updated_at = "
                     "'2026-11-24 09:10:00'");
  if (!answer_lost) {
    sync::acknowledge_push(slave.conn, flight.batch, flight.answer, "2026-11-24 12:00:00");
  }
  push_all(slave, master, "inventory_adjustments", "node-a");  // resends a lost batch first
  CHECK(slave.scalar("SELECT count(*) FROM ruxx_sync_changes") == 0);
  CHECK(master.scalar("SELECT count(*) FROM inventory_adjustments") == (id_taken ? 2 : 1));
  CHECK(master.scalar("SELECT count(*) FROM inventory_adjustments WHERE notes = 'edited' AND "
                      "updated_at = '2026-11-24 09:10:00'") == 1);
  CHECK(master.scalar("SELECT count(*) FROM ruxx_sync_conflicts") == 0);
  pull_all(master, slave, "inventory_adjustments");
  CHECK(slave.scalar("SELECT count(*) FROM inventory_adjustments") == (id_taken ? 2 : 1));
  CHECK(slave.scalar("SELECT count(*) FROM inventory_adjustments WHERE notes = 'edited'") == 1);
}

TEST_CASE("a row edited while its insert is in flight is not moved aside by a pull",
          "[sync][push_rules]") {
  // The push of the edit has not happened yet (it failed, or the run was stopped) when the
  // slave pulls: the master's row under the same id is the slave's own row, not another one.
  ruxx_test::master_and_slave nodes;
  auto& master = nodes.master;
  auto& slave = nodes.slave;
  auto flight = new_adjustment_in_flight(nodes);
  slave.conn.execute("UPDATE inventory_adjustments SET notes = 'edited', updated_at = "
                     "'2026-11-24 09:10:00'");
  sync::acknowledge_push(slave.conn, flight.batch, flight.answer, "2026-11-24 12:00:00");
  pull_all(master, slave, "inventory_adjustments");
  CHECK(slave.scalar("SELECT count(*) FROM inventory_adjustments") == 1);
  CHECK(slave.text("SELECT notes FROM inventory_adjustments") == "edited");
  push_all(slave, master, "inventory_adjustments", "node-a");
  CHECK(master.scalar("SELECT count(*) FROM inventory_adjustments") == 1);
  CHECK(master.text("SELECT notes FROM inventory_adjustments") == "edited");
  pull_all(master, slave, "inventory_adjustments");
  CHECK(slave.scalar("SELECT count(*) FROM inventory_adjustments") == 1);
}

TEST_CASE("a sale edited while its insert is in flight is pushed once, as an update",
          "[sync][push_rules]") {
  ruxx_test::master_and_slave nodes;
  auto& master = nodes.master;
  auto& slave = nodes.slave;
  const bool answer_lost = GENERATE(false, true);
  INFO("answer lost: " << answer_lost);
  add_sale(slave, "TXN-20261124-AAA001", "2026-11-24 09:00:00");
  auto flight = send_batch(slave, master, "transactions", "node-a");
  slave.conn.execute("UPDATE transactions SET notes = 'edited', updated_at = "
                     "'2026-11-24 09:10:00'");
  if (!answer_lost) {
    sync::acknowledge_push(slave.conn, flight.batch, flight.answer, "2026-11-24 12:00:00");
  }
  // After the insert's answer, the edit is what is pending: an update from the version sent.
  const auto* t = tables::find_table("transactions");
  if (answer_lost) {
    auto resent = send_batch(slave, master, "transactions", "node-a");
    CHECK(resent.batch.resent);
    CHECK(resent.answer.contains("replayed"));
    sync::acknowledge_push(slave.conn, resent.batch, resent.answer, "2026-11-24 12:00:00");
  }
  auto next = sync::next_push_batch(slave.conn, lagos(), *t, "node-a", 100,
                                    sync::push_protocol::v2);
  REQUIRE(next);
  const auto body = json::parse(next->body).as_object();
  REQUIRE(body.at("data").as_array().size() == 1);
  const auto& meta = body.at("meta").as_array().at(0).as_object();
  CHECK(meta.at("op").as_string() == "update");
  CHECK(meta.at("base_updated_at").as_string() == "2026-11-24T08:00:00.000000Z");
  slave.conn.execute("DELETE FROM ruxx_sync_outbox");  // built to look at; push_all rebuilds it
  push_all(slave, master, "transactions", "node-a");
  CHECK(slave.scalar("SELECT count(*) FROM ruxx_sync_changes") == 0);
  CHECK(master.scalar("SELECT count(*) FROM transactions") == 1);
  CHECK(master.text("SELECT notes || ' ' || updated_at FROM transactions") ==
        "edited 2026-11-24 09:10:00");
  CHECK(master.scalar("SELECT count(*) FROM ruxx_sync_conflicts") == 0);
  pull_all(master, slave, "transactions");
  CHECK(slave.scalar("SELECT count(*) FROM transactions") == 1);
  CHECK(slave.text("SELECT notes FROM transactions") == "edited");
}

TEST_CASE("a row edited again while its edit is in flight is no conflict with itself",
          "[sync][push_rules]") {
  // The second edit started from the version the first one sent: once the master has stored
  // that version, the master's row is no version the depot never saw.
  ruxx_test::master_and_slave nodes;
  auto& master = nodes.master;
  auto& slave = nodes.slave;
  add_sale(master, "TXN-20261124-UPD001", "2026-11-24 08:00:00");
  pull_all(master, slave, "transactions");
  slave.conn.execute("UPDATE transactions SET notes = 'one', updated_at = '2026-11-24 09:00:00'");
  auto flight = send_batch(slave, master, "transactions", "node-a");
  slave.conn.execute("UPDATE transactions SET notes = 'two', updated_at = '2026-11-24 09:10:00'");
  sync::acknowledge_push(slave.conn, flight.batch, flight.answer, "2026-11-24 12:00:00");
  CHECK(slave.text("SELECT base_updated_at FROM ruxx_sync_changes") == "2026-11-24 09:00:00");
  push_all(slave, master, "transactions", "node-a");
  CHECK(master.text("SELECT notes FROM transactions") == "two");
  CHECK(master.scalar("SELECT count(*) FROM ruxx_sync_conflicts") == 0);
}

TEST_CASE("an edit made in the second of the insert in flight is not lost at a tie",
          "[sync][push_rules]") {
  // updated_at has whole seconds: the app's edit right after the sale (in the same second as
  // the version the push read) carries the same updated_at. It is an edit of exactly the
  // version the master has (its base), not a concurrent version that loses the tie.
  ruxx_test::master_and_slave nodes;
  auto& master = nodes.master;
  auto& slave = nodes.slave;
  const bool pull_first = GENERATE(false, true);
  INFO("pull before the edit is pushed: " << pull_first);
  add_sale(slave, "TXN-20261124-TIE001", "2026-11-24 09:00:00");
  auto flight = send_batch(slave, master, "transactions", "node-a");
  slave.conn.execute("UPDATE transactions SET notes = 'edited'");  // same updated_at
  sync::acknowledge_push(slave.conn, flight.batch, flight.answer, "2026-11-24 12:00:00");
  if (pull_first) pull_all(master, slave, "transactions");
  CHECK(slave.text("SELECT notes FROM transactions") == "edited");
  push_all(slave, master, "transactions", "node-a");
  CHECK(master.text("SELECT notes FROM transactions") == "edited");
  CHECK(master.scalar("SELECT count(*) FROM ruxx_sync_conflicts") == 0);
  pull_all(master, slave, "transactions");
  CHECK(slave.text("SELECT notes FROM transactions") == "edited");
  CHECK(slave.scalar("SELECT count(*) FROM ruxx_sync_changes") == 0);
}

// ---------------------------------------------------------------------------------------------
// 2. A cancelled or refunded sale stays cancelled through conflict resolution.

namespace {

// A master with one tank (1000 kg) and a sale of 12.5 kg made at depot A (stock 987.5 at the
// master), and depots A and B that have pulled both.
struct sale_nodes {
  ruxx_test::temp_dir dir;
  node master{dir / "m.sqlite", sync::node_role::master};
  node a{dir / "a.sqlite", sync::node_role::slave};
  node b{dir / "b.sqlite", sync::node_role::slave};
  sale_nodes() {
    ruxx_test::seed_users(master);
    master.conn.execute("INSERT INTO inventory (id, current_stock, price_per_kg, created_at, "
                        "updated_at) VALUES (1, 1000, 850, '2026-11-01 08:00:00', "
                        "'2026-11-01 08:00:00')");
    for (node* n : {&a, &b}) {
      pull_all(master, *n, "users");
      pull_all(master, *n, "inventory");
    }
    add_sale(a, "TXN-20261124-CAN001", "2026-11-24 09:00:00");
    a.conn.execute("UPDATE inventory SET current_stock = current_stock - 12.5");
    push_all(a, master, "inventory", "node-a");
    push_all(a, master, "transactions", "node-a");
    for (node* n : {&a, &b}) {
      pull_all(master, *n, "inventory");
      pull_all(master, *n, "transactions");
    }
  }
  // The app's cancellation at `n`: the status and the gas given back, in one step.
  static void cancel(node& n, const std::string& status, const std::string& at) {
    n.conn.execute("UPDATE transactions SET status = '" + status + "', updated_at = '" + at +
                   "'");
    n.conn.execute("UPDATE inventory SET current_stock = current_stock + 12.5");
  }
  static void edit_notes(node& n, const std::string& notes, const std::string& at) {
    n.conn.execute("UPDATE transactions SET notes = '" + notes + "', updated_at = '" + at + "'");
  }
  // Starting stock - completed sales (the harness's invariant; no additions here).
  double expected_stock() {
    return 1000 - master.real("SELECT COALESCE(sum(quantity_kg), 0) FROM transactions WHERE "
                              "status = 'completed'");
  }
};

}  // namespace

TEST_CASE("a cancellation that loses last-writer-wins keeps its status at the master",
          "[sync][push_rules]") {
  sale_nodes nodes;
  auto& master = nodes.master;
  const std::string status = GENERATE("cancelled", "refunded");
  const bool cancel_first = GENERATE(true, false);
  INFO(status << ", cancellation arrives first: " << cancel_first);
  // A cancels at 10:00; B, which never saw the cancellation, edits the notes at 10:05.
  sale_nodes::cancel(nodes.a, status, "2026-11-24 10:00:00");
  sale_nodes::edit_notes(nodes.b, "from B", "2026-11-24 10:05:00");
  auto push_a = [&] {
    push_all(nodes.a, master, "inventory", "node-a");
    push_all(nodes.a, master, "transactions", "node-a");
  };
  if (cancel_first) push_a();
  push_all(nodes.b, master, "transactions", "node-b");
  if (!cancel_first) push_a();

  CHECK(master.text("SELECT status || ' ' || notes || ' ' || updated_at FROM transactions") ==
        status + " from B 2026-11-24 10:05:00");
  CHECK(master.real("SELECT current_stock FROM inventory") == Approx(nodes.expected_stock()));
  CHECK(master.real("SELECT current_stock FROM inventory") == Approx(1000));
  // The version that lost is in the conflict log either way.
  CHECK(master.scalar("SELECT count(*) FROM ruxx_sync_conflicts WHERE table_name = "
                      "'transactions'") == 1);
  CHECK(master.scalar("SELECT count(*) FROM ruxx_sync_conflicts WHERE losing_row LIKE '%\"" +
                      std::string(cancel_first ? status : "first") + "\"%'") == 1);
  for (node* n : {&nodes.a, &nodes.b}) {
    pull_all(master, *n, "transactions");
    pull_all(master, *n, "inventory");
    CHECK(n->text("SELECT status || ' ' || notes FROM transactions") == status + " from B");
    CHECK(n->real("SELECT current_stock FROM inventory") == Approx(1000));
    CHECK(n->scalar("SELECT count(*) FROM ruxx_sync_changes") == 0);
  }
}

TEST_CASE("a cancellation merged into a newer master version is not undone by the next edit",
          "[sync][push_rules]") {
  // Convergence seed 60766: A's cancellation lost to B's newer edit and the master's row took
  // the status 'cancelled' keeping B's updated_at. B, whose base was that updated_at, then
  // edited again and its push counted as a fast-forward of the master's version: the sale went
  // back to 'completed' with its gas still in the tank.
  sale_nodes nodes;
  auto& master = nodes.master;
  const std::string status = GENERATE("cancelled", "refunded");
  INFO(status);
  sale_nodes::edit_notes(nodes.b, "from B", "2026-11-24 10:05:00");
  push_all(nodes.b, master, "transactions", "node-b");
  sale_nodes::cancel(nodes.a, status, "2026-11-24 10:00:00");  // older than B's version
  push_all(nodes.a, master, "inventory", "node-a");
  push_all(nodes.a, master, "transactions", "node-a");
  REQUIRE(master.text("SELECT status FROM transactions") == status);
  // B has not pulled since: its next edit is based on the version it pushed (10:05:00).
  sale_nodes::edit_notes(nodes.b, "from B again", "2026-11-24 10:10:00");
  push_all(nodes.b, master, "transactions", "node-b");

  CHECK(master.text("SELECT status || ' ' || notes || ' ' || updated_at FROM transactions") ==
        status + " from B again 2026-11-24 10:10:00");
  CHECK(master.real("SELECT current_stock FROM inventory") == Approx(nodes.expected_stock()));
  CHECK(master.real("SELECT current_stock FROM inventory") == Approx(1000));
  // Both meetings are in the conflict log: A's cancellation, which lost its other columns, and
  // B's second edit, which won them but not the status (the master's version it replaced is
  // the losing row, B's the winning one, the reason says the status stayed).
  CHECK(master.scalar("SELECT count(*) FROM ruxx_sync_conflicts") == 2);
  CHECK(master.scalar("SELECT count(*) FROM ruxx_sync_conflicts WHERE losing_row LIKE '%\"" +
                      status + "\"%' AND losing_row LIKE '%\"first\"%'") == 1);
  CHECK(master.scalar("SELECT count(*) FROM ruxx_sync_conflicts WHERE winning_row LIKE "
                      "'%\"from B again\"%' AND reason LIKE '%keeps the master''s status ''" +
                      status + "''%'") == 1);
  for (node* n : {&nodes.a, &nodes.b}) {
    pull_all(master, *n, "transactions");
    pull_all(master, *n, "inventory");
    CHECK(n->text("SELECT status || ' ' || notes FROM transactions") == status + " from B again");
    CHECK(n->real("SELECT current_stock FROM inventory") == Approx(1000));
  }
}

TEST_CASE("a version 1 push does not revert a cancelled sale", "[sync][push_rules]") {
  sale_nodes nodes;
  auto& master = nodes.master;
  sale_nodes::cancel(nodes.a, "cancelled", "2026-11-24 10:00:00");
  push_all(nodes.a, master, "inventory", "node-a");
  push_all(nodes.a, master, "transactions", "node-a");
  sale_nodes::edit_notes(nodes.b, "from B", "2026-11-24 10:05:00");
  const auto* t = tables::find_table("transactions");
  auto batch = sync::next_push_batch(nodes.b.conn, lagos(), *t, "", 100, sync::push_protocol::v1);
  REQUIRE(batch);
  auto body = json::parse(batch->body).as_object();
  sync::push_request req{t, &body.at("data").as_array(), nullptr, nullptr, "", ""};
  REQUIRE(std::holds_alternative<json::object>(sync::apply_push(master.conn, lagos(), req)));
  CHECK(master.text("SELECT status || ' ' || notes FROM transactions") == "cancelled from B");
  CHECK(master.scalar("SELECT count(*) FROM ruxx_sync_conflicts WHERE losing_row LIKE "
                      "'%\"cancelled\"%'") == 1);
  CHECK(master.real("SELECT current_stock FROM inventory") == Approx(nodes.expected_stock()));
}

TEST_CASE("a pull does not revert a cancellation the depot has not pushed yet",
          "[sync][push_rules]") {
  sale_nodes nodes;
  auto& master = nodes.master;
  auto& a = nodes.a;
  sale_nodes::edit_notes(nodes.b, "from B", "2026-11-24 10:05:00");
  push_all(nodes.b, master, "transactions", "node-b");
  sale_nodes::cancel(a, "refunded", "2026-11-24 10:00:00");
  pull_all(master, a, "transactions");  // B's newer version arrives before A pushes
  CHECK(a.text("SELECT status || ' ' || notes || ' ' || updated_at FROM transactions") ==
        "refunded from B 2026-11-24 10:05:00");
  REQUIRE(a.scalar("SELECT count(*) FROM ruxx_sync_changes WHERE table_name = 'transactions' AND "
                   "op = 'update' AND base_updated_at = '2026-11-24 10:05:00'") == 1);
  push_all(a, master, "inventory", "node-a");
  push_all(a, master, "transactions", "node-a");
  CHECK(master.text("SELECT status || ' ' || notes || ' ' || updated_at FROM transactions") ==
        "refunded from B 2026-11-24 10:05:00");
  CHECK(master.real("SELECT current_stock FROM inventory") == Approx(nodes.expected_stock()));
  // A cancelled the version it had received: no conflict.
  CHECK(master.scalar("SELECT count(*) FROM ruxx_sync_conflicts") == 0);
  pull_all(master, nodes.b, "transactions");
  CHECK(nodes.b.text("SELECT status FROM transactions") == "refunded");
}

TEST_CASE("a newer completed sale still wins over an older one; a newer cancellation wins",
          "[sync][push_rules]") {
  sale_nodes nodes;
  auto& master = nodes.master;
  sale_nodes::edit_notes(nodes.a, "from A", "2026-11-24 10:00:00");
  sale_nodes::cancel(nodes.b, "cancelled", "2026-11-24 10:05:00");
  push_all(nodes.b, master, "inventory", "node-b");
  push_all(nodes.b, master, "transactions", "node-b");
  push_all(nodes.a, master, "transactions", "node-a");
  CHECK(master.text("SELECT status || ' ' || notes FROM transactions") == "cancelled first");
  CHECK(master.real("SELECT current_stock FROM inventory") == Approx(nodes.expected_stock()));
}

// ---------------------------------------------------------------------------------------------
// 3. A depot's delete of a row the master changed meanwhile.

TEST_CASE("a delete of a row changed at the master meanwhile applies and logs the master's "
          "version", "[sync][push_rules]") {
  ruxx_test::master_and_slave nodes;
  auto& master = nodes.master;
  auto& slave = nodes.slave;
  add_adjustment(master, "2026-11-24 08:00:00");
  pull_all(master, slave, "inventory_adjustments");
  const bool edited_at_depot = GENERATE(false, true);
  const bool changed_at_master = GENERATE(false, true);
  INFO("edited at the depot first: " << edited_at_depot
                                     << ", changed at the master: " << changed_at_master);
  if (edited_at_depot) {
    slave.conn.execute("UPDATE inventory_adjustments SET notes = 'depot', updated_at = "
                       "'2026-11-24 09:00:00'");
  }
  if (changed_at_master) {
    master.conn.execute("UPDATE inventory_adjustments SET notes = 'plant', updated_at = "
                        "'2026-11-24 09:30:00'");
  }
  slave.conn.execute("DELETE FROM inventory_adjustments");
  // The tombstone carries the version the depot deleted: the one it received from the master.
  CHECK(slave.text("SELECT base_updated_at FROM ruxx_sync_changes WHERE op = 'delete'") ==
        "2026-11-24 08:00:00");
  const auto answer = push_all(slave, master, "inventory_adjustments", "node-a");
  CHECK(master.scalar("SELECT count(*) FROM inventory_adjustments") == 0);
  CHECK(master.scalar("SELECT count(*) FROM ruxx_sync_conflicts WHERE table_name = "
                      "'inventory_adjustments' AND reason LIKE 'deleted by node-a%' AND "
                      "losing_row LIKE '%plant%'") == (changed_at_master ? 1 : 0));
  CHECK(master.scalar("SELECT count(*) FROM ruxx_sync_conflicts") == (changed_at_master ? 1 : 0));
  pull_all(master, slave, "inventory_adjustments");
  CHECK(slave.scalar("SELECT count(*) FROM inventory_adjustments") == 0);
}

TEST_CASE("a row deleted while its insert was in flight, then changed at the master, is logged",
          "[sync][push_rules]") {
  // The depot deleted the version it had sent; the delete that follows the answer is based on
  // it, so a change another node made meanwhile is a version the depot never saw.
  ruxx_test::master_and_slave nodes;
  auto& master = nodes.master;
  auto& slave = nodes.slave;
  auto flight = new_adjustment_in_flight(nodes);
  master.conn.execute("UPDATE inventory_adjustments SET notes = 'plant', updated_at = "
                      "'2026-11-24 09:30:00'");
  slave.conn.execute("DELETE FROM inventory_adjustments");
  sync::acknowledge_push(slave.conn, flight.batch, flight.answer, "2026-11-24 12:00:00");
  CHECK(slave.text("SELECT base_updated_at FROM ruxx_sync_changes WHERE op = 'delete'") ==
        "2026-11-24 09:00:00");
  push_all(slave, master, "inventory_adjustments", "node-a");
  CHECK(master.scalar("SELECT count(*) FROM inventory_adjustments") == 0);
  CHECK(master.scalar("SELECT count(*) FROM ruxx_sync_conflicts WHERE reason LIKE 'deleted by "
                      "node-a%' AND losing_row LIKE '%plant%'") == 1);
}

// ---------------------------------------------------------------------------------------------
// 4. updated_at is required in a pushed row of a last-writer-wins table.

TEST_CASE("a pushed row without updated_at is refused, naming the field, changing nothing",
          "[push][push_rules]") {
  ruxx_test::master_and_slave nodes;
  auto& master = nodes.master;
  const auto* t = tables::find_table(GENERATE("transactions", "users", "inventory_adjustments"));
  const bool v2 = GENERATE(false, true);
  const bool null_value = GENERATE(false, true);
  INFO(t->name << " v2: " << v2 << " null: " << null_value);
  json::object row;
  if (t->name == "transactions") {
    row = {{"id", 7}, {"transaction_number", "TXN-20261124-NOU001"}, {"cashier_id", 2},
           {"quantity_kg", "1.00"}, {"price_per_kg", "850.00"}, {"total_amount", "850.00"},
           {"created_at", "2026-11-24T08:00:00Z"}};
  } else if (t->name == "users") {
    row = {{"id", 7}, {"name", "N"}, {"email", "n@x"}, {"password", "h"},
           {"created_at", "2026-11-24T08:00:00Z"}};
  } else {
    row = {{"id", 7}, {"user_id", 1}, {"type", "loss"}, {"quantity_kg", "1.00"},
           {"previous_stock", "2.00"}, {"new_stock", "1.00"}, {"reason", "r"},
           {"created_at", "2026-11-24T08:00:00Z"}};
  }
  if (null_value) row["updated_at"] = nullptr;
  const json::object good_row = [&] {
    json::object r = row;
    r["id"] = 8;
    r["updated_at"] = "2026-11-24T08:00:00Z";
    if (t->name == "transactions") r["transaction_number"] = "TXN-20261124-NOU002";
    if (t->name == "users") r["email"] = "m@x";
    return r;
  }();
  json::array data{good_row, row};
  json::array meta{json::object{{"op", "insert"}}, json::object{{"op", "insert"}}};
  json::array deleted;
  const auto before = master.scalar("SELECT count(*) FROM " + std::string(t->name));
  const auto changes_before = master.scalar("SELECT count(*) FROM ruxx_sync_changes");
  sync::push_request req{t, &data, v2 ? &meta : nullptr, v2 ? &deleted : nullptr,
                         v2 ? "node-a" : "", v2 ? "batch-1" : ""};
  const auto result = sync::apply_push(master.conn, lagos(), req);
  REQUIRE(std::holds_alternative<sync::push_rejection>(result));
  const auto& errors = std::get<sync::push_rejection>(result).errors;
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].field == "data.1.updated_at");
  CHECK(master.scalar("SELECT count(*) FROM " + std::string(t->name)) == before);
  CHECK(master.scalar("SELECT count(*) FROM ruxx_sync_changes") == changes_before);
  CHECK(master.scalar("SELECT count(*) FROM ruxx_sync_batches") == 0);
}
