// Unit tests of batched inserts (sync::batch_inserter and its use by the master's apply_push and
// the slave's apply_pull_page): every row is stored exactly once under the id that is reported,
// is captured in the change log where it should be, later rows of the same batch see earlier
// ones, and a bad row in the middle of a multi-row statement is named and stores nothing.
#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/db/transaction.hpp>
#include <synccore/schema/schema_installer.hpp>
#include <synccore/schema/table_schema.hpp>
#include <synccore/sync/batch_inserter.hpp>
#include <synccore/sync/change_capture.hpp>
#include <synccore/sync/pull_apply.hpp>
#include <synccore/sync/push_apply.hpp>
#include <synccore/tables/table_descriptor.hpp>
#include <synccore/time/app_zone.hpp>

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <utility>

#include "sync_nodes.hpp"
#include "temp_dir.hpp"

namespace json = boost::json;
using namespace synccore;

namespace {

using ruxx_test::lagos;

// A master with an admin (1) and a cashier (2).
struct master_db : ruxx_test::node {
  explicit master_db(const std::filesystem::path& path)
      : node(path, sync::node_role::master) {
    conn.execute(
        "INSERT INTO users (id, name, email, password, created_at, updated_at) VALUES "
        "(1, 'Admin', 'a@x', 'h', '2026-11-01 08:00:00', '2026-11-01 08:00:00'),"
        "(2, 'Cashier', 'c@x', 'h', '2026-11-01 08:00:00', '2026-11-01 08:00:00')");
  }
};

std::string txn_number(int i) { return "TXN-20261124-" + std::to_string(10000 + i); }

json::object sale(int i, std::int64_t cashier = 2, std::string_view updated = "2026-11-24T09:00:00Z") {
  return json::object{{"id", i},
                      {"transaction_number", txn_number(i)},
                      {"cashier_id", cashier},
                      {"quantity_kg", "12.50"},
                      {"price_per_kg", "850.00"},
                      {"total_amount", "10625.00"},
                      {"customer_name", "Customer " + std::to_string(i)},
                      {"status", "completed"},
                      {"payment_type", "cash"},
                      {"created_at", "2026-11-24T09:00:00Z"},
                      {"updated_at", updated}};
}

// Sales 0..count-1 decoded for the master's transactions table; sale `bad` names no user.
std::vector<codec::decoded_row> decoded_sales(const schema::table_schema& table, int count,
                                              int bad = -1) {
  codec::row_decoder decoder(table, lagos(), {});
  std::vector<codec::decoded_row> rows;
  for (int i = 0; i < count; ++i) {
    auto decoded = decoder.decode(sale(i, i == bad ? 999 : 2));
    REQUIRE(decoded);
    rows.push_back(std::move(decoded).value());
  }
  return rows;
}

// A sale the master's own app made, stored under `id` with `number`.
void add_master_sale(master_db& m, int id, const std::string& number) {
  m.conn.execute("INSERT INTO transactions (id, transaction_number, cashier_id, quantity_kg, "
                 "price_per_kg, total_amount, created_at, updated_at) VALUES (" +
                 std::to_string(id) + ", '" + number + "', 1, 1, 850, 850, "
                 "'2026-11-24 08:00:00', '2026-11-24 08:00:00')");
}

// Version 2 metadata of a row pushed as new.
json::object new_row_meta() {
  return json::object{{"op", "insert"}, {"base_updated_at", nullptr}};
}

// Sales first..last as version 2 data, each with its metadata as a new row.
std::pair<json::array, json::array> new_sales(int first, int last) {
  std::pair<json::array, json::array> out;
  for (int i = first; i <= last; ++i) {
    out.first.push_back(sale(i));
    out.second.push_back(new_row_meta());
  }
  return out;
}

sync::push_result push_v1(master_db& m, std::string_view table, const json::array& data) {
  sync::push_request req;
  req.table = tables::find_table(table);
  req.data = &data;
  return sync::apply_push(m.conn, lagos(), req);
}

sync::push_result push_v2(master_db& m, std::string_view table, const json::array& data,
                          const json::array& meta, const std::string& batch,
                          const json::array* deleted = nullptr) {
  sync::push_request req;
  req.table = tables::find_table(table);
  req.data = &data;
  req.meta = &meta;
  req.deleted = deleted;
  req.node_id = "node-a";
  req.batch_id = batch;
  return sync::apply_push(m.conn, lagos(), req);
}

}  // namespace

TEST_CASE("batch_inserter: rows numbered by SQLite learn their ids by identity", "[push]") {
  ruxx_test::temp_dir dir;
  master_db m(dir / "m.sqlite");
  const auto table = schema::read_table_schema(m.conn, "transactions");
  const auto rows = decoded_sales(table, 150);  // more than one statement: 64 + 64 + 22
  std::map<std::size_t, std::int64_t> ids;
  db::transaction tx(m.conn);
  sync::batch_inserter inserter(m.conn, table, "transaction_number", {"transaction_number"},
                                [&](std::size_t tag, std::int64_t id) {
                                  CHECK(ids.emplace(tag, id).second);  // told once per row
                                });
  for (std::size_t i = 0; i < rows.size(); ++i) {
    REQUIRE(inserter.accepts(rows[i], false));
    inserter.add(rows[i], false, i);
    CHECK(inserter.holds_value("transaction_number", txn_number(static_cast<int>(i))) ==
          !inserter.empty());
  }
  inserter.flush();
  CHECK(inserter.empty());
  tx.commit();
  REQUIRE(ids.size() == rows.size());
  std::set<std::int64_t> distinct;
  for (const auto& [tag, id] : ids) {
    distinct.insert(id);
    CHECK(m.text("SELECT transaction_number FROM transactions WHERE id = " + std::to_string(id)) ==
          txn_number(static_cast<int>(tag)));
  }
  CHECK(distinct.size() == rows.size());
  CHECK(m.scalar("SELECT count(*) FROM transactions") == 150);
  // The change-capture trigger ran for every row of the multi-row statements.
  CHECK(m.scalar("SELECT count(*) FROM ruxx_sync_changes WHERE table_name = 'transactions' AND "
                 "op = 'insert'") == 150);
}

TEST_CASE("batch_inserter: a row that breaks a constraint is named by its tag", "[push]") {
  ruxx_test::temp_dir dir;
  master_db m(dir / "m.sqlite");
  const auto table = schema::read_table_schema(m.conn, "transactions");
  const auto rows = decoded_sales(table, 40, 23);
  db::transaction tx(m.conn);
  int told = 0;
  sync::batch_inserter inserter(m.conn, table, "transaction_number", {},
                                [&](std::size_t, std::int64_t) { ++told; });
  for (std::size_t i = 0; i < rows.size(); ++i) inserter.add(rows[i], true, i);
  CHECK(inserter.holds_id(23));
  CHECK_FALSE(inserter.holds_id(40));
  try {
    inserter.flush();
    FAIL("the foreign key of row 23 was not reported");
  } catch (const sync::batch_row_failure& failure) {
    CHECK(failure.tag == 23);
    CHECK(failure.error.is_constraint());
  }
  CHECK(inserter.empty());  // nothing stays queued to be written twice
  CHECK(told == 23);        // the rows before it, written one by one to find it
}

TEST_CASE("a large v1 push stores every sale once and answers with the stored ids", "[push]") {
  ruxx_test::temp_dir dir;
  master_db m(dir / "m.sqlite");
  // The master already has a sale under id 5: a slave's local ids mean nothing here.
  add_master_sale(m, 5, "TXN-MASTER");
  json::array data;
  for (int i = 1; i <= 300; ++i) data.push_back(sale(i));
  // Row 201 carries the same sale as row 11, edited later: one row at the master, newest wins.
  auto edited = sale(11, 2, "2026-11-24T11:00:00Z");
  edited["customer_name"] = "Edited later";
  data[200] = edited;
  // Row 250 leaves a nullable column out: another column set in the middle of the batch.
  data[249].as_object().erase("customer_name");
  auto result = push_v1(m, "transactions", data);
  REQUIRE(std::holds_alternative<json::object>(result));
  CHECK(std::get<json::object>(result).at("synced_count").to_number<std::int64_t>() == 300);
  CHECK(m.scalar("SELECT count(*) FROM transactions") == 300);  // 299 sales + TXN-MASTER
  CHECK(m.text("SELECT customer_name FROM transactions WHERE transaction_number = '" +
               txn_number(11) + "'") == "Edited later");
  CHECK(m.scalar("SELECT count(*) FROM transactions WHERE transaction_number = '" +
                 txn_number(250) + "' AND customer_name IS NULL") == 1);
  CHECK(m.scalar("SELECT count(*) FROM ruxx_sync_changes WHERE table_name = 'transactions'") ==
        300);
  CHECK(m.text("SELECT transaction_number FROM transactions WHERE id = 5") == "TXN-MASTER");
}

TEST_CASE("a v2 push answers each row with the id it was stored under", "[push]") {
  ruxx_test::temp_dir dir;
  master_db m(dir / "m.sqlite");
  add_master_sale(m, 7, "TXN-MASTER");
  json::array data;
  json::array meta;
  for (int i = 1; i <= 200; ++i) {
    data.push_back(sale(i));
    meta.push_back(new_row_meta());
  }
  auto result = push_v2(m, "transactions", data, meta, "batch-1");
  REQUIRE(std::holds_alternative<json::object>(result));
  const auto& results = std::get<json::object>(result).at("results").as_array();
  REQUIRE(results.size() == 200);
  std::set<std::int64_t> ids;
  for (const auto& r : results) {
    const auto& o = r.as_object();
    CHECK(o.at("status").as_string() == "applied");
    const auto id = o.at("id").as_int64();
    ids.insert(id);
    CHECK(m.text("SELECT transaction_number FROM transactions WHERE id = " + std::to_string(id)) ==
          std::string(o.at("key").as_string()));
  }
  CHECK(ids.size() == 200);
  CHECK(ids.count(7) == 0);
  // The retried batch is answered from the stored answer and stores nothing twice.
  auto again = push_v2(m, "transactions", data, meta, "batch-1");
  REQUIRE(std::holds_alternative<json::object>(again));
  CHECK(std::get<json::object>(again).at("results") == std::get<json::object>(result).at("results"));
  CHECK(m.scalar("SELECT count(*) FROM transactions") == 201);
}

TEST_CASE("stored batch answers older than a week are pruned once superseded", "[push]") {
  // A node's next batch for a table means its earlier ones were answered (one outbox entry per
  // table): those over a week old are removed; the newest, recent ones, other tables' and other
  // nodes' stay, and the newest is still answered from its record when retried.
  ruxx_test::temp_dir dir;
  master_db m(dir / "m.sqlite");
  auto [first, first_meta] = new_sales(1, 3);
  REQUIRE(std::holds_alternative<json::object>(
      push_v2(m, "transactions", first, first_meta, "batch-old")));
  m.conn.execute("INSERT INTO ruxx_sync_batches (node_id, batch_id, table_name, response, "
                 "created_at) VALUES ('node-a', 'batch-recent', 'transactions', '{}', "
                 "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-6 days')), "
                 "('node-a', 'batch-users', 'users', '{}', '2026-01-01T00:00:00.000Z'), "
                 "('node-b', 'batch-b', 'transactions', '{}', '2026-01-01T00:00:00.000Z')");
  m.conn.execute("UPDATE ruxx_sync_batches SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ', "
                 "'now', '-8 days') WHERE batch_id = 'batch-old'");
  auto [next, next_meta] = new_sales(4, 5);
  const auto answer = push_v2(m, "transactions", next, next_meta, "batch-new");
  REQUIRE(std::holds_alternative<json::object>(answer));
  CHECK(m.scalar("SELECT count(*) FROM ruxx_sync_batches WHERE batch_id = 'batch-old'") == 0);
  CHECK(m.scalar("SELECT count(*) FROM ruxx_sync_batches WHERE batch_id IN ('batch-recent', "
                 "'batch-users', 'batch-b', 'batch-new')") == 4);
  const auto again = push_v2(m, "transactions", next, next_meta, "batch-new");
  REQUIRE(std::holds_alternative<json::object>(again));
  CHECK(std::get<json::object>(again).at("results") ==
        std::get<json::object>(answer).at("results"));
  CHECK(m.scalar("SELECT count(*) FROM transactions") == 5);
}

TEST_CASE("a bad row in the middle of a large push is named and nothing is stored", "[push]") {
  ruxx_test::temp_dir dir;
  master_db m(dir / "m.sqlite");
  json::array data;
  for (int i = 1; i <= 150; ++i) data.push_back(sale(i));
  SECTION("a cashier that does not exist") {
    data[96].as_object()["cashier_id"] = 999;
    auto result = push_v1(m, "transactions", data);
    REQUIRE(std::holds_alternative<sync::push_rejection>(result));
    const auto& errors = std::get<sync::push_rejection>(result).errors;
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].field == "data.96.cashier_id");
  }
  SECTION("a status the app does not allow") {
    data[130].as_object()["status"] = "stolen";
    auto result = push_v1(m, "transactions", data);
    REQUIRE(std::holds_alternative<sync::push_rejection>(result));
    CHECK(std::get<sync::push_rejection>(result).errors.at(0).field == "data.130.status");
  }
  CHECK(m.scalar("SELECT count(*) FROM transactions") == 0);
  CHECK(m.scalar("SELECT count(*) FROM ruxx_sync_changes WHERE table_name = 'transactions'") == 0);
}

// The master's insert trigger stands aside for a push's batched rows and the inserter writes
// their change-log entries itself: each must be the entry the trigger writes for an app insert.
TEST_CASE("a push writes the change-log entries the insert trigger would have written", "[push]") {
  ruxx_test::temp_dir dir;
  master_db m(dir / "m.sqlite");
  auto [data, meta] = new_sales(1, 150);
  // A sale deleted on the master earlier keeps its tombstone.
  add_master_sale(m, 900, "TXN-DELETED");
  m.conn.execute("DELETE FROM transactions WHERE id = 900");
  SECTION("version 1") {
    REQUIRE(std::holds_alternative<json::object>(push_v1(m, "transactions", data)));
    CHECK(m.scalar("SELECT count(*) FROM ruxx_sync_changes WHERE op = 'insert' AND origin = "
                   "'php-slave'") == 150);
  }
  SECTION("version 2, rows keeping their ids") {
    REQUIRE(std::holds_alternative<json::object>(
        push_v2(m, "transactions", data, meta, "batch-1")));
    CHECK(m.scalar("SELECT count(*) FROM ruxx_sync_changes WHERE op = 'insert' AND origin = "
                   "'node-a'") == 150);
  }
  // One entry per stored row, keyed by its id and its transaction number as the trigger does.
  CHECK(m.scalar("SELECT count(*) FROM ruxx_sync_changes c JOIN transactions t ON t.id = "
                 "c.row_id WHERE c.table_name = 'transactions' AND c.row_key = "
                 "CAST(t.transaction_number AS TEXT)") == 150);
  CHECK(m.scalar("SELECT count(*) FROM ruxx_sync_changes WHERE table_name = 'transactions'") ==
        151);  // and the tombstone of TXN-DELETED
  CHECK(m.scalar("SELECT count(*) FROM ruxx_sync_changes WHERE row_key = 'TXN-DELETED' AND op = "
                 "'delete'") == 1);
  // The trigger is back at work for the app: suppress is off and an app insert is captured.
  CHECK(m.scalar("SELECT suppress FROM ruxx_sync_capture") == 0);
  add_master_sale(m, 5000, "TXN-APP");
  CHECK(m.text("SELECT op || ':' || origin || ':' || row_key FROM ruxx_sync_changes WHERE "
               "row_id = 5000") == "insert:local:TXN-APP");
  CHECK(m.scalar("SELECT max(seq) FROM ruxx_sync_changes") ==
        m.scalar("SELECT seq FROM ruxx_sync_changes WHERE row_id = 5000"));
}

TEST_CASE("batch_inserter: capturing its own inserts, a failed statement leaves the trigger on",
          "[push]") {
  ruxx_test::temp_dir dir;
  master_db m(dir / "m.sqlite");
  const auto table = schema::read_table_schema(m.conn, "transactions");
  const auto rows = decoded_sales(table, 40, 23);
  db::transaction tx(m.conn);
  sync::capture_scope scope(m.conn, false, "node-b");
  int told = 0;
  sync::batch_inserter inserter(m.conn, table, "transaction_number", {},
                                [&](std::size_t, std::int64_t) { ++told; });
  inserter.capture_own_inserts("transactions");
  for (std::size_t i = 0; i < rows.size(); ++i) inserter.add(rows[i], true, i);
  CHECK_THROWS_AS(inserter.flush(), sync::batch_row_failure);
  CHECK(told == 23);
  // The rows written before the culprit have their entries, and no other row has one.
  CHECK(m.scalar("SELECT count(*) FROM ruxx_sync_changes WHERE origin = 'node-b' AND op = "
                 "'insert' AND row_id < 23") == 23);
  CHECK(m.scalar("SELECT count(*) FROM ruxx_sync_changes WHERE table_name = 'transactions'") ==
        23);
  CHECK(m.scalar("SELECT suppress FROM ruxx_sync_capture") == 0);
  add_master_sale(m, 500, "TXN-AFTER");
  CHECK(m.scalar("SELECT count(*) FROM ruxx_sync_changes WHERE row_id = 500") == 1);
}

// Pushes of 2,000 rows and more are decoded on a second thread while the rows before are stored;
// the answer must not show it: a decoding problem anywhere still rejects everything, names
// every bad row, and outranks a constraint failure of an earlier row, as when all rows were
// decoded first.
TEST_CASE("a push decoded while it is applied keeps the rows' order and every error", "[push]") {
  ruxx_test::temp_dir dir;
  master_db m(dir / "m.sqlite");
  auto [data, meta] = new_sales(0, 2500);
  SECTION("errors in both halves are all reported, in row order, and nothing is stored") {
    data[10].as_object()["created_at"] = "not a time";
    data[1250].as_object()["quantity_kg"] = json::array{};
    data[2400].as_object().erase("transaction_number");
    auto result = push_v2(m, "transactions", data, meta, "batch-bad");
    REQUIRE(std::holds_alternative<sync::push_rejection>(result));
    const auto& errors = std::get<sync::push_rejection>(result).errors;
    REQUIRE(errors.size() == 3);
    CHECK(errors[0].field == "data.10.created_at");
    CHECK(errors[1].field == "data.1250.quantity_kg");
    CHECK(errors[2].field == "data.2400.transaction_number");
    CHECK(m.scalar("SELECT count(*) FROM transactions") == 0);
    CHECK(m.scalar("SELECT count(*) FROM ruxx_sync_changes WHERE table_name = 'transactions'") ==
          0);
  }
  SECTION("a late decoding problem outranks an earlier row's missing cashier") {
    data[100].as_object()["cashier_id"] = 999;   // fails when stored, long before row 2450
    data[2450].as_object()["status"] = json::object{};  // fails when decoded
    auto result = push_v2(m, "transactions", data, meta, "batch-late");
    REQUIRE(std::holds_alternative<sync::push_rejection>(result));
    const auto& errors = std::get<sync::push_rejection>(result).errors;
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].field == "data.2450.status");
    CHECK(m.scalar("SELECT count(*) FROM transactions") == 0);
    CHECK(m.scalar("SELECT count(*) FROM ruxx_sync_changes WHERE table_name = 'transactions'") ==
          0);
    CHECK(m.scalar("SELECT count(*) FROM ruxx_sync_batches") == 0);
  }
  SECTION("a bad delete rejects the rows too") {
    json::array deleted{json::object{{"key", nullptr}}};
    auto result = push_v2(m, "transactions", data, meta, "batch-del", &deleted);
    REQUIRE(std::holds_alternative<sync::push_rejection>(result));
    CHECK(std::get<sync::push_rejection>(result).errors.at(0).field == "deleted.0.key");
    CHECK(m.scalar("SELECT count(*) FROM transactions") == 0);
  }
  SECTION("every row is stored once and answered in the order it was sent") {
    auto result = push_v2(m, "transactions", data, meta, "batch-good");
    REQUIRE(std::holds_alternative<json::object>(result));
    const auto& results = std::get<json::object>(result).at("results").as_array();
    REQUIRE(results.size() == data.size());
    for (std::size_t i = 0; i < results.size(); ++i) {
      const auto& r = results[i].as_object();
      CHECK(r.at("key").as_string() == txn_number(static_cast<int>(i)));
      CHECK(m.text("SELECT transaction_number FROM transactions WHERE id = " +
                   std::to_string(r.at("id").as_int64())) == txn_number(static_cast<int>(i)));
    }
    CHECK(m.scalar("SELECT count(DISTINCT transaction_number) FROM transactions") == 2501);
  }
}

TEST_CASE("rows that keep their ids are batched; a taken id moves past the batch's ids",
          "[push]") {
  ruxx_test::temp_dir dir;
  master_db m(dir / "m.sqlite");
  // inventory_adjustments: the master keeps a slave's id when it is free.
  m.conn.execute("INSERT INTO inventory_adjustments (id, user_id, type, quantity_kg, "
                 "previous_stock, new_stock, reason, created_at, updated_at) VALUES (40, 1, "
                 "'addition', 1, 0, 1, 'master', '2026-11-24 08:00:00', '2026-11-24 08:00:00')");
  json::array data;
  json::array meta;
  for (int i = 1; i <= 100; ++i) {
    data.push_back(json::object{{"id", i},
                                {"user_id", 2},
                                {"type", "addition"},
                                {"quantity_kg", "5.00"},
                                {"previous_stock", "0.00"},
                                {"new_stock", "5.00"},
                                {"reason", "delivery " + std::to_string(i)},
                                {"created_at", "2026-11-24T09:00:00Z"},
                                {"updated_at", "2026-11-24T09:00:00Z"}});
    meta.push_back(new_row_meta());
  }
  auto result = push_v2(m, "inventory_adjustments", data, meta, "batch-adj");
  REQUIRE(std::holds_alternative<json::object>(result));
  const auto& results = std::get<json::object>(result).at("results").as_array();
  CHECK(m.scalar("SELECT count(*) FROM inventory_adjustments") == 101);
  for (std::size_t i = 0; i < results.size(); ++i) {
    const auto& o = results[i].as_object();
    const auto id = o.at("id").as_int64();
    CHECK(m.text("SELECT reason FROM inventory_adjustments WHERE id = " + std::to_string(id)) ==
          "delivery " + std::to_string(i + 1));
    CHECK(o.at("status").as_string() == (i + 1 == 40 ? "reassigned" : "applied"));
    // Only the row whose id was taken moves, and past every id of the batch, so the rows
    // after it keep theirs (the slave has only one row to renumber).
    CHECK(id == (i + 1 == 40 ? 101 : static_cast<std::int64_t>(i + 1)));
  }
  CHECK(m.text("SELECT reason FROM inventory_adjustments WHERE id = 40") == "master");
}

TEST_CASE("deletes in a push find rows stored before it and rows it inserted itself", "[push]") {
  ruxx_test::temp_dir dir;
  master_db m(dir / "m.sqlite");
  add_master_sale(m, 1, "TXN-OLD");
  json::array data;
  json::array meta;
  for (int i = 1; i <= 70; ++i) {
    data.push_back(sale(i));
    meta.push_back(new_row_meta());
  }
  // An update of the stored sale in the same batch: it must be found, not inserted again.
  auto old = sale(0);
  old["transaction_number"] = "TXN-OLD";
  old["customer_name"] = "Updated";
  old["updated_at"] = "2026-11-24T10:00:00Z";
  data.push_back(old);
  meta.push_back(json::object{{"op", "update"}, {"base_updated_at", nullptr}});
  const json::array deleted{json::object{{"key", txn_number(5)}},
                            json::object{{"key", "TXN-NEVER-SEEN"}}};
  auto result = push_v2(m, "transactions", data, meta, "batch-del", &deleted);
  REQUIRE(std::holds_alternative<json::object>(result));
  const auto& answer = std::get<json::object>(result);
  const auto& outcomes = answer.at("deleted").as_array();
  REQUIRE(outcomes.size() == 2);
  CHECK(outcomes[0].as_object().at("status").as_string() == "deleted");
  CHECK(outcomes[1].as_object().at("status").as_string() == "unchanged");
  CHECK(m.scalar("SELECT count(*) FROM transactions") == 70);  // 1 old + 70 new - 1 deleted
  CHECK(m.scalar("SELECT count(*) FROM transactions WHERE transaction_number = '" +
                 txn_number(5) + "'") == 0);
  CHECK(m.text("SELECT customer_name FROM transactions WHERE transaction_number = 'TXN-OLD'") ==
        "Updated");
  SECTION("and a later push deletes a row stored before it") {
    const json::array none;
    const json::array later{json::object{{"key", "TXN-OLD"}}};
    auto second = push_v2(m, "transactions", none, none, "batch-del-2", &later);
    REQUIRE(std::holds_alternative<json::object>(second));
    CHECK(std::get<json::object>(second).at("deleted").as_array()[0].as_object().at("status")
              .as_string() == "deleted");
    CHECK(m.scalar("SELECT count(*) FROM transactions WHERE transaction_number = 'TXN-OLD'") == 0);
  }
}

TEST_CASE("a pulled page is stored row for row, around a local row in the way", "[pull]") {
  ruxx_test::temp_dir dir;
  ruxx_test::node depot(dir / "s.sqlite", sync::node_role::slave);
  auto& slave = depot.conn;
  const auto scalar = [&](const std::string& sql) { return depot.scalar(sql); };
  // A user created at the depot and not pushed yet holds id 70, which the master uses.
  slave.execute("INSERT INTO users (id, name, email, password, created_at, updated_at) VALUES "
                "(70, 'Local', 'local@x', 'h', '2026-11-24 08:00:00', '2026-11-24 08:00:00')");
  json::array page;
  for (int i = 1; i <= 150; ++i) {
    page.push_back(json::object{{"id", i},
                                {"name", "User " + std::to_string(i)},
                                {"email", "u" + std::to_string(i) + "@x"},
                                {"password", "h"},
                                {"created_at", "2026-11-24T07:00:00Z"},
                                {"updated_at", "2026-11-24T07:00:00Z"}});
  }
  // Row 10 again later in the page, newer: it must update the row written earlier.
  auto again = page[9].as_object();
  again["name"] = "User 10 renamed";
  again["updated_at"] = "2026-11-24T09:00:00Z";
  page.push_back(again);
  std::set<std::int64_t> seen;
  const auto stats = sync::apply_pull_page(slave, lagos(), *tables::find_table("users"), page,
                                           json::array{}, std::nullopt, "2026-11-24 12:00:00",
                                           &seen);
  CHECK(stats.inserted == 150);
  CHECK(stats.updated == 1);
  CHECK(stats.moved_local == 1);
  CHECK(seen.size() == 150);
  CHECK(scalar("SELECT count(*) FROM users") == 151);
  CHECK(scalar("SELECT count(*) FROM users WHERE name = 'User 10 renamed' AND id = 10") == 1);
  CHECK(scalar("SELECT count(*) FROM users WHERE id = 70 AND email = 'u70@x'") == 1);
  // The local user moved to an id past every id in use, still pending as a new row.
  const auto moved = scalar("SELECT id FROM users WHERE email = 'local@x'");
  CHECK(moved > 150);
  CHECK(scalar("SELECT count(*) FROM ruxx_sync_changes WHERE op = 'insert' AND row_id = " +
               std::to_string(moved)) == 1);
  // Rows from the master are not captured as local changes.
  CHECK(scalar("SELECT count(*) FROM ruxx_sync_changes") == 1);
}

TEST_CASE("a pulled page updates, inserts and deletes transactions by number", "[pull]") {
  ruxx_test::temp_dir dir;
  ruxx_test::node depot(dir / "s.sqlite", sync::node_role::slave);
  auto& slave = depot.conn;
  slave.execute("INSERT INTO users (id, name, email, password, created_at, updated_at) VALUES "
                "(2, 'Cashier', 'c@x', 'h', '2026-11-01 08:00:00', '2026-11-01 08:00:00')");
  const auto* t = tables::find_table("transactions");
  json::array first{sale(1), sale(2)};
  sync::apply_pull_page(slave, lagos(), *t, first, json::array{}, std::nullopt,
                        "2026-11-24 12:00:00");
  auto newer = sale(2, 2, "2026-11-24T11:00:00Z");
  newer["customer_name"] = "Newer";
  json::array page{sale(3), newer};
  json::array deleted{json::string(txn_number(1)), json::string("TXN-NOPE")};
  const auto stats = sync::apply_pull_page(slave, lagos(), *t, page, deleted, std::nullopt,
                                           "2026-11-24 12:00:00");
  CHECK(stats.inserted == 1);
  CHECK(stats.updated == 1);
  CHECK(stats.deleted == 1);
  const auto names = [&] {
    std::vector<std::string> out;
    auto st = slave.prepare("SELECT transaction_number || '=' || customer_name FROM transactions "
                            "ORDER BY transaction_number");
    while (st.step()) out.push_back(st.column_string(0));
    return out;
  };
  CHECK(names() == std::vector<std::string>{txn_number(2) + "=Newer", txn_number(3) + "=Customer 3"});
}
