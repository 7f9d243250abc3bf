// Regression tests for bugs found by the convergence harness (tests/integration/convergence),
// on real SQLite files with the master's push apply and the slave's acknowledgement wired
// together without HTTP, as in sync_engine_test.cpp.
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
using ruxx_test::node;
using ruxx_test::pull_all;
using ruxx_test::push_all;

namespace {

void add_user(node& n, const std::string& email) {
  n.conn.execute("INSERT INTO users (name, email, password, created_at, updated_at) VALUES ('" +
                 email + "', '" + email + "', 'h', '2026-11-24 09:00:00', '2026-11-24 09:00:00')");
}

// Builds the slave's pending users batch (local ids 1..4) and applies a made-up answer that
// gives local row i the id `ids[i - 1]` ("reassigned" when it differs).
void acknowledge_users_answer(node& slave, const std::vector<int>& ids) {
  const auto* t = tables::find_table("users");
  auto batch = sync::next_push_batch(slave.conn, lagos(), *t, "node-a", 100,
                                     sync::push_protocol::v2);
  REQUIRE(batch);
  json::array results;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const int local = static_cast<int>(i) + 1;
    results.push_back(json::object{{"key", std::to_string(local)},
                                   {"status", ids[i] == local ? "applied" : "reassigned"},
                                   {"id", ids[i]}});
  }
  json::object answer{{"success", true}, {"results", std::move(results)}};
  sync::acknowledge_push(slave.conn, *batch, answer, "2026-11-24 12:00:00");
}

}  // namespace

TEST_CASE("new users whose ids the master has taken are renumbered right, children too",
          "[sync][convergence]") {
  ruxx_test::temp_dir dir;
  node master(dir / "m.sqlite", sync::node_role::master);
  node slave(dir / "s.sqlite", sync::node_role::slave);
  add_user(master, "admin@x");
  add_user(master, "cashier@x");
  pull_all(master, slave, "users");
  // The master's app takes id 3; the slave makes its own users 3 and 4 meanwhile, and a sale
  // and an adjustment by its user 4.
  add_user(master, "m3@x");
  add_user(slave, "s3@x");
  add_user(slave, "s4@x");
  slave.conn.execute("INSERT INTO transactions (transaction_number, cashier_id, quantity_kg, "
                     "price_per_kg, total_amount, created_at, updated_at) VALUES "
                     "('TXN-20261124-CHAIN1', 4, 2, 850, 1700, '2026-11-24 09:05:00', "
                     "'2026-11-24 09:05:00')");
  slave.conn.execute("INSERT INTO inventory_adjustments (user_id, type, quantity_kg, "
                     "previous_stock, new_stock, reason, created_at, updated_at) VALUES (4, "
                     "'addition', 5, 0, 5, 'by s4', '2026-11-24 09:06:00', '2026-11-24 09:06:00')");

  std::int64_t s3_id = 0;
  std::int64_t s4_id = 0;
  SECTION("one answer: the taken id moves past the batch's ids, the other row keeps its id") {
    push_all(slave, master, "users", "node-a");  // local 3 -> 5, local 4 keeps 4
    s3_id = 5;
    s4_id = 4;
  }
  SECTION("one row per answer: the ids chain from one answer to the next") {
    push_all(slave, master, "users", "node-a", 1);  // 3 -> 4 (local 4 moves aside to 5 first)
    s3_id = 4;
    s4_id = 5;
  }
  CHECK(master.text("SELECT email FROM users WHERE id = " + std::to_string(s3_id)) == "s3@x");
  CHECK(master.text("SELECT email FROM users WHERE id = " + std::to_string(s4_id)) == "s4@x");
  CHECK(slave.text("SELECT email FROM users WHERE id = " + std::to_string(s3_id)) == "s3@x");
  CHECK(slave.text("SELECT email FROM users WHERE id = " + std::to_string(s4_id)) == "s4@x");
  CHECK(slave.scalar("SELECT count(*) FROM users WHERE id < 1 OR id > 5") == 0);
  CHECK(slave.scalar("SELECT cashier_id FROM transactions") == s4_id);
  CHECK(slave.scalar("SELECT user_id FROM inventory_adjustments") == s4_id);
  CHECK(slave.scalar("SELECT count(*) FROM ruxx_sync_changes WHERE table_name = 'users'") == 0);

  // The pull then brings the master's user 3 without a clash, and the children arrive intact.
  REQUIRE_NOTHROW(pull_all(master, slave, "users"));
  CHECK(slave.text("SELECT email FROM users WHERE id = 3") == "m3@x");
  push_all(slave, master, "transactions", "node-a");
  push_all(slave, master, "inventory_adjustments", "node-a");
  CHECK(master.text("SELECT u.email FROM transactions t JOIN users u ON u.id = t.cashier_id") ==
        "s4@x");
  CHECK(master.text("SELECT u.email FROM inventory_adjustments a JOIN users u ON u.id = "
                    "a.user_id") == "s4@x");
}

TEST_CASE("reassigned ids that swap or chain inside one answer are renumbered right",
          "[sync][convergence]") {
  ruxx_test::temp_dir dir;
  node slave(dir / "s.sqlite", sync::node_role::slave);
  for (const auto* email : {"a@x", "b@x", "c@x", "d@x"}) add_user(slave, email);
  slave.conn.execute("INSERT INTO transactions (transaction_number, cashier_id, quantity_kg, "
                     "price_per_kg, total_amount, created_at, updated_at) VALUES "
                     "('TXN-20261124-CHAIN2', 4, 2, 850, 1700, '2026-11-24 09:05:00', "
                     "'2026-11-24 09:05:00')");
  // Cashiers logged in to the depot app (Laravel's database sessions) as users 2, 3 and 4.
  slave.conn.execute("INSERT INTO sessions (id, user_id, payload, last_activity) VALUES "
                     "('s2', 2, 'p', 1), ('s3', 3, 'p', 1), ('s4', 4, 'p', 1)");
  std::int64_t c_id = 0;
  std::int64_t d_id = 0;
  SECTION("a swap: local 3 -> 4 and 4 -> 3 (a retried insert recognised through the id map)") {
    acknowledge_users_answer(slave, {1, 2, 4, 3});
    c_id = 4;
    d_id = 3;
  }
  SECTION("a chain: local 3 -> 4 and 4 -> 5 (a v2 master moves a taken id past the batch's ids, "
          "but an answer like this must still be applied right)") {
    acknowledge_users_answer(slave, {1, 2, 4, 5});
    c_id = 4;
    d_id = 5;
  }
  CHECK(slave.text("SELECT email FROM users WHERE id = " + std::to_string(c_id)) == "c@x");
  CHECK(slave.text("SELECT email FROM users WHERE id = " + std::to_string(d_id)) == "d@x");
  CHECK(slave.scalar("SELECT count(*) FROM users") == 4);
  CHECK(slave.scalar("SELECT min(id) FROM users") == 1);
  CHECK(slave.scalar("SELECT cashier_id FROM transactions") == d_id);  // the sale follows d@x
  // The sessions of the moved users are ended: a cashier still logged in as 3 would otherwise
  // sell as whoever holds id 3 now. The unmoved user keeps theirs.
  CHECK(slave.text("SELECT group_concat(id) FROM sessions") == "s2");
}

TEST_CASE("a new row that wins over an existing row it never saw logs that row as the loser",
          "[sync][convergence]") {
  // The same person registered at the master and at a depot (users.email is the natural key):
  // the depot's newer version wins, and the master's version must be in the conflict log.
  ruxx_test::temp_dir dir;
  node master(dir / "m.sqlite", sync::node_role::master);
  node slave(dir / "s.sqlite", sync::node_role::slave);
  add_user(master, "admin@x");
  pull_all(master, slave, "users");
  master.conn.execute("INSERT INTO users (name, email, password, created_at, updated_at) VALUES "
                      "('Ada at the plant', 'ada@x', 'h', '2026-11-24 09:00:00', "
                      "'2026-11-24 09:00:00')");
  slave.conn.execute("INSERT INTO users (name, email, password, created_at, updated_at) VALUES "
                     "('Ada at the depot', 'ada@x', 'h', '2026-11-24 09:30:00', "
                     "'2026-11-24 09:30:00')");
  push_all(slave, master, "users", "node-a");
  CHECK(master.text("SELECT name FROM users WHERE email = 'ada@x'") == "Ada at the depot");
  CHECK(master.scalar("SELECT count(*) FROM ruxx_sync_conflicts WHERE table_name = 'users' AND "
                      "losing_row LIKE '%Ada at the plant%'") == 1);
}

TEST_CASE("a new row resent after a lost answer does not log its own earlier version",
          "[sync][convergence]") {
  ruxx_test::temp_dir dir;
  node master(dir / "m.sqlite", sync::node_role::master);
  node slave(dir / "s.sqlite", sync::node_role::slave);
  add_user(master, "admin@x");
  pull_all(master, slave, "users");
  add_user(slave, "bo@x");
  const auto* t = tables::find_table("users");
  // The first push is applied but its answer is lost; the row is edited again locally (still a
  // pending insert) and the next batch reaches the master through its id map.
  auto lost = sync::next_push_batch(slave.conn, lagos(), *t, "node-a", 100,
                                    sync::push_protocol::v2);
  REQUIRE(lost);
  auto body = json::parse(lost->body).as_object();
  sync::push_request req{t, &body.at("data").as_array(), &body.at("meta").as_array(),
                         &body.at("deleted").as_array(), "node-a", lost->batch_id};
  REQUIRE(std::holds_alternative<json::object>(sync::apply_push(master.conn, lagos(), req)));
  slave.conn.execute("DELETE FROM ruxx_sync_outbox");  // as if the agent built a newer batch
  slave.conn.execute("UPDATE users SET name = 'Bo renamed', updated_at = '2026-11-24 10:00:00' "
                     "WHERE email = 'bo@x'");
  push_all(slave, master, "users", "node-a");
  CHECK(master.text("SELECT name FROM users WHERE email = 'bo@x'") == "Bo renamed");
  CHECK(master.scalar("SELECT count(*) FROM ruxx_sync_conflicts") == 0);
  // An edit made at the master meanwhile, though, is a version the slave never saw.
  master.conn.execute("UPDATE users SET name = 'Bo at the plant', updated_at = "
                      "'2026-11-24 10:05:00' WHERE email = 'bo@x'");
  slave.conn.execute("UPDATE users SET name = 'Bo at the depot', updated_at = "
                     "'2026-11-24 10:10:00' WHERE email = 'bo@x'");
  // Its answer lost again: the entry is still the pending insert it was.
  slave.conn.execute("UPDATE ruxx_sync_changes SET op = 'insert', base_updated_at = NULL");
  push_all(slave, master, "users", "node-a");
  CHECK(master.text("SELECT name FROM users WHERE email = 'bo@x'") == "Bo at the depot");
  CHECK(master.scalar("SELECT count(*) FROM ruxx_sync_conflicts WHERE losing_row LIKE "
                      "'%Bo at the plant%'") == 1);
}

TEST_CASE("a new row that loses to a master row of another id takes that id with its children",
          "[sync][convergence]") {
  // The same person registered at the plant (newer) and at a depot whose local id 3 is another
  // user at the master. The depot's version loses; its row must become master row 4, and the
  // depot's sale by it must reach the master pointing at that person, not at master user 3.
  ruxx_test::temp_dir dir;
  node master(dir / "m.sqlite", sync::node_role::master);
  node slave(dir / "s.sqlite", sync::node_role::slave);
  add_user(master, "admin@x");
  add_user(master, "cashier@x");
  pull_all(master, slave, "users");
  add_user(master, "other@x");  // master id 3
  master.conn.execute("INSERT INTO users (name, email, password, created_at, updated_at) VALUES "
                      "('Ada at the plant', 'ada@x', 'h', '2026-11-24 10:00:00', "
                      "'2026-11-24 10:00:00')");  // master id 4
  slave.conn.execute("INSERT INTO users (name, email, password, created_at, updated_at) VALUES "
                     "('Ada at the depot', 'ada@x', 'h', '2026-11-24 09:30:00', "
                     "'2026-11-24 09:30:00')");  // local id 3
  slave.conn.execute("INSERT INTO transactions (transaction_number, cashier_id, quantity_kg, "
                     "price_per_kg, total_amount, created_at, updated_at) VALUES "
                     "('TXN-20261124-ADA001', 3, 2, 850, 1700, '2026-11-24 09:35:00', "
                     "'2026-11-24 09:35:00')");
  push_all(slave, master, "users", "node-a");
  CHECK(master.scalar("SELECT count(*) FROM ruxx_sync_conflicts WHERE losing_row LIKE "
                      "'%Ada at the depot%'") == 1);
  CHECK(slave.text("SELECT email FROM users WHERE id = 4") == "ada@x");
  CHECK(slave.scalar("SELECT cashier_id FROM transactions") == 4);
  REQUIRE_NOTHROW(pull_all(master, slave, "users"));
  CHECK(slave.text("SELECT name FROM users WHERE id = 4") == "Ada at the plant");
  CHECK(slave.text("SELECT email FROM users WHERE id = 3") == "other@x");
  push_all(slave, master, "transactions", "node-a");
  CHECK(master.text("SELECT u.email FROM transactions t JOIN users u ON u.id = t.cashier_id") ==
        "ada@x");
}

TEST_CASE("a row deleted while its insert was in flight is deleted at the master too",
          "[sync][convergence]") {
  // The push of a new user reaches the master but its answer is lost; the app then deletes the
  // user (a pending insert, so the trigger forgets it). The resent batch's answer must turn
  // into a delete for the row the master stored, under the id the master gave it.
  ruxx_test::temp_dir dir;
  node master(dir / "m.sqlite", sync::node_role::master);
  node slave(dir / "s.sqlite", sync::node_role::slave);
  add_user(master, "admin@x");
  pull_all(master, slave, "users");
  add_user(master, "m2@x");      // master id 2: the slave's user gets another id
  add_user(slave, "gone@x");     // local id 2
  add_user(slave, "stays@x");    // local id 3
  slave.conn.execute("INSERT INTO transactions (transaction_number, cashier_id, quantity_kg, "
                     "price_per_kg, total_amount, created_at, updated_at) VALUES "
                     "('TXN-20261124-GONE01', 1, 2, 850, 1700, '2026-11-24 09:35:00', "
                     "'2026-11-24 09:35:00')");
  for (const char* table : {"users", "transactions"}) {
    const auto* t = tables::find_table(table);
    auto lost = sync::next_push_batch(slave.conn, lagos(), *t, "node-a", 100,
                                      sync::push_protocol::v2);
    REQUIRE(lost);
    auto body = json::parse(lost->body).as_object();
    sync::push_request req{t, &body.at("data").as_array(), &body.at("meta").as_array(),
                           &body.at("deleted").as_array(), "node-a", lost->batch_id};
    REQUIRE(std::holds_alternative<json::object>(sync::apply_push(master.conn, lagos(), req)));
  }
  CHECK(master.scalar("SELECT count(*) FROM users WHERE email = 'gone@x'") == 1);
  slave.conn.execute("DELETE FROM users WHERE email = 'gone@x'");
  slave.conn.execute("DELETE FROM transactions");
  push_all(slave, master, "users", "node-a");  // resends the outbox, then the delete
  push_all(slave, master, "transactions", "node-a");
  CHECK(master.scalar("SELECT count(*) FROM users WHERE email = 'gone@x'") == 0);
  CHECK(master.scalar("SELECT count(*) FROM transactions") == 0);
  CHECK(master.scalar("SELECT count(*) FROM users WHERE email = 'stays@x'") == 1);
  CHECK(master.text("SELECT email FROM users WHERE id = 2") == "m2@x");
  CHECK(slave.scalar("SELECT count(*) FROM ruxx_sync_changes") == 0);
  pull_all(master, slave, "users");
  CHECK(slave.scalar("SELECT count(*) FROM users") == 3);
  CHECK(slave.scalar("SELECT count(*) FROM users WHERE email = 'gone@x'") == 0);
}
