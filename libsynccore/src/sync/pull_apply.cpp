#include <synccore/codec/row_codec.hpp>
#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/db/transaction.hpp>
#include <synccore/schema/table_schema.hpp>
#include <synccore/sync/batch_inserter.hpp>
#include <synccore/sync/change_capture.hpp>
#include <synccore/sync/pull_apply.hpp>
#include <synccore/sync/renumber.hpp>
#include <synccore/sync/row_lookup.hpp>
#include <synccore/sync/base_content.hpp>
#include <synccore/sync/row_writer.hpp>
#include <synccore/sync/slave_state.hpp>
#include <synccore/sync/terminal_status.hpp>
#include <synccore/tables/table_descriptor.hpp>
#include <synccore/time/app_zone.hpp>

#include "pull_local_work.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <deque>
#include <stdexcept>

namespace synccore::sync {

namespace json = boost::json;

namespace {

struct pending_change {
  std::string op;
  std::optional<std::string> base_updated_at;
};

// The statements one apply call runs for its rows, each prepared once per call instead of once
// per row (preparing cost more than running them). A statement is reset before each use and a
// lookup resets it once read, so no read cursor stays open while the table is written.
class page_statements {
 public:
  page_statements(db::connection& conn, const tables::table_descriptor& t)
      : conn_(conn), t_(t), name_(db::quote_identifier(t.name)) {}

  std::optional<pending_change> pending_for(std::int64_t id) {
    auto& st = use(pending_, [] {
      return std::string("SELECT op, base_updated_at FROM ruxx_sync_changes WHERE table_name = "
                         "? AND row_id = ?");
    });
    st.bind(1, t_.name).bind(2, id);
    std::optional<pending_change> out;
    if (st.step()) {
      out = pending_change{st.column_string(0), st.is_null(1) ? std::nullopt
                                                              : std::optional(st.column_string(1))};
    }
    st.reset();
    return out;
  }

  // Forgets the pending local change of row `id` (the master's newer version replaced it).
  void forget_change(std::int64_t id) {
    auto& st = use(forget_change_, [] {
      return std::string("DELETE FROM ruxx_sync_changes WHERE table_name = ? AND row_id = ?");
    });
    st.bind(1, t_.name).bind(2, id);
    st.run();
  }

  // The pending local change of row `id` is now an edit of the master's version `base`.
  void rebase_change(std::int64_t id, const std::optional<std::string>& base) {
    auto& st = use(rebase_, [] {
      return std::string("UPDATE ruxx_sync_changes SET op = 'update', base_updated_at = ? WHERE "
                         "table_name = ? AND row_id = ?");
    });
    if (base) {
      st.bind(1, *base);
    } else {
      st.bind_null(1);
    }
    st.bind(2, t_.name).bind(3, id);
    st.run();
  }

  // Forgets the pending change and the counter deltas of row `id`.
  void forget_local_changes(std::int64_t id) {
    forget_change(id);
    auto& st = use(forget_deltas_, [] {
      return std::string(
          "DELETE FROM ruxx_sync_counter_deltas WHERE table_name = ? AND row_id = ?");
    });
    st.bind(1, t_.name).bind(2, id);
    st.run();
  }

  // Adds the local deltas not yet pushed to the counter column of row `id`.
  void add_counter_deltas(std::int64_t id) {
    auto& st = use(counter_, [&] {
      const std::string column = db::quote_identifier(t_.counter_column);
      return "UPDATE " + name_ + " SET " + column + " = round(" + column +
             " + (SELECT delta FROM ruxx_sync_counter_deltas WHERE table_name = ? AND row_id "
             "= ? AND column = ?), 6) WHERE id = ? AND EXISTS (SELECT 1 FROM "
             "ruxx_sync_counter_deltas WHERE table_name = ? AND row_id = ? AND column = ?)";
    });
    st.bind(1, t_.name).bind(2, id).bind(3, t_.counter_column).bind(4, id);
    st.bind(5, t_.name).bind(6, id).bind(7, t_.counter_column);
    st.run();
  }

  void delete_row(std::int64_t id) {
    auto& st = use(delete_, [&] { return "DELETE FROM " + name_ + " WHERE id = ?"; });
    st.bind(1, id);
    st.run();
  }

 private:
  template <class MakeSql>
  db::statement& use(std::optional<db::statement>& slot, MakeSql make_sql) {
    if (!slot) {
      slot.emplace(conn_.prepare(make_sql()));
    } else {
      slot->reset();
    }
    return *slot;
  }

  db::connection& conn_;
  const tables::table_descriptor& t_;
  std::string name_;  // quoted table name
  std::optional<db::statement> pending_, forget_change_, rebase_, forget_deltas_, counter_, delete_;
};

// Whether the local pending version of a last-writer-wins row is kept over the master's: it is
// newer, or, at a tie, an edit of exactly that master version (its base; updated_at has whole
// seconds, so an edit in the second of the version it started from ties with it).
bool local_is_newer(const time::app_zone& zone, const row_ref& local,
                    const codec::decoded_row& incoming, const pending_change& pending) {
  const auto* v = incoming.find("updated_at");
  const auto* text = v ? std::get_if<std::string>(v) : nullptr;
  if (!local.updated_at) return false;
  if (!text) return true;
  const auto l = zone.from_db(*local.updated_at);
  const auto r = zone.from_db(*text);
  if (!l || !r) return false;
  return *l > *r || (*l == *r && pending.base_updated_at == *text);
}

// Why the master's row replaces a pending local version (the words the master logs a losing
// push with, marked as the pull's).
std::string replaced_reason(const time::app_zone& zone, const tables::table_descriptor& t,
                            const row_ref& local, const codec::decoded_row& incoming) {
  if (t.rule != tables::conflict_rule::last_writer_wins) {
    return "replaced by the pull: the master's row wins for " + std::string(t.name);
  }
  const auto* v = incoming.find("updated_at");
  const auto* text = v ? std::get_if<std::string>(v) : nullptr;
  bool tie = false;
  if (text && local.updated_at) {
    const auto l = zone.from_db(*local.updated_at);
    const auto r = zone.from_db(*text);
    tie = l && r && *l == *r;
  }
  return tie ? "replaced by the pull: same updated_at: the master's row is kept"
             : "replaced by the pull: older updated_at than the master's row";
}

// A pulled row whose natural unique value (users.email) a different local row holds.
// - A new local row not yet pushed (pending insert) is the same person registered at the depot:
//   the master matches a pushed insert by its natural key, so it is this master row. With no
//   local row at the master's id it moves onto that id (its sales follow) and is then the
//   local version of the row (kept when newer, else logged and replaced). When the master's
//   row is already here under its own id, the new row merges into it: its references (sales)
//   move over and its version is logged.
// - Any other row holds the value from an older master version (the master's newer version of
//   that row follows in the stream) or from a local edit: the master's row takes the value, the
//   local row gets a placeholder until its own master version arrives, and a local edit is
//   logged and dropped (the master could not store it either).
void make_room_for_unique(db::connection& conn, const tables::table_descriptor& t,
                          const codec::decoded_row& incoming, const json::object& raw,
                          std::string_view column, std::int64_t master_id,
                          std::optional<row_ref>& local, row_finder& finder,
                          batch_inserter& new_rows, detail::local_versions& versions,
                          pull_apply_stats& stats) {
  const auto* value = incoming.find(column);
  if (!value) return;
  const auto other = finder.by_column(column, *value);
  if (!other || (local && other->id == local->id)) return;
  new_rows.flush();
  const auto op = detail::pending_op(conn, t.name, other->id);
  const std::string holder = "the master's row " + std::to_string(master_id);
  if (op == "insert" && t.master_assigns_id && master_id > 0) {
    ++stats.merged_local;
    if (!local) {
      renumber_row(conn, t.name, other->id, master_id);
      local = finder.by_id(master_id);
      return;
    }
    versions.log_lost(other->id, "merged by the pull: same " + std::string(column) + " as " +
                      holder, json::serialize(raw));
    ++stats.logged_local;
    detail::merge_into(conn, t.name, other->id, local->id);
    return;
  }
  if (op) {
    versions.log_lost(other->id, "displaced by the pull: " + holder + " holds its " +
                      std::string(column), json::serialize(raw));
    ++stats.logged_local;
    auto forget = conn.prepare("DELETE FROM ruxx_sync_changes WHERE table_name = ? AND row_id = ?");
    forget.bind(1, t.name).bind(2, other->id);
    forget.run();
  }
  detail::displace_unique_value(conn, t.name, column, other->id);
  ++stats.displaced_local;
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
      if (hidden != column.name) continue;
      // Built in place: GCC 12 at -O3 misreads a braced temporary variant as uninitialized.
      auto& added = row.values.emplace_back();
      added.column = &column;
      added.value.emplace<std::string>();
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
  try {
    capture_scope scope(conn, true, "master");
    row_writer writer(conn, table);
    page_statements stmts(conn, t);
    // New rows that keep the master's id wait here and are written with multi-row INSERTs
    // (a recovery is almost nothing else); a lookup that could find one writes them first.
    std::deque<codec::decoded_row> waiting;
    std::vector<std::string> tracked;
    if (t.identity_column != "id") tracked.emplace_back(t.identity_column);
    for (auto column : t.natural_unique_columns) tracked.emplace_back(column);
    batch_inserter new_rows(conn, table, std::string(t.identity_column), tracked,
                            [seen_ids](std::size_t, std::int64_t id) {
                              if (seen_ids) seen_ids->insert(id);
                            });
    row_finder finder(conn, t, &new_rows);
    detail::local_versions versions(conn, zone, table, t);
    // Deletes first: a page can hold the tombstone of a row and a new row that took over its
    // unique value (a user deleted and registered again with the same e-mail), and the master
    // never has both alive. A tombstone deletes only the row it names: a new local row that
    // merely holds the same id (or transaction number) is another row, the master never saw
    // it, and it goes out with the next push (the master gives it a new id: it never reuses a
    // deleted one). A known row with a pending local edit is the master's row and is deleted
    // (the master does not resurrect deleted rows either), its local version logged.
    for (const auto& item : deleted) {
      std::string key;
      if (item.is_string()) key = std::string(item.get_string());
      else if (item.is_int64()) key = std::to_string(item.get_int64());
      else continue;
      const auto local = finder.by_identity(key);
      if (!local) continue;
      const auto pending = stmts.pending_for(local->id);
      if (pending && pending->op == "insert") {
        ++stats.kept_local;
        continue;
      }
      if (pending) {
        versions.log_lost(local->id, "deleted by the pull: the row was deleted on the master",
                          std::nullopt);
        ++stats.logged_local;
      }
      stats.logged_local += versions.log_pending_children(local->id);
      stmts.delete_row(local->id);
      stmts.forget_local_changes(local->id);
      ++stats.deleted;
    }
    // A local row in the way moves past every id of this page too, so it does not land on the
    // id of a row further down the page and have to move again (and again).
    std::int64_t page_max_id = 0;
    for (const auto& row : rows) {
      const auto* object = row.if_object();
      const auto* id = object ? object->if_contains("id") : nullptr;
      if (id && id->is_int64()) page_max_id = std::max(page_max_id, id->get_int64());
    }
    const bool lww = t.rule == tables::conflict_rule::last_writer_wins;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto* object = rows[i].if_object();
      if (!object) throw std::runtime_error("master sent a row that is not an object");
      auto decoded = decoder.decode_dropping_unknown(*object, stats.dropped_columns);
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
        local = finder.by_id(master_id);
        if (local) {
          const auto pending = stmts.pending_for(local->id);
          if (pending && pending->op == "insert") {
            // A new local row holds the id the master uses for another row: move it aside.
            new_rows.flush();
            renumber_row(conn, t.name, local->id,
                         std::max(fresh_id(conn, t.name), page_max_id + 1));
            ++stats.moved_local;
            local.reset();
          }
        }
      } else {
        const auto* key = std::get_if<std::string>(key_value);
        local = finder.by_identity(key ? std::string_view(*key) : std::string_view(""));
      }
      for (auto column : t.natural_unique_columns) {
        make_room_for_unique(conn, t, *decoded, *object, column, master_id, local, finder,
                             new_rows, versions, stats);
      }
      if (local) {
        const auto pending = stmts.pending_for(local->id);
        if (lww && pending && local_is_newer(zone, *local, *decoded, *pending)) {
          ++stats.kept_local;
        } else {
          // A local version the master's replaces is kept in the conflict log, as the
          // master keeps a losing push (a version already pushed has no pending change).
          if (pending && versions.would_lose_edit(local->id, *decoded)) {
            versions.log_lost(local->id, replaced_reason(zone, t, *local, *decoded),
                              json::serialize(*object));
            ++stats.logged_local;
          }
          // A local cancellation not yet pushed survives the master's newer version of the sale
          // (terminal_status.hpp), and is still to be pushed, as an edit of that version.
          const auto kept = lww && pending ? status_kept_from_loser(
                                                 status_of(t, *decoded),
                                                 stored_status(conn, t, local->id))
                                           : std::nullopt;
          if (kept) set_status(t, *decoded, *kept);
          writer.update(local->id, *decoded);
          if (kept) {
            const auto* base = decoded->find("updated_at");
            const auto* base_text = base ? std::get_if<std::string>(base) : nullptr;
            stmts.rebase_change(local->id, base_text ? std::optional(*base_text) : std::nullopt);
          } else if (lww && pending) {
            // The master's newer version replaces the local edit: nothing left to push.
            stmts.forget_change(local->id);
          }
          if (!t.counter_column.empty()) stmts.add_counter_deltas(local->id);
          ++stats.updated;
        }
        if (seen_ids) seen_ids->insert(local->id);
      } else {
        fill_withheld_columns(table, t, *decoded);
        const bool keep_id = (t.master_assigns_id || !finder.by_id(master_id)) && master_id > 0;
        if (keep_id && new_rows.accepts(*decoded, true)) {
          waiting.push_back(std::move(*decoded));
          new_rows.add(waiting.back(), true, i);
        } else {
          new_rows.flush();
          const auto id = writer.insert(*decoded, keep_id);
          if (seen_ids) seen_ids->insert(id);
        }
        ++stats.inserted;
      }
    }
    new_rows.flush();
    if (!t.counter_column.empty()) refresh_base_content(conn, t);
    if (cursor) save_cursor(conn, t.name, *cursor);
    touch_sync_log(conn, t.name, now_db);
  } catch (const batch_row_failure& failure) {
    throw failure.error;  // as when the row was written on its own
  }
  tx.commit();
  return stats;
}

std::size_t finish_full_replace(db::connection& conn, const time::app_zone& zone,
                                const tables::table_descriptor& t,
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
    page_statements stmts(conn, t);
    const auto table = schema::read_table_schema(conn, t.name);
    detail::local_versions versions(conn, zone, table, t);
    for (auto id : doomed) {
      // A known row the depot changed (an edit, a sale) that the master no longer has.
      if (stmts.pending_for(id)) {
        versions.log_lost(id, "deleted by the pull: the row was deleted on the master",
                          std::nullopt);
      }
      versions.log_pending_children(id);
      stmts.delete_row(id);
      stmts.forget_local_changes(id);
      ++removed;
    }
    if (!t.counter_column.empty()) refresh_base_content(conn, t);
  }
  tx.commit();
  return removed;
}

}  // namespace synccore::sync
