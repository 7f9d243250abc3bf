#include <synccore/codec/row_codec.hpp>
#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/db/transaction.hpp>
#include <synccore/schema/table_schema.hpp>
#include <synccore/sync/change_capture.hpp>
#include <synccore/sync/pull_apply.hpp>
#include <synccore/sync/renumber.hpp>
#include <synccore/sync/row_lookup.hpp>
#include <synccore/sync/row_writer.hpp>
#include <synccore/sync/slave_state.hpp>
#include <synccore/tables/table_descriptor.hpp>
#include <synccore/time/app_zone.hpp>

#include <stdexcept>

namespace synccore::sync {

namespace json = boost::json;

namespace {

struct pending_change {
  std::string op;
};

std::optional<pending_change> pending_for(db::connection& conn, std::string_view table,
                                          std::int64_t id) {
  auto st = conn.prepare("SELECT op FROM ruxx_sync_changes WHERE table_name = ? AND row_id = ?");
  st.bind(1, table).bind(2, id);
  if (!st.step()) return std::nullopt;
  return pending_change{st.column_string(0)};
}

void forget_local_changes(db::connection& conn, std::string_view table, std::int64_t id) {
  auto a = conn.prepare("DELETE FROM ruxx_sync_changes WHERE table_name = ? AND row_id = ?");
  a.bind(1, table).bind(2, id);
  a.run();
  auto b = conn.prepare("DELETE FROM ruxx_sync_counter_deltas WHERE table_name = ? AND row_id = ?");
  b.bind(1, table).bind(2, id);
  b.run();
}

bool local_is_newer(const time::app_zone& zone, const row_ref& local,
                    const codec::decoded_row& incoming) {
  const auto* v = incoming.find("updated_at");
  const auto* text = v ? std::get_if<std::string>(v) : nullptr;
  if (!local.updated_at) return false;
  if (!text) return true;
  const auto l = zone.from_db(*local.updated_at);
  const auto r = zone.from_db(*text);
  return l && r && *l > *r;
}

// A version-1 (PHP) master hides some columns from its answers (users.password). A new row
// still needs a value for each of them that is NOT NULL without a default: it gets an empty
// string, which Laravel's hasher never accepts as a password, until the real value arrives
// (an update keeps whatever the row holds).
void fill_withheld_columns(const schema::table_schema& table, const tables::table_descriptor& t,
                           codec::decoded_row& row) {
  for (const auto& column : table.columns) {
    if (!column.required_on_insert() || row.find(column.name)) continue;
    for (auto hidden : t.hidden_from_v1_columns) {
      if (hidden == column.name) row.values.push_back({&column, std::string()});
    }
  }
}

}  // namespace

pull_apply_stats apply_pull_page(db::connection& conn, const time::app_zone& zone,
                                 const tables::table_descriptor& t, const json::array& rows,
                                 const json::array& deleted,
                                 const std::optional<std::string>& cursor,
                                 const std::string& now_db, std::set<std::int64_t>* seen_ids) {
  pull_apply_stats stats;
  const auto table = schema::read_table_schema(conn, t.name);
  codec::row_decoder decoder(table, zone, t.never_sent_columns);
  db::transaction tx(conn);
  {
    capture_scope scope(conn, true, "master");
    row_writer writer(conn, table);
    const bool lww = t.rule == tables::conflict_rule::last_writer_wins;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto* object = rows[i].if_object();
      if (!object) throw std::runtime_error("master sent a row that is not an object");
      auto decoded = decoder.decode(*object);
      if (!decoded) {
        throw std::runtime_error("master sent an unusable " + std::string(t.name) + " row: " +
                                 decoded.error().field + " " + decoded.error().message);
      }
      const auto* key_value = decoded->find(t.identity_column);
      if (!key_value || std::holds_alternative<std::monostate>(*key_value)) {
        throw std::runtime_error("master sent a " + std::string(t.name) + " row without " +
                                 std::string(t.identity_column));
      }
      std::optional<row_ref> local;
      std::int64_t master_id = 0;
      if (const auto* id = decoded->find("id"); id && std::holds_alternative<std::int64_t>(*id)) {
        master_id = std::get<std::int64_t>(*id);
      }
      if (t.master_assigns_id) {
        local = find_by_id(conn, t.name, master_id);
        if (local) {
          const auto pending = pending_for(conn, t.name, local->id);
          if (pending && pending->op == "insert") {
            // A new local row holds the id the master uses for another row: move it aside.
            renumber_row(conn, t.name, local->id, fresh_id(conn, t.name));
            ++stats.moved_local;
            local.reset();
          }
        }
      } else {
        const auto* key = std::get_if<std::string>(key_value);
        local = find_by_identity(conn, t, key ? *key : std::string());
      }
      if (local) {
        const auto pending = pending_for(conn, t.name, local->id);
        if (lww && pending && local_is_newer(zone, *local, *decoded)) {
          ++stats.kept_local;
        } else {
          writer.update(local->id, *decoded);
          if (lww && pending) {
            // The master's newer version replaces the local edit: nothing left to push.
            auto forget = conn.prepare(
                "DELETE FROM ruxx_sync_changes WHERE table_name = ? AND row_id = ?");
            forget.bind(1, t.name).bind(2, local->id);
            forget.run();
          }
          if (!t.counter_column.empty()) {
            auto st = conn.prepare(
                "UPDATE " + db::quote_identifier(t.name) + " SET " +
                db::quote_identifier(t.counter_column) + " = round(" +
                db::quote_identifier(t.counter_column) +
                " + (SELECT delta FROM ruxx_sync_counter_deltas WHERE table_name = ? AND row_id "
                "= ? AND column = ?), 6) WHERE id = ? AND EXISTS (SELECT 1 FROM "
                "ruxx_sync_counter_deltas WHERE table_name = ? AND row_id = ? AND column = ?)");
            st.bind(1, t.name).bind(2, local->id).bind(3, t.counter_column).bind(4, local->id);
            st.bind(5, t.name).bind(6, local->id).bind(7, t.counter_column);
            st.run();
          }
          ++stats.updated;
        }
        if (seen_ids) seen_ids->insert(local->id);
      } else {
        fill_withheld_columns(table, t, *decoded);
        const bool keep_id = t.master_assigns_id || !find_by_id(conn, t.name, master_id);
        const auto id = writer.insert(*decoded, keep_id && master_id > 0);
        if (seen_ids) seen_ids->insert(id);
        ++stats.inserted;
      }
    }
    for (const auto& item : deleted) {
      std::string key;
      if (item.is_string()) key = std::string(item.get_string());
      else if (item.is_int64()) key = std::to_string(item.get_int64());
      else continue;
      const auto local = find_by_identity(conn, t, key);
      if (!local) continue;
      auto st = conn.prepare("DELETE FROM " + db::quote_identifier(t.name) + " WHERE id = ?");
      st.bind(1, local->id);
      st.run();
      forget_local_changes(conn, t.name, local->id);
      ++stats.deleted;
    }
    if (cursor) save_cursor(conn, t.name, *cursor);
    touch_sync_log(conn, t.name, now_db);
  }
  tx.commit();
  return stats;
}

std::size_t finish_full_replace(db::connection& conn, const tables::table_descriptor& t,
                                const std::set<std::int64_t>& seen_ids) {
  db::transaction tx(conn);
  std::size_t removed = 0;
  {
    capture_scope scope(conn, true, "master");
    std::vector<std::int64_t> doomed;
    auto st = conn.prepare("SELECT id FROM " + db::quote_identifier(t.name) +
                           " WHERE id NOT IN (SELECT row_id FROM ruxx_sync_changes WHERE "
                           "table_name = ? AND op = 'insert')");
    st.bind(1, t.name);
    while (st.step()) {
      if (!seen_ids.count(st.column_int64(0))) doomed.push_back(st.column_int64(0));
    }
    for (auto id : doomed) {
      auto del = conn.prepare("DELETE FROM " + db::quote_identifier(t.name) + " WHERE id = ?");
      del.bind(1, id);
      del.run();
      forget_local_changes(conn, t.name, id);
      ++removed;
    }
  }
  tx.commit();
  return removed;
}

}  // namespace synccore::sync
