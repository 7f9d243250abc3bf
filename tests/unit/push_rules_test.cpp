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
  add_adjustment(slave, "2026-11-24 09:00:00");
  auto flight = send_batch(slave, master, "inventory_adjustments", "node-a");
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
