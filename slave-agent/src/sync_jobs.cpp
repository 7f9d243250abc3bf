#include "sync_jobs.hpp"

#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/log/logger.hpp>
#include <synccore/sync/pull_apply.hpp>
#include <synccore/sync/push_batch.hpp>
#include <synccore/sync/push_refusal.hpp>
#include <synccore/sync/slave_state.hpp>
#include <synccore/tables/table_descriptor.hpp>
#include <synccore/time/app_zone.hpp>

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>
#include <string>

namespace slave {

namespace json = boost::json;
using synccore::tables::table_descriptor;

namespace {

std::string now_db(const synccore::time::app_zone& zone) {
  return zone.to_db(std::chrono::time_point_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now()));
}

// Overlap subtracted from the pull mark when pulling from a version 1 master by `since`: a
// row the master wrote while it answered the previous pull, with an `updated_at` a little
// older than the newest row of that answer, is fetched again next time (applying a row twice
// is harmless).
constexpr auto v1_since_overlap = std::chrono::minutes(10);

std::optional<std::string> load_meta(job_context& ctx, const std::string& key) {
  auto st = ctx.conn.prepare("SELECT value FROM ruxx_sync_meta WHERE key = ?");
  st.bind(1, key);
  if (!st.step()) return std::nullopt;
  return st.column_string(0);
}

void save_meta(job_context& ctx, const std::string& key, const std::string& value) {
  auto st = ctx.conn.prepare(
      "INSERT INTO ruxx_sync_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET "
      "value = excluded.value");
  st.bind(1, key).bind(2, value);
  st.run();
}

// Where a version 1 pull of `table` starts next time: the newest `updated_at` the master has
// sent for it (database text, the master's own clock), never the slave's clock.
std::string v1_mark_key(std::string_view table) { return "v1_pull_mark:" + std::string(table); }

// Set once the master has answered in version 2 (docs/PROTOCOL.md, "Protocol memory").
constexpr const char* master_protocol_key = "master_protocol";

// A master that spoke version 2 to this slave and now answers as version 1 is most likely an
// old PHP node behind the same address during a roll-out. Syncing with it would drop what only
// version 2 carries (the stock deltas, the cursors), so the run stops before touching anything.
[[noreturn]] void refuse_protocol_downgrade(std::string_view what) {
  throw run_failure(
      exit_rejected,
      std::string(what) +
          ": the master answered as protocol version 1 although it spoke version 2 to this "
          "slave before (an old PHP node behind the same URL?). Nothing more is synced; the "
          "local changes are kept for the next run. If the master really went back to the PHP "
          "module, delete the key 'master_protocol' from ruxx_sync_meta.");
}

void check_protocol_memory(job_context& ctx) {
  const auto remembered = load_meta(ctx, master_protocol_key);
  if (ctx.master.protocol() == protocol_version::v2) {
    if (remembered != "2") save_meta(ctx, master_protocol_key, "2");
    return;
  }
  if (remembered == "2") refuse_protocol_downgrade("protocol check");
}

// A refusal of one table's data (not of the slave as a whole, like 401): the other tables
// still sync in that run.
bool is_table_refusal(const run_failure& e) {
  const int s = e.http_status();
  return e.code() == exit_rejected && (s == 400 || s == 409 || s == 413 || s == 422);
}

void warn_dropped_columns(const table_descriptor& t, const std::vector<std::string>& columns) {
  if (columns.empty()) return;
  json::array names;
  for (const auto& c : columns) names.emplace_back(c);
  synccore::log::log_warning(
      "The master sent " + std::string(t.name) +
          " columns this database does not have (the master's schema is newer); they were "
          "dropped and the rest applied",
      {{"table", t.name}, {"columns", json::serialize(names)}});
}

void add_dropped(std::vector<std::string>& all, const std::vector<std::string>& more) {
  for (const auto& c : more) {
    if (std::find(all.begin(), all.end(), c) == all.end()) all.push_back(c);
  }
}

// The PHP master stores every pushed inventory row as a new tank and knows no stock deltas, so
// against it inventory is only pulled (master wins) and local stock changes are dropped, loudly;
// a depot's edit of other columns is kept in the conflict log.
void drop_unsendable_counter_changes(job_context& ctx, const table_descriptor& t) {
  const auto dropped = synccore::sync::drop_unsendable_changes(ctx.conn, ctx.zone, t);
  if (dropped == 0) return;
  synccore::log::log_warning(
      "The master speaks protocol version 1: local " + std::string(t.name) +
          " changes cannot be sent and the master's values replace them",
      {{"table", t.name}, {"pending", dropped}});
}

void note_refused(job_context& ctx, std::string_view table) {
  auto& list = *ctx.refused_tables;
  if (std::find(list.begin(), list.end(), table) == list.end()) list.emplace_back(table);
}

// For a failure of `table` in a run that lists refusals: notes a refusal of the table's data
// (its rows stay pending; the caller goes on with the other tables) and logs it with `next`,
// what happens now. Rethrows anything else, and everything when no list is kept.
void note_refusal_or_rethrow(job_context& ctx, std::string_view table, const run_failure& e,
                             std::string_view next) {
  if (!ctx.refused_tables || !is_table_refusal(e)) throw e;
  synccore::log::log_error("The master refused " + std::string(table) + "; " + std::string(next),
                           {{"table", table}, {"reason", e.what()}});
  note_refused(ctx, table);
}

// Moves the change entries of rows the master refused to the end of the queue, so the rows
// behind them go in this run, and says which rows wait and why. They stay pending: sent again
// (first in the next run's queue) until the depot fixes them. Returns false when every row
// named is held already (no progress: the caller gives up).
bool hold_back(job_context& ctx, const table_descriptor& t,
               const std::vector<synccore::sync::refused_row>& refused,
               std::set<std::int64_t>& held) {
  std::vector<std::int64_t> ids;
  for (const auto& row : refused) {
    if (!held.insert(row.local_id).second) continue;
    ids.push_back(row.local_id);
    synccore::log::log_error(
        "The master refused a " + std::string(t.name) +
            " row; it stays pending and the rows after it are sent",
        {{"table", t.name}, {"id", row.local_id}, {"reason", row.reasons}});
  }
  if (ids.empty()) return false;
  synccore::sync::requeue_changes(ctx.conn, t.name, ids);
  return true;
}

void push_table(job_context& ctx, const table_descriptor& t, table_summary& summary) {
  const bool v2 = ctx.master.protocol() == protocol_version::v2;
  if (!v2 && !t.counter_column.empty()) {
    drop_unsendable_counter_changes(ctx, t);
    return;
  }
  const auto protocol = v2 ? synccore::sync::push_protocol::v2 : synccore::sync::push_protocol::v1;
  // Rows the master refused in this run: they wait at the end of the queue, the rest go.
  std::set<std::int64_t> held;
  std::optional<run_failure> refusal;
  for (int round = 0; round < 100000 && !ctx.stop.stop_requested(); ++round) {
    auto batch = synccore::sync::next_push_batch(ctx.conn, ctx.zone, t, ctx.node_id,
                                                 ctx.push_batch_rows, protocol, held);
    if (!batch) break;
    json::object answer;
    try {
      answer = ctx.master.push(batch->body);
    } catch (const run_failure& e) {
      if (e.code() == exit_rejected && v2) {
        // A refused batch is not resent verbatim: the rows are rebuilt from the change log
        // next time, so a row fixed locally can go through.
        auto drop = ctx.conn.prepare("DELETE FROM ruxx_sync_outbox WHERE table_name = ?");
        drop.bind(1, t.name);
        drop.run();
      }
      if (!v2 || !is_table_refusal(e)) throw;
      const auto refused = synccore::sync::refused_rows(*batch, e.answer_body());
      // Not about single rows (or nothing new to hold back): the table is refused as before.
      if (refused.empty() || !hold_back(ctx, t, refused, held)) throw;
      refusal.emplace(e);
      continue;
    }
    if (v2 && !answer.contains("results")) refuse_protocol_downgrade("push");
    const auto ack = synccore::sync::acknowledge_push(ctx.conn, *batch, answer, now_db(ctx.zone));
    summary.pushed += batch->rows;
    summary.pushed_deletes += batch->deletes;
    summary.conflicts += ack.conflicts;
    if (batch->resent) {
      synccore::log::log_notice("Resent an unacknowledged batch",
                                {{"table", t.name}, {"batch_id", batch->batch_id}});
    }
    if (!v2) break;  // version 1 sends everything pending in one request per run
  }
  if (!refusal) return;
  // The rest of the table went through: it still counts as refused (exit 4), but its pull
  // runs, so the depot gets the master's changes meanwhile. Without a list to note it in, the
  // refusal ends the run.
  if (!ctx.refused_tables) throw *refusal;
  note_refused(ctx, t.name);
}

// Counts a page's local versions that went to the conflict log as the run's conflicts, and
// says so when a pulled row took a unique value (users.email) from a local row.
void note_local_work(const table_descriptor& t, const synccore::sync::pull_apply_stats& stats,
                     table_summary& summary) {
  summary.conflicts += stats.logged_local;
  if (stats.merged_local == 0 && stats.displaced_local == 0 && stats.logged_local == 0) return;
  synccore::log::log_warning(
      "The master's rows replaced local versions (kept in the conflict log)",
      {{"table", t.name},
       {"logged", stats.logged_local},
       {"merged_same_identity", stats.merged_local},
       {"displaced_unique_values", stats.displaced_local}});
}

void pull_table_v2(job_context& ctx, const table_descriptor& t, table_summary& summary) {
  const bool full_replace = t.pull_is_full_replace;
  std::string cursor = full_replace ? std::string() : synccore::sync::load_cursor(ctx.conn, t.name).value_or("");
  std::set<std::int64_t> seen;
  std::vector<std::string> dropped;
  bool more = true;
  bool restarted = false;
  while (more) {
    if (ctx.stop.stop_requested() && !full_replace) break;
    json::object answer;
    try {
      answer = ctx.master.pull("table=" + url_encode(t.name) + "&cursor=" + url_encode(cursor) +
                               "&limit=" + std::to_string(ctx.pull_page_rows));
    } catch (const run_failure& e) {
      // A cursor the master no longer recognises (its database was restored from a backup):
      // start over from a snapshot once; applying rows again is harmless.
      const bool cursor_refused = e.code() == exit_rejected && !cursor.empty() &&
                                  std::string_view(e.what()).find("\"cursor\"") != std::string_view::npos;
      if (!cursor_refused || restarted) throw;
      synccore::log::log_warning("The master refused the saved cursor; pulling from the start",
                                 {{"table", t.name}});
      cursor.clear();
      restarted = true;
      continue;
    }
    const auto* data = answer.if_contains("data");
    const auto* next = answer.if_contains("cursor");
    if (data && data->is_array() && !next && answer.contains("since")) {
      refuse_protocol_downgrade("pull");  // a version 1 answer: no cursor, `since` echoed
    }
    if (!data || !data->is_array() || !next || !next->is_string()) {
      throw run_failure(exit_unreachable, "pull: the master's answer has no data or cursor");
    }
    static const json::array no_deletes;
    const auto* deleted = answer.if_contains("deleted");
    const auto& deletes = deleted && deleted->is_array() ? deleted->get_array() : no_deletes;
    cursor = std::string(next->get_string());
    // A full replace never saves its cursor: it starts over from the snapshot each run.
    const auto applied = synccore::sync::apply_pull_page(
        ctx.conn, ctx.zone, t, data->get_array(), deletes,
        full_replace ? std::nullopt : std::optional(cursor), now_db(ctx.zone),
        full_replace ? &seen : nullptr);
    add_dropped(dropped, applied.dropped_columns);
    note_local_work(t, applied, summary);
    summary.pulled += data->get_array().size();
    summary.pulled_deletes += deletes.size();
    const auto* has_more = answer.if_contains("has_more");
    more = has_more && has_more->is_bool() && has_more->get_bool();
  }
  warn_dropped_columns(t, dropped);
  if (more) return;  // stopped between pages
  if (full_replace) {
    summary.pulled_deletes += synccore::sync::finish_full_replace(ctx.conn, ctx.zone, t, seen);
  }
}

// The newest `updated_at` among `rows` (wire values, the master's clock), if any.
std::optional<synccore::time::utc_instant> newest_updated_at(const synccore::time::app_zone& zone,
                                                            const json::array& rows) {
  std::optional<synccore::time::utc_instant> newest;
  for (const auto& row : rows) {
    const auto* object = row.if_object();
    const auto* value = object ? object->if_contains("updated_at") : nullptr;
    if (!value || !value->is_string()) continue;
    const auto instant = zone.parse(std::string_view(value->get_string()));
    if (instant && (!newest || *instant > *newest)) newest = *instant;
  }
  return newest;
}

void pull_table_v1(job_context& ctx, const table_descriptor& t, table_summary& summary) {
  const auto started = std::chrono::time_point_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now());
  std::string query = "table=" + url_encode(t.name);
  // The pull mark: the newest `updated_at` of what the master sent before (its clock, not
  // ours), less an overlap. Without one (first pull, or after an upgrade) everything is pulled.
  std::optional<synccore::time::utc_instant> mark;
  if (!t.pull_is_full_replace) {
    if (auto saved = load_meta(ctx, v1_mark_key(t.name))) {
      if (auto instant = ctx.zone.from_db(*saved)) mark = *instant;
    }
    if (mark) {
      // The PHP master compares `since` as text against its database format, so send that
      // format (an ISO `since` of the same day would return nothing there).
      query += "&since=" + url_encode(ctx.zone.to_db(*mark - v1_since_overlap));
    }
  }
  const auto answer = ctx.master.pull(query);
  const auto* data = answer.if_contains("data");
  if (!data || !data->is_array()) throw run_failure(exit_unreachable, "pull: no data in the answer");
  std::set<std::int64_t> seen;
  static const json::array no_deletes;
  const auto applied = synccore::sync::apply_pull_page(
      ctx.conn, ctx.zone, t, data->get_array(), no_deletes, std::nullopt,
      ctx.zone.to_db(started), t.pull_is_full_replace ? &seen : nullptr);
  warn_dropped_columns(t, applied.dropped_columns);
  note_local_work(t, applied, summary);
  summary.pulled += data->get_array().size();
  if (t.pull_is_full_replace) {
    summary.pulled_deletes += synccore::sync::finish_full_replace(ctx.conn, ctx.zone, t, seen);
  } else if (auto newest = newest_updated_at(ctx.zone, data->get_array())) {
    // A row stamped in the future (a depot whose clock ran ahead pushed it with its own
    // updated_at, which the PHP master keeps) must not carry the mark past the master's clock.
    if (const auto master_now = ctx.master.last_answer_date()) {
      newest = std::min(*newest, synccore::time::utc_instant(*master_now));
    }
    // Saved after the rows are committed: a crash in between pulls them again, harmlessly.
    if (!mark || *newest > *mark) save_meta(ctx, v1_mark_key(t.name), ctx.zone.to_db(*newest));
  }
}

}  // namespace

table_summary sync_table(job_context& ctx, std::string_view table) {
  const auto* t = synccore::tables::find_table(table);
  table_summary summary;
  summary.table = std::string(table);
  const auto start = std::chrono::steady_clock::now();
  check_protocol_memory(ctx);
  push_table(ctx, *t, summary);
  if (!ctx.stop.stop_requested()) {
    if (ctx.master.protocol() == protocol_version::v2) {
      pull_table_v2(ctx, *t, summary);
    } else {
      pull_table_v1(ctx, *t, summary);
    }
  }
  summary.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now() - start)
                            .count();
  synccore::log::log_info("Successfully synced " + summary.table,
                          {{"pushed", summary.pushed},
                           {"pushed_deletes", summary.pushed_deletes},
                           {"pulled", summary.pulled},
                           {"pulled_deletes", summary.pulled_deletes},
                           {"conflicts", summary.conflicts},
                           {"duration_ms", summary.duration_ms}});
  return summary;
}

std::vector<table_summary> push_pending(job_context& ctx, const std::vector<std::string>& tables) {
  check_protocol_memory(ctx);  // a recovery must not drop the stock deltas either
  std::vector<table_summary> out;
  for (const auto& name : tables) {
    if (ctx.stop.stop_requested()) break;
    table_summary summary;
    summary.table = name;
    try {
      push_table(ctx, *synccore::tables::find_table(name), summary);
    } catch (const run_failure& e) {
      note_refusal_or_rethrow(ctx, name, e, "pushing the other tables");
    }
    if (summary.pushed || summary.pushed_deletes) {
      synccore::log::log_info("Pushed pending " + name,
                              {{"pushed", summary.pushed},
                               {"pushed_deletes", summary.pushed_deletes},
                               {"conflicts", summary.conflicts}});
    }
    out.push_back(std::move(summary));
  }
  return out;
}

std::vector<table_summary> run_sync(job_context& ctx) {
  std::vector<table_summary> out;
  for (const auto& t : synccore::tables::all_tables()) {
    if (!t.in_sync_run) continue;
    if (ctx.stop.stop_requested()) break;
    try {
      out.push_back(sync_table(ctx, t.name));
    } catch (const run_failure& e) {
      note_refusal_or_rethrow(ctx, t.name, e, "syncing the other tables");
    }
  }
  return out;
}

std::vector<table_summary> run_company_settings(job_context& ctx, bool force) {
  std::optional<std::string> synced_at;
  {
    // Scoped: a statement left stepping keeps its read snapshot open for the whole job, and the
    // first write after the app committed a sale would then fail with "database is locked"
    // (SQLITE_BUSY_SNAPSHOT, which no busy timeout waits out).
    auto done = ctx.conn.prepare(
        "SELECT value FROM ruxx_sync_meta WHERE key = 'company_settings_synced_at'");
    if (done.step()) synced_at = done.column_string(0);
  }
  if (synced_at && !force) {
    synccore::log::log_info("Company settings already synced; use --force to sync again",
                            {{"synced_at", *synced_at}});
    return {};
  }
  std::vector<table_summary> out{sync_table(ctx, "company_settings")};
  if (!ctx.stop.stop_requested()) {
    auto mark = ctx.conn.prepare(
        "INSERT INTO ruxx_sync_meta (key, value) VALUES ('company_settings_synced_at', ?) ON "
        "CONFLICT (key) DO UPDATE SET value = excluded.value");
    mark.bind(1, now_db(ctx.zone));
    mark.run();
  }
  return out;
}

}  // namespace slave
