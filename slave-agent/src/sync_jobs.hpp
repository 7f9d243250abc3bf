// The agent's two jobs (DESIGN.md sections 2 and 5). `run`: for each table of sync:run in
// foreign-key order, push the pending local changes, then pull the master's (inventory ending
// as a full replace with the local stock deltas counted). `company-settings`: bootstrap the
// settings once (again only when forced). Both speak version 2 to a C++ master (cursors,
// pages, idempotent batches) and version 1 to the PHP master (detected automatically).
#pragma once

#include "master_api.hpp"

#include <stop_token>
#include <string>
#include <vector>

namespace synccore::db {
class connection;
}
namespace synccore::time {
class app_zone;
}

namespace slave {

struct table_summary {
  std::string table;
  std::size_t pushed = 0;
  std::size_t pushed_deletes = 0;
  std::size_t pulled = 0;
  std::size_t pulled_deletes = 0;
  std::size_t conflicts = 0;
  long long duration_ms = 0;
};

struct job_context {
  synccore::db::connection& conn;
  const synccore::time::app_zone& zone;
  master_api& master;
  std::string node_id;
  std::stop_token stop;
  std::size_t push_batch_rows = 500;
  std::size_t pull_page_rows = 1000;
  // When set, a table whose data the master refuses (400, 409, 413, 422) is added here and
  // run_sync goes on with the others; the agent then ends the run with exit 4 naming them (a
  // partial failure is not 0). When null (the incremental run a recovery makes on the file it
  // is building), the refusal ends the run. push_pending honours it too (a recovery pushes
  // every table of the old file, then stops on the list).
  std::vector<std::string>* refused_tables = nullptr;
};

// Runs the `run` job. Returns the per-table summary of the tables synced; a table the master
// refused is added to *ctx.refused_tables instead, when set (and as well, with its summary, when
// only some of its rows were refused and the rest synced). Throws run_failure for anything else. When
// `stop` is requested it finishes the current page or batch and returns what it did.
std::vector<table_summary> run_sync(job_context& ctx);

// Runs the company-settings job. Does nothing (returns an empty summary) when the settings were
// already bootstrapped, unless `force`.
std::vector<table_summary> run_company_settings(job_context& ctx, bool force);

// Pushes then pulls one table (used by both jobs and by tests).
table_summary sync_table(job_context& ctx, std::string_view table);

// Pushes the pending local changes of `tables` (captured rows and deletes, counter deltas, an
// unacknowledged outbox batch), in the given order, without pulling: the push half of
// sync_table. A recovery calls it before it replaces a readable database, so the depot's
// unsynced sales reach the master first. Returns one summary per table. Throws run_failure
// (3/4 for the master) like sync_table, except that a table the master refuses is added to
// *ctx.refused_tables, when set, and the other tables are still pushed; stops after the
// current batch when `ctx.stop` is set.
std::vector<table_summary> push_pending(job_context& ctx, const std::vector<std::string>& tables);

}  // namespace slave
