// Test nodes for the sync engine's unit tests: a master or slave database file with the app
// tables, the bookkeeping tables and the role's change capture, plus the push and pull loops
// that wire a slave to a master without HTTP (as the agent and the server do over it).
#pragma once

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

#include "temp_dir.hpp"

#include <filesystem>
#include <string>
#include <string_view>

namespace ruxx_test {

struct node {
  synccore::db::connection conn;
  node(const std::filesystem::path& path, synccore::sync::node_role role) : conn(path) {
    synccore::schema::ensure_app_tables(conn);
    synccore::schema::ensure_sync_tables(conn);
    synccore::sync::install_change_capture(conn, role);
  }
  long long scalar(const std::string& sql) {
    auto st = conn.prepare(sql);
    st.step();
    return st.column_int64(0);
  }
  double real(const std::string& sql) {
    auto st = conn.prepare(sql);
    st.step();
    return st.column_double(0);
  }
  // The first column of the first row, or "(none)".
  std::string text(const std::string& sql) {
    auto st = conn.prepare(sql);
    return st.step() ? st.column_string(0) : std::string("(none)");
  }
};

inline const synccore::time::app_zone& lagos() {
  static const synccore::time::app_zone zone("Africa/Lagos");
  return zone;
}

// Pushes every pending batch of `table` from `slave` to `master` (v2, as node `id`) and
// acknowledges it. Returns the last answer.
inline boost::json::object push_all(node& slave, node& master, std::string_view table,
                                    const std::string& id, std::size_t rows_per_batch = 100) {
  namespace sync = synccore::sync;
  const auto* t = synccore::tables::find_table(table);
  boost::json::object last;
  while (auto batch = sync::next_push_batch(slave.conn, lagos(), *t, id, rows_per_batch,
                                            sync::push_protocol::v2)) {
    auto body = boost::json::parse(batch->body).as_object();
    sync::push_request req{t, &body.at("data").as_array(), &body.at("meta").as_array(),
                           &body.at("deleted").as_array(), id, batch->batch_id};
    auto result = sync::apply_push(master.conn, lagos(), req);
    REQUIRE(std::holds_alternative<boost::json::object>(result));
    last = std::get<boost::json::object>(result);
    sync::acknowledge_push(slave.conn, *batch, last, "2026-11-24 12:00:00");
  }
  return last;
}

// Pulls every page of `table` from `master` into `slave` from the slave's saved cursor.
inline void pull_all(node& master, node& slave, std::string_view table) {
  namespace sync = synccore::sync;
  const auto* t = synccore::tables::find_table(table);
  auto st = slave.conn.prepare("SELECT cursor FROM ruxx_sync_cursors WHERE table_name = ?");
  st.bind(1, table);
  auto cursor = *sync::pull_cursor::parse(st.step() ? st.column_string(0) : std::string());
  st.reset();
  for (;;) {
    auto page = sync::read_pull_page(master.conn, *t, lagos(), cursor, 100, t->never_sent_columns);
    sync::apply_pull_page(slave.conn, lagos(), *t, page.rows, page.deleted, page.next.text(),
                          "2026-11-24 12:00:00");
    cursor = page.next;
    if (!page.has_more) break;
  }
}

// The master's users 1 (Admin) and 2 (Cashier), as most tests start.
inline void seed_users(node& n) {
  n.conn.execute(
      "INSERT INTO users (id, name, email, password, created_at, updated_at) VALUES "
      "(1, 'Admin', 'a@x', 'h', '2026-11-01 08:00:00', '2026-11-01 08:00:00'),"
      "(2, 'Cashier', 'c@x', 'h', '2026-11-01 08:00:00', '2026-11-01 08:00:00')");
}

// A master with the two users of seed_users and a slave that has pulled them.
struct master_and_slave {
  temp_dir dir;
  node master{dir / "m.sqlite", synccore::sync::node_role::master};
  node slave{dir / "s.sqlite", synccore::sync::node_role::slave};
  master_and_slave() {
    seed_users(master);
    pull_all(master, slave, "users");
  }
};

}  // namespace ruxx_test
