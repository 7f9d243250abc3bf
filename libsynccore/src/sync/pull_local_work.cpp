#include "pull_local_work.hpp"

#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/db/transaction.hpp>
#include <synccore/sync/base_content.hpp>
#include <synccore/sync/conflict_log.hpp>
#include <synccore/sync/pull_apply.hpp>
#include <synccore/sync/renumber.hpp>
#include <synccore/sync/row_lookup.hpp>
#include <synccore/tables/table_descriptor.hpp>

#include <boost/json/serialize.hpp>

#include <vector>

namespace synccore::sync::detail {

local_versions::local_versions(db::connection& conn, const time::app_zone& zone,
                               const schema::table_schema& table,
                               const tables::table_descriptor& t)
    : conn_(conn), zone_(zone), table_(table), t_(t) {}

bool local_versions::would_lose_edit(std::int64_t id, const codec::decoded_row& incoming) {
  if (t_.counter_column.empty()) {
    return !same_content(conn_, table_, id, incoming, {"updated_at", "created_at"});
  }
  if (same_content(conn_, table_, id, incoming, {t_.counter_column, "updated_at", "created_at"})) {
    return false;
  }
  // Differs from the master's row: a depot edit only if it also differs from what the master
  // sent last (otherwise the master changed the row and the depot only sold from it).
  auto st = conn_.prepare("SELECT b.content IS NULL OR b.content IS NOT " +
                          content_expression(conn_, t_, "r") + " FROM " +
                          db::quote_identifier(t_.name) + " r LEFT JOIN ruxx_sync_base_content b "
                          "ON b.table_name = ? AND b.row_id = r.id WHERE r.id = ?");
  st.bind(1, t_.name).bind(2, id);
  return st.step() && st.column_int64(0) == 1;
}

void local_versions::log_lost(std::int64_t id, const std::string& reason,
                              const std::optional<std::string>& winning) {
  if (!node_) {
    auto st = conn_.prepare("SELECT value FROM ruxx_sync_meta WHERE key = 'node_id'");
    node_ = st.step() ? st.column_string(0) : std::string("local");
  }
  const auto row = read_row_json(conn_, table_, zone_, id);
  std::string key = std::to_string(id);
  if (const auto* identity = row.if_contains(t_.identity_column)) {
    key = identity->is_string() ? std::string(identity->get_string())
                                : boost::json::serialize(*identity);
  }
  record_conflict(conn_, {std::string(t_.name), key, *node_, reason, boost::json::serialize(row),
                          winning});
}

std::size_t local_versions::log_pending_children(std::int64_t id) {
  std::size_t logged = 0;
  for (const auto& [child, fk] : schema::referencing_columns(conn_, t_.name)) {
    const auto* d = tables::find_table(child);
    if (!d || fk.parent_column != "id") continue;
    std::vector<std::int64_t> ids;
    {
      auto st = conn_.prepare("SELECT r.id FROM " + db::quote_identifier(child) + " r JOIN "
                              "ruxx_sync_changes c ON c.table_name = ? AND c.row_id = r.id "
                              "WHERE r." + db::quote_identifier(fk.from_column) + " = ?");
      st.bind(1, child).bind(2, id);
      while (st.step()) ids.push_back(st.column_int64(0));
    }
    if (ids.empty()) continue;
    const auto child_schema = schema::read_table_schema(conn_, child);
    local_versions children(conn_, zone_, child_schema, *d);
    children.node_ = node_;
    for (auto child_id : ids) {
      children.log_lost(child_id,
                        "deleted by the pull: its " + std::string(fk.from_column) + " row of " +
                            std::string(t_.name) + " was deleted on the master",
                        std::nullopt);
      ++logged;
    }
    // The cascade will not reach the change log (capture is suppressed): a pending insert
    // left behind would go out as a delete of its local id, another row at the master.
    for (const char* sql : {"DELETE FROM ruxx_sync_changes WHERE table_name = ? AND row_id = ?",
                            "DELETE FROM ruxx_sync_counter_deltas WHERE table_name = ? AND "
                            "row_id = ?"}) {
      auto st = conn_.prepare(sql);
      for (auto child_id : ids) {
        st.reset();
        st.bind(1, child).bind(2, child_id);
        st.run();
      }
    }
  }
  return logged;
}

std::optional<std::string> pending_op(db::connection& conn, std::string_view table,
                                      std::int64_t id) {
  auto st = conn.prepare("SELECT op FROM ruxx_sync_changes WHERE table_name = ? AND row_id = ?");
  st.bind(1, table).bind(2, id);
  if (!st.step()) return std::nullopt;
  return st.column_string(0);
}

void merge_into(db::connection& conn, std::string_view table, std::int64_t from_id,
                std::int64_t to_id) {
  if (table == "users") end_app_sessions(conn, from_id);
  repoint_references(conn, table, from_id, to_id);
  for (const char* sql : {"DELETE FROM ruxx_sync_changes WHERE table_name = ? AND row_id = ?",
                          "DELETE FROM ruxx_sync_counter_deltas WHERE table_name = ? AND "
                          "row_id = ?"}) {
    auto st = conn.prepare(sql);
    st.bind(1, table).bind(2, from_id);
    st.run();
  }
  auto gone = conn.prepare("DELETE FROM " + db::quote_identifier(table) + " WHERE id = ?");
  gone.bind(1, from_id);
  gone.run();
}

void displace_unique_value(db::connection& conn, std::string_view table, std::string_view column,
                           std::int64_t id) {
  auto st = conn.prepare("UPDATE " + db::quote_identifier(table) + " SET " +
                         db::quote_identifier(column) +
                         " = 'displaced-' || id || '@ruxx-sync.invalid' WHERE id = ?");
  st.bind(1, id);
  st.run();
}

}  // namespace synccore::sync::detail

namespace synccore::sync {

std::size_t drop_unsendable_changes(db::connection& conn, const time::app_zone& zone,
                                    const tables::table_descriptor& t) {
  db::transaction tx(conn);
  std::vector<std::int64_t> edited;
  std::size_t dropped = 0;
  {
    // Edited: the content differs from what the master sent last (no base: never received).
    const bool counted = !t.counter_column.empty();
    auto st = conn.prepare(
        "SELECT c.row_id, " +
        (counted ? "b.content IS NULL OR b.content IS NOT " + content_expression(conn, t, "r")
                 : std::string("1")) +
        " FROM ruxx_sync_changes c JOIN " + db::quote_identifier(t.name) +
        " r ON r.id = c.row_id " +
        (counted ? "LEFT JOIN ruxx_sync_base_content b ON b.table_name = c.table_name AND "
                   "b.row_id = c.row_id "
                 : "") +
        "WHERE c.table_name = ?");
    st.bind(1, t.name);
    while (st.step()) {
      if (st.column_int64(1) == 1) edited.push_back(st.column_int64(0));
    }
  }
  const auto table = schema::read_table_schema(conn, t.name);
  detail::local_versions versions(conn, zone, table, t);
  for (auto id : edited) {
    versions.log_lost(id, "dropped: a version 1 master cannot take local " +
                              std::string(t.name) + " changes; the master's row replaces it",
                      std::nullopt);
  }
  for (const char* sql : {"DELETE FROM ruxx_sync_changes WHERE table_name = ?",
                          "DELETE FROM ruxx_sync_counter_deltas WHERE table_name = ?"}) {
    auto st = conn.prepare(sql);
    st.bind(1, t.name);
    st.run();
    if (dropped == 0) dropped = static_cast<std::size_t>(conn.changes());
  }
  tx.commit();
  return dropped;
}

}  // namespace synccore::sync
