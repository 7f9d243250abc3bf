#include "recovery.hpp"

#include "capture_repair.hpp"
#include "recovery_swap.hpp"
#include "sync_jobs.hpp"

#include <synccore/db/connection.hpp>
#include <synccore/db/sqlite_error.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/log/logger.hpp>
#include <synccore/schema/schema_installer.hpp>
#include <synccore/sync/change_capture.hpp>
#include <synccore/sync/pull_apply.hpp>
#include <synccore/sync/slave_state.hpp>
#include <synccore/tables/table_descriptor.hpp>
#include <synccore/time/app_zone.hpp>

#include <chrono>
#include <cstdio>
#include <future>
#include <optional>
#include <set>

namespace slave {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

std::string now_db(const synccore::time::app_zone& zone) {
  return zone.to_db(std::chrono::time_point_cast<std::chrono::microseconds>(
      std::chrono::system_clock::now()));
}

class progress_bar {
 public:
  progress_bar(bool enabled, std::string table, long long total)
      : enabled_(enabled), table_(std::move(table)), total_(total) {}
  void update(long long done) {
    if (!enabled_) return;
    const int width = 30;
    const double ratio = total_ > 0 ? std::min(1.0, static_cast<double>(done) / total_) : 1.0;
    const int filled = static_cast<int>(ratio * width);
    std::fprintf(stderr, "\rrecovering %-22s [%s%s] %3d%% %lld/%lld rows", table_.c_str(),
                 std::string(filled, '#').c_str(), std::string(width - filled, ' ').c_str(),
                 static_cast<int>(ratio * 100), done, total_);
    std::fflush(stderr);
  }
  ~progress_bar() {
    if (enabled_) std::fputc('\n', stderr);
  }

 private:
  bool enabled_;
  std::string table_;
  long long total_;
};

long long master_rows(const json::object& status, std::string_view table) {
  const auto* tables = status.if_contains("tables");
  if (!tables || !tables->is_object()) return -1;
  const auto* t = tables->as_object().if_contains(table);
  if (!t || !t->is_object()) return -1;
  const auto* rows = t->as_object().if_contains("rows");
  return rows && rows->is_int64() ? rows->get_int64() : -1;
}

// Fills the fresh file `work` from the master and checks it. Returns the rows downloaded.
// Closing its connection on return checkpoints the WAL into the file.
std::size_t download_into(const fs::path& work, const synccore::time::app_zone& zone,
                          master_api& master, const recovery_options& options,
                          const std::string& node_id, std::stop_token stop) {
  std::size_t total = 0;
  const bool v2 = master.protocol() == protocol_version::v2;
  const auto status = v2 ? master.status() : json::object();
  synccore::db::connection conn(work);
  // The .recovering file is thrown away if anything goes wrong before the rename, so it
  // needs no fsync per commit; a 16 MiB page cache keeps the indexes of a 1M-row table in
  // memory while it fills (docs/PERFORMANCE.md, target 4).
  conn.execute("PRAGMA synchronous = OFF; PRAGMA cache_size = -16384");
  // The app's CHECK (x IN (...)) constraints cost SQLite an ephemeral table per row, a
  // third of the fill. The quick_check after the fill evaluates every CHECK once per row
  // instead and refuses the file before it replaces anything (test_slave_failures).
  conn.execute("PRAGMA ignore_check_constraints = ON");
  synccore::schema::ensure_app_tables(conn);
  synccore::schema::ensure_sync_tables(conn);
  synccore::sync::ensure_node_id(conn, node_id);
  for (const auto& t : synccore::tables::all_tables()) {
    progress_bar bar(options.show_progress, std::string(t.name), master_rows(status, t.name));
    synccore::log::log_info("Recovering " + std::string(t.name) + " from the master");
    std::string cursor;
    std::size_t rows = 0;
    bool more = true;
    // The page fetched last is written by a second thread while this one fetches and
    // parses the next, so the master's encoding, the transfer and the slave's writes
    // overlap. One page at a time is being written: the connection is never used by two
    // threads at once. (A std::async future waits for its page in every exit path.)
    std::future<void> writing;
    auto finish_writing = [&writing] {
      if (writing.valid()) writing.get();  // rethrows what the page's write threw
    };
    while (more) {
      if (stop.stop_requested()) {
        finish_writing();
        throw run_failure(exit_ok, "recovery interrupted; the old database is untouched");
      }
      json::object answer;
      if (v2) {
        answer = master.pull("table=" + url_encode(t.name) + "&cursor=" + url_encode(cursor) +
                             "&limit=" + std::to_string(options.page_rows));
      } else {
        answer = master.pull("table=" + url_encode(t.name));
      }
      const auto* data = answer.if_contains("data");
      if (!data || !data->is_array()) throw run_failure(exit_unreachable, "recovery: no data");
      const auto* next = answer.if_contains("cursor");
      if (v2 && next && next->is_string()) cursor = std::string(next->get_string());
      const auto* has_more = answer.if_contains("has_more");
      more = v2 && has_more && has_more->is_bool() && has_more->get_bool();
      const std::size_t page_rows = data->get_array().size();
      auto page_cursor = v2 && !t.pull_is_full_replace ? std::optional(cursor) : std::nullopt;
      finish_writing();
      writing = std::async(std::launch::async, [&conn, &zone, &t, page = std::move(answer),
                                                page_cursor = std::move(page_cursor),
                                                stamp = now_db(zone)] {
        static const json::array no_deletes;
        const auto* deleted = page.if_contains("deleted");
        synccore::sync::apply_pull_page(
            conn, zone, t, page.at("data").get_array(),
            deleted && deleted->is_array() ? deleted->get_array() : no_deletes, page_cursor,
            stamp);
      });
      rows += page_rows;
      bar.update(static_cast<long long>(rows));
    }
    finish_writing();
    total += rows;
    synccore::log::log_info("Recovered " + std::string(t.name), {{"rows", rows}});
  }
  conn.execute("PRAGMA ignore_check_constraints = OFF");
  auto check = conn.prepare("PRAGMA quick_check");
  if (!check.step() || check.column_text(0) != "ok") {
    throw run_failure(exit_local_db, "the recovered database fails quick_check");
  }
  auto fk = conn.prepare("PRAGMA foreign_key_check");
  if (fk.step()) {
    throw run_failure(exit_local_db, "the recovered database has dangling foreign keys in " +
                                         fk.column_string(0));
  }
  synccore::sync::install_change_capture(conn, synccore::sync::node_role::slave);
  auto mark = conn.prepare("INSERT OR REPLACE INTO ruxx_sync_meta (key, value) VALUES "
                           "('company_settings_synced_at', ?)");
  mark.bind(1, now_db(zone));
  mark.run();
  conn.execute("PRAGMA synchronous = FULL");
  return total;
}

// The tables of the readable old file whose pending changes can be pushed: those that exist.
// A table that is missing lost its rows; its change entries would go out as deletes of rows
// the master still has, so they are not sent (and the swap drops them).
std::vector<std::string> present_tables(synccore::db::connection& live) {
  std::vector<std::string> out;
  for (const auto& t : synccore::tables::all_tables()) {
    if (live.has_table(t.name)) out.emplace_back(t.name);
  }
  return out;
}

void throw_if_stopped(std::stop_token stop) {
  if (stop.stop_requested()) {
    throw run_failure(exit_ok, "recovery interrupted; the old database is untouched");
  }
}

// A readable file is replaced only once nothing local is unsent. A row the master refuses (a
// 422 naming it, logged with its id and reasons just before) would stay unsent for ever: the
// recovery pushes every other table, then stops here with the file as it was, and says what
// the depot has to do.
void throw_if_refused(const std::vector<std::string>& refused) {
  if (refused.empty()) return;
  std::string tables;
  for (const auto& t : refused) tables += (tables.empty() ? "" : ", ") + t;
  throw run_failure(exit_rejected,
                    "recovery stopped before replacing anything: the master refused pending " +
                        tables + " rows (logged above with their ids and reasons); correct or "
                        "delete those rows in the depot's database, then recover again");
}

// Replaces the readable `live` file by `work` in place. The app may have written to `live`
// while the download ran: those changes are pushed and the recovered file pulls them back
// (a normal incremental run on it), until a swap finds nothing pending.
void swap_in_place(synccore::db::connection& live, const fs::path& database, const fs::path& work,
                   job_context& live_ctx, const std::vector<std::string>& pushable) {
  constexpr int max_rounds = 20;
  for (int round = 0; round < max_rounds; ++round) {
    throw_if_stopped(live_ctx.stop);
    const auto aside = aside_path(database);
    if (replace_in_place(live, work, pushable, aside)) {
      synccore::log::log_warning("Replaced the database in place; the old state is kept",
                                 {{"path", aside.string()}});
      return;
    }
    synccore::log::log_info("The app wrote during the recovery: pushing that first");
    push_pending(live_ctx, pushable);
    throw_if_refused(*live_ctx.refused_tables);
    throw_if_stopped(live_ctx.stop);
    synccore::db::connection conn(work);
    job_context catch_up{conn, live_ctx.zone, live_ctx.master, live_ctx.node_id, live_ctx.stop};
    run_sync(catch_up);
  }
  throw run_failure(exit_local_db, "recovery: the app kept writing; the old database is "
                                   "untouched, the next attempt tries again");
}

}  // namespace

health_report check_database(const fs::path& database, master_api* master, bool thorough) {
  std::error_code ec;
  if (!fs::exists(database, ec) || fs::file_size(database, ec) == 0) {
    return {db_health::missing, "the database file is missing or empty"};
  }
  try {
    synccore::db::connection conn(database);
    if (thorough) {
      auto check = conn.prepare("PRAGMA quick_check");
      if (!check.step() || check.column_text(0) != "ok") {
        return {db_health::corrupt, "quick_check: " + check.column_string(0)};
      }
    }
    const auto missing = synccore::schema::missing_synced_tables(conn);
    if (!missing.empty()) return {db_health::incomplete, "missing table " + missing.front()};
    bool any_rows = false;
    for (const auto& t : synccore::tables::all_tables()) {
      auto probe = conn.prepare("SELECT 1 FROM " + synccore::db::quote_identifier(t.name) +
                                " LIMIT 1");
      any_rows = any_rows || probe.step();
    }
    if (!any_rows && master && master->protocol() == protocol_version::v2) {
      const auto status = master->status();
      for (const auto& t : synccore::tables::all_tables()) {
        if (master_rows(status, t.name) > 0) {
          return {db_health::empty_but_master_has_rows, "the app tables are empty"};
        }
      }
    }
  } catch (const synccore::db::sqlite_error& e) {
    if (e.is_corrupt()) return {db_health::corrupt, e.what()};
    throw run_failure(exit_local_db, e.what());
  }
  return {};
}

std::size_t recover_database(const fs::path& database, const synccore::time::app_zone& zone,
                             master_api& master, const recovery_options& options,
                             std::stop_token stop) {
  const fs::path work = database.string() + ".recovering";
  remove_with_sidecars(work);  // an earlier, interrupted recovery starts over
  // A recovery that fails (master gone, a check refused the file, SIGTERM) leaves no half-made
  // file behind; only a kill -9 can, and the next recovery starts by removing it. A file
  // swapped in place is copied, not handed over: it goes too.
  bool handed_over = false;
  struct discard_unless_handed_over {
    const fs::path& work;
    const bool& handed_over;
    ~discard_unless_handed_over() {
      if (!handed_over) remove_with_sidecars(work);
    }
  } discard{work, handed_over};
  std::string node_id = options.node_id_override;
  if (node_id.empty() && !options.readable) {
    try {  // keep the node's identity when the old file still tells it
      synccore::db::connection old(database, {.read_only = true});
      auto st = old.prepare("SELECT value FROM ruxx_sync_meta WHERE key = 'node_id'");
      if (st.step()) node_id = st.column_string(0);
    } catch (const std::exception&) {
    }
  }
  std::size_t total = 0;
  try {
    std::optional<synccore::db::connection> live;
    std::optional<job_context> live_ctx;
    std::vector<std::string> pushable;
    std::vector<std::string> refused;
    if (options.readable) {
      // Sales made since the last sync go to the master before anything is rebuilt; a push
      // that fails (run_failure) ends the recovery with the old file untouched.
      live.emplace(database);
      pushable = present_tables(*live);
      synccore::schema::ensure_app_tables(*live);
      synccore::schema::ensure_sync_tables(*live);
      repair_capture(*live);
      node_id = synccore::sync::ensure_node_id(*live, options.node_id_override);
      live_ctx.emplace(job_context{*live, zone, master, node_id, stop});
      live_ctx->refused_tables = &refused;
      push_pending(*live_ctx, pushable);
      throw_if_refused(refused);
      throw_if_stopped(stop);
    }
    total = download_into(work, zone, master, options, node_id, stop);
    if (live) {
      swap_in_place(*live, database, work, *live_ctx, pushable);
    } else {
      std::error_code ec;
      if (fs::exists(database, ec)) {
        const fs::path aside = aside_path(database);
        move_with_sidecars(database, aside);
        synccore::log::log_warning("Moved the old database aside", {{"path", aside.string()}});
      }
      handed_over = true;
      move_with_sidecars(work, database);
    }
  } catch (const synccore::db::sqlite_error& e) {
    throw run_failure(exit_local_db, std::string("recovery: ") + e.what());
  } catch (const fs::filesystem_error& e) {
    throw run_failure(exit_local_db, std::string("recovery: ") + e.what());
  }
  synccore::log::log_info("Recovery complete", {{"rows", total}});
  return total;
}

}  // namespace slave
