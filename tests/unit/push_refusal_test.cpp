// A batch the master refuses because of some of its rows: which rows (refused_rows), and how
// they are moved behind the others (requeue_changes) so that the rows after them still go,
// while the refused ones stay pending with their op and base.
#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/sync/push_apply.hpp>
#include <synccore/sync/push_batch.hpp>
#include <synccore/sync/push_refusal.hpp>
#include <synccore/tables/table_descriptor.hpp>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <variant>

#include "sync_nodes.hpp"

namespace json = boost::json;
using namespace synccore;

namespace {

sync::push_batch batch_of(std::initializer_list<std::int64_t> ids) {
  sync::push_batch b;
  b.table = "transactions";
  for (auto id : ids) b.sent_versions.emplace_back(id, "2026-11-24 09:00:00");
  return b;
}

void add_sale(ruxx_test::node& n, const std::string& number, const char* updated_at) {
  auto st = n.conn.prepare(
      "INSERT INTO transactions (transaction_number, cashier_id, quantity_kg, price_per_kg, "
      "total_amount, created_at, updated_at) VALUES (?, 2, 12.5, 850, 10625, "
      "'2026-11-24 09:00:00', ?)");
  st.bind(1, number);
  if (updated_at) {
    st.bind(2, updated_at);
  } else {
    st.bind_null(2);
  }
  st.run();
}

// Sends `batch` to `master` as the server would; returns whether the master took it.
bool send(ruxx_test::node& slave, ruxx_test::node& master, const sync::push_batch& batch) {
  const auto* t = tables::find_table(batch.table);
  auto body = json::parse(batch.body).as_object();
  sync::push_request req{t, &body.at("data").as_array(), &body.at("meta").as_array(),
                         &body.at("deleted").as_array(), "node-a", batch.batch_id};
  auto result = sync::apply_push(master.conn, ruxx_test::lagos(), req);
  if (!std::holds_alternative<json::object>(result)) return false;
  sync::acknowledge_push(slave.conn, batch, std::get<json::object>(result),
                         "2026-11-24 12:00:00");
  return true;
}

}  // namespace

TEST_CASE("refused_rows finds the rows a 422 names, once each, with the master's words",
          "[push][refusal]") {
  const auto batch = batch_of({11, 12, 13});
  SECTION("one column of one row") {
    const auto rows = sync::refused_rows(
        batch, R"({"error":"Validation failed","errors":{"data.1.updated_at":)"
               R"(["The updated_at field is required."]}})");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].index == 1);
    CHECK(rows[0].local_id == 12);
    CHECK(rows[0].reasons == "updated_at: The updated_at field is required.");
  }
  SECTION("several rows and columns, in batch order") {
    const auto rows = sync::refused_rows(
        batch, R"({"errors":{"data.2.cashier_id":["refers to users.id 9, which does not )"
               R"(exist"],"data.0.status":["bad"],"data.0.updated_at":["missing"]}})");
    REQUIRE(rows.size() == 2);
    CHECK(rows[0].local_id == 11);
    CHECK(rows[0].reasons == "status: bad; updated_at: missing");
    CHECK(rows[1].local_id == 13);
  }
  SECTION("a whole row") {
    const auto rows = sync::refused_rows(batch, R"({"errors":{"data.0":["not an object"]}})");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0].reasons == "not an object");
  }
  SECTION("anything that is not about single rows refuses the batch as a whole") {
    CHECK(sync::refused_rows(batch, R"({"errors":{"table":["unknown"]}})").empty());
    CHECK(sync::refused_rows(batch, R"({"errors":{"data.1.x":["a"],"meta":["b"]}})").empty());
    CHECK(sync::refused_rows(batch, R"({"errors":{"deleted.0.key":["a"]}})").empty());
    CHECK(sync::refused_rows(batch, R"({"errors":{"data.3.x":["past the batch"]}})").empty());
    CHECK(sync::refused_rows(batch, R"({"errors":{"data.x.y":["a"]}})").empty());
    CHECK(sync::refused_rows(batch, R"({"errors":{}})").empty());
    CHECK(sync::refused_rows(batch, R"({"error":"Payload Too Large"})").empty());
    CHECK(sync::refused_rows(batch, "<html>").empty());
  }
  SECTION("a row sent without an id cannot be held back") {
    CHECK(sync::refused_rows(batch_of({0, 12}), R"({"errors":{"data.0.x":["a"]}})").empty());
  }
}

TEST_CASE("a refused sale waits behind the others, pending, and goes once fixed",
          "[push][refusal]") {
  ruxx_test::master_and_slave nodes;
  auto& slave = nodes.slave;
  auto& master = nodes.master;
  const auto* t = tables::find_table("transactions");
  add_sale(slave, "TXN-A", "2026-11-24 09:00:00");
  add_sale(slave, "TXN-BAD", nullptr);  // hand-written: no updated_at, which the master refuses
  add_sale(slave, "TXN-C", "2026-11-24 09:02:00");
  const auto bad_id = slave.scalar("SELECT id FROM transactions WHERE transaction_number = "
                                   "'TXN-BAD'");

  auto first = sync::next_push_batch(slave.conn, ruxx_test::lagos(), *t, "node-a", 100,
                                     sync::push_protocol::v2);
  REQUIRE(first);
  REQUIRE_FALSE(send(slave, master, *first));  // the whole batch is refused: nothing stored
  CHECK(master.scalar("SELECT count(*) FROM transactions") == 0);
  slave.conn.execute("DELETE FROM ruxx_sync_outbox");  // what the agent does on a refusal

  const auto refused = sync::refused_rows(
      *first, R"({"errors":{"data.1.updated_at":["The updated_at field is required."]}})");
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].local_id == bad_id);
  // The highest seq ever given is above every entry left (the top entry is gone), so a moved
  // entry must not reuse it.
  slave.conn.execute("INSERT INTO ruxx_sync_changes (table_name, row_id, row_key, op) VALUES "
                     "('users', 999, '999', 'update')");
  const auto top = slave.scalar("SELECT max(seq) FROM ruxx_sync_changes");
  slave.conn.execute("DELETE FROM ruxx_sync_changes WHERE row_id = 999");
  sync::requeue_changes(slave.conn, "transactions", {bad_id});
  CHECK(slave.scalar("SELECT seq FROM ruxx_sync_changes WHERE row_id = " +
                     std::to_string(bad_id)) > top);
  CHECK(slave.text("SELECT op FROM ruxx_sync_changes WHERE row_id = " +
                   std::to_string(bad_id)) == "insert");

  const std::set<std::int64_t> held{bad_id};
  auto rest = sync::next_push_batch(slave.conn, ruxx_test::lagos(), *t, "node-a", 100,
                                    sync::push_protocol::v2, held);
  REQUIRE(rest);
  CHECK(rest->rows == 2);
  REQUIRE(send(slave, master, *rest));
  CHECK(master.scalar("SELECT count(*) FROM transactions WHERE transaction_number IN "
                      "('TXN-A', 'TXN-C')") == 2);
  // Only the refused sale is left, still an insert; in this run nothing more is sent.
  CHECK(slave.scalar("SELECT count(*) FROM ruxx_sync_changes WHERE table_name = "
                     "'transactions'") == 1);
  CHECK_FALSE(sync::next_push_batch(slave.conn, ruxx_test::lagos(), *t, "node-a", 100,
                                    sync::push_protocol::v2, held));

  // A sale made after the refusal waits behind the held one in this run; the next run sends
  // the held one first again. Fixed at the depot, it goes through, once.
  add_sale(slave, "TXN-D", "2026-11-24 09:03:00");
  CHECK_FALSE(sync::next_push_batch(slave.conn, ruxx_test::lagos(), *t, "node-a", 100,
                                    sync::push_protocol::v2, held));
  slave.conn.execute("UPDATE transactions SET updated_at = '2026-11-24 09:01:00' WHERE "
                     "transaction_number = 'TXN-BAD'");
  ruxx_test::push_all(slave, master, "transactions", "node-a");
  CHECK(master.scalar("SELECT count(*) FROM transactions") == 4);
  CHECK(master.scalar("SELECT count(DISTINCT transaction_number) FROM transactions") == 4);
  CHECK(slave.scalar("SELECT count(*) FROM ruxx_sync_changes") == 0);
}
