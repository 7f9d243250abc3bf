#include "recovery_swap.hpp"

#include <synccore/db/sqlite_error.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/db/transaction.hpp>
#include <synccore/log/logger.hpp>
#include <synccore/schema/schema_installer.hpp>
#include <synccore/sync/change_capture.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <ctime>
#include <memory>
#include <stdexcept>

namespace slave {

namespace fs = std::filesystem;
using synccore::db::quote_identifier;

namespace {

// The bookkeeping that describes the rows (replaced with them); the conflict log, the node id
// and the schema version stay the live file's.
constexpr const char* replaced_bookkeeping[] = {"ruxx_sync_cursors", "ruxx_sync_base_content"};
constexpr const char* pending_tables[] = {"ruxx_sync_changes", "ruxx_sync_counter_deltas",
                                          "ruxx_sync_outbox"};

std::string in_list(const std::vector<std::string>& names) {
  std::string out = "(";
  for (const auto& n : names) out += (out.size() > 1 ? ", '" : "'") + n + "'";
  return out + (names.empty() ? "NULL)" : ")");
}

std::vector<std::string> columns(synccore::db::connection& conn, std::string_view schema,
                                 std::string_view table) {
  std::vector<std::string> out;
  auto st = conn.prepare("SELECT name FROM pragma_table_info(?, ?)");
  st.bind(1, table).bind(2, schema);
  while (st.step()) out.push_back(st.column_string(0));
  return out;
}

// Rewrites main.`table` with recovered.`table`, over the columns both have (a column only the
// live table has takes its default).
void copy_table(synccore::db::connection& live, std::string_view table) {
  const auto theirs = columns(live, "recovered", table);
  std::string list;
  for (const auto& c : columns(live, "main", table)) {
    if (std::find(theirs.begin(), theirs.end(), c) == theirs.end()) continue;
    list += (list.empty() ? "" : ", ") + quote_identifier(c);
  }
  const auto name = quote_identifier(table);
  live.execute("DELETE FROM main." + name);
  if (!list.empty()) {
    live.execute("INSERT INTO main." + name + " (" + list + ") SELECT " + list +
                 " FROM recovered." + name);
  }
}

// Copies the committed state of the live file to `aside` through a second connection: the
// backup API refuses a source connection that holds a write transaction, and the caller's holds
// one, so this reads the same state (nothing is written before the copy) from the WAL snapshot.
void save_copy(const fs::path& live, const fs::path& aside) {
  synccore::db::connection source(live, {.read_only = true});
  synccore::db::connection copy(aside, {.wal = false});
  std::unique_ptr<sqlite3_backup, int (*)(sqlite3_backup*)> backup(
      sqlite3_backup_init(copy.handle(), "main", source.handle(), "main"), sqlite3_backup_finish);
  if (!backup) copy.throw_error(sqlite3_errcode(copy.handle()), "saving the old database");
  const int rc = sqlite3_backup_step(backup.get(), -1);
  if (rc != SQLITE_DONE) {
    throw synccore::db::sqlite_error(rc, std::string("saving the old database: ") +
                                             sqlite3_errstr(rc));
  }
}

}  // namespace

fs::path aside_path(const fs::path& database) {
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &utc);
  return database.string() + ".damaged-" + stamp;
}

bool replace_in_place(synccore::db::connection& live, const fs::path& recovered,
                      const std::vector<std::string>& pushable, const fs::path& aside) {
  {
    auto attach = live.prepare("ATTACH DATABASE ? AS recovered");
    attach.bind(1, recovered.string());
    attach.run();
  }
  struct detach_on_exit {
    synccore::db::connection& conn;
    ~detach_on_exit() {
      try {
        conn.execute("DETACH DATABASE recovered");
      } catch (const std::exception&) {
      }
    }
  } detach{live};
  synccore::db::transaction tx(live);  // the app's writes wait from here to the commit
  const std::string pushed_here = in_list(pushable);
  for (const char* table : pending_tables) {
    auto st = live.prepare("SELECT count(*) FROM main." + std::string(table) +
                           " WHERE table_name IN " + pushed_here);
    st.step();
    if (st.column_int64(0) > 0) return false;  // written since the last push: push it first
  }
  save_copy(live.path(), aside);
  {
    synccore::sync::capture_scope scope(live, true, "master");
    live.execute("PRAGMA defer_foreign_keys = ON");
    const auto tables = synccore::schema::synced_app_tables();
    for (auto t = tables.rbegin(); t != tables.rend(); ++t) {
      live.execute("DELETE FROM main." + quote_identifier(*t));
    }
    for (const auto t : tables) copy_table(live, t);
    for (const char* t : replaced_bookkeeping) copy_table(live, t);
    for (const char* table : pending_tables) {
      live.execute("DELETE FROM main." + std::string(table) + " WHERE table_name NOT IN " +
                   pushed_here);
      if (const int dropped = live.changes(); dropped > 0) {
        synccore::log::log_warning("Dropped pending entries of a table that had been lost",
                                   {{"bookkeeping", table}, {"entries", dropped}});
      }
    }
    live.execute("INSERT OR REPLACE INTO main.ruxx_sync_meta (key, value) SELECT key, value "
                 "FROM recovered.ruxx_sync_meta WHERE key = 'company_settings_synced_at'");
  }
  tx.commit();
  return true;
}

void remove_with_sidecars(const fs::path& file) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
    fs::remove(file.string() + suffix, ec);
  }
}

void move_with_sidecars(const fs::path& from, const fs::path& to) {
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const fs::path src = from.string() + suffix;
    if (fs::exists(src)) fs::rename(src, to.string() + suffix);
    // The main file moves last-but-first: sidecars of the destination must not be stale.
    if (*suffix == '\0') {
      std::error_code ec;
      for (const char* stale : {"-wal", "-shm"}) {
        if (!fs::exists(from.string() + stale)) fs::remove(to.string() + stale, ec);
      }
    }
  }
}

}  // namespace slave
