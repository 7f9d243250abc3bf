#include "agent.hpp"

#include "capture_repair.hpp"
#include "recovery.hpp"
#include "sync_lock.hpp"

#include <synccore/db/connection.hpp>
#include <synccore/db/sqlite_error.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/db/transaction.hpp>
#include <synccore/log/logger.hpp>
#include <synccore/schema/schema_installer.hpp>
#include <synccore/sync/change_capture.hpp>
#include <synccore/sync/slave_state.hpp>
#include <synccore/tables/table_descriptor.hpp>

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace slave {

namespace {

void prepare_database(synccore::db::connection& conn) {
  synccore::schema::ensure_app_tables(conn);
  synccore::schema::ensure_sync_tables(conn);
  repair_capture(conn);
}

std::vector<table_summary> run_jobs(const agent_options& options,
                                    const synccore::time::app_zone& zone, master_api& master,
                                    job_kind job, std::stop_token stop,
                                    std::vector<std::string>& refused_tables) {
  // Pages are read with pread() into SQLite's page cache, not through a memory map: on the
  // 4 December VM the map's page faults cost more than the copies (1M/10k incremental ratio
  // 1.25 mapped, 1.08 not; docs/PERFORMANCE.md section 5), and a read error of a mapped file
  // would kill the service with SIGBUS instead of returning an error.
  synccore::db::connection conn(options.database);
  prepare_database(conn);
  const auto node_id = synccore::sync::ensure_node_id(conn, options.node_id_override);
  job_context ctx{conn, zone, master, node_id, stop};
  ctx.refused_tables = &refused_tables;
  ctx.pull_page_rows = options.page_rows;
  std::vector<table_summary> out;
  if (job == job_kind::run || job == job_kind::all) out = run_sync(ctx);
  if ((job == job_kind::company_settings || job == job_kind::all) && !stop.stop_requested()) {
    auto settings = run_company_settings(ctx, options.force);
    out.insert(out.end(), settings.begin(), settings.end());
  }
  return out;
}

}  // namespace

attempt_result run_attempt(const agent_options& options, const synccore::time::app_zone& zone,
                           job_kind job, std::stop_token stop) {
  attempt_result result;
  try {
    auto lock = sync_lock::try_acquire(options.database);
    if (!lock) {
      return {exit_locked, "another sync holds the lock on " + options.database.string(), {}, 0,
              false};
    }
    auto master_opts = options.master;
    master_api master(master_opts);
    if (options.recover || options.check_database) {
      // --recover rebuilds whatever the check says; the check still tells whether the old file
      // is readable (its pending changes are then pushed first and it is replaced in place).
      auto health = check_database(options.database, options.recover ? nullptr : &master,
                                   options.recover || options.thorough_check || options.force);
      const bool readable =
          health.state != db_health::missing && health.state != db_health::corrupt;
      if (options.recover) health.detail = "--recover";
      if (options.recover || health.state != db_health::healthy) {
        synccore::log::log_warning("The database needs recovery: " + health.detail,
                                   {{"path", options.database.string()}});
        recovery_options r;
        r.node_id_override = options.node_id_override;
        r.show_progress = options.show_progress;
        r.page_rows = std::max<std::size_t>(options.page_rows, 5000);
        r.readable = readable;
        result.recovered_rows = recover_database(options.database, zone, master, r, stop);
      }
      result.database_checked = !stop.stop_requested();
    }
    std::vector<std::string> refused;
    if (!stop.stop_requested()) result.tables = run_jobs(options, zone, master, job, stop, refused);
    if (!refused.empty()) {
      std::string names;
      for (const auto& name : refused) names += (names.empty() ? "" : ", ") + name;
      result.code = exit_rejected;
      result.message = "the master refused the data of " + names +
                       " (kept for the next run; the other tables were synced)";
    }
  } catch (const run_failure& e) {
    result.code = e.code();
    result.message = e.what();
  } catch (const synccore::db::sqlite_error& e) {
    result.code = exit_local_db;
    result.message = std::string("local database: ") + e.what();
  } catch (const std::system_error& e) {
    result.code = exit_local_db;
    result.message = e.what();
  } catch (const std::exception& e) {
    result.code = exit_local_db;
    result.message = e.what();
  }
  if (result.code != exit_ok) {
    synccore::log::log_error("Sync failed: " + result.message, {{"exit_code", result.code}});
  }
  return result;
}

std::string format_summary(const attempt_result& result) {
  std::ostringstream out;
  char line[160];
  if (result.recovered_rows) out << "recovered " << result.recovered_rows << " rows from the master\n";
  std::snprintf(line, sizeof line, "%-22s %8s %8s %8s %8s %9s %8s\n", "table", "pushed", "deleted",
                "pulled", "removed", "conflicts", "ms");
  out << line;
  for (const auto& t : result.tables) {
    std::snprintf(line, sizeof line, "%-22s %8zu %8zu %8zu %8zu %9zu %8lld\n", t.table.c_str(),
                  t.pushed, t.pushed_deletes, t.pulled, t.pulled_deletes, t.conflicts,
                  t.duration_ms);
    out << line;
  }
  return out.str();
}

}  // namespace slave
