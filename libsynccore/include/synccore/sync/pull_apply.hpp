// The slave's side of a pull: applies one page of master rows and deletes in one transaction,
// with capture suppressed (no echo), and saves the cursor in the same transaction, so a crash
// between pages loses nothing and repeats nothing. A local edit not yet pushed and newer than
// the master's version is kept (it is pushed next run), an older one goes to the conflict log
// before the master's replaces it; counter columns become the master's value plus the local
// deltas not yet pushed; a local new row that happens to hold an id the master uses is moved
// to a fresh id first, and a tombstone never deletes one. docs/SYNC_DESIGN.md, "Pull".
#pragma once

#include <boost/json/array.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace synccore::db {
class connection;
}
namespace synccore::tables {
struct table_descriptor;
}
namespace synccore::time {
class app_zone;
}

namespace synccore::sync {

struct pull_apply_stats {
  std::size_t inserted = 0;
  std::size_t updated = 0;
  std::size_t kept_local = 0;  // a newer local edit, or a new local row a tombstone spared
  std::size_t deleted = 0;
  std::size_t moved_local = 0; // local new rows moved aside to free an id
  // Columns the master sent that this database's table does not have (the master migrated
  // first): dropped from every row, the rest applied. Each name once, in order of appearance.
  std::vector<std::string> dropped_columns;
  std::size_t logged_local = 0;     // local versions replaced or deleted, in the conflict log
  std::size_t merged_local = 0;     // new local rows found to be a master row (same e-mail)
  std::size_t displaced_local = 0;  // local rows that gave a unique value up to a master row
};

// Applies `rows` and `deleted` (identity values) from the master. When `cursor` is set it is
// saved for `table` in the same transaction. When `seen_ids` is given, the ids of applied rows
// are added to it (for a full replace). `now_db` stamps sync_logs. Columns unknown here are
// dropped and listed in the stats (the caller warns once per table and run). Throws
// std::runtime_error when the master sent a row this database cannot store (named in the
// message).
pull_apply_stats apply_pull_page(db::connection& conn, const time::app_zone& zone,
                                 const tables::table_descriptor& table,
                                 const boost::json::array& rows, const boost::json::array& deleted,
                                 const std::optional<std::string>& cursor,
                                 const std::string& now_db,
                                 std::set<std::int64_t>* seen_ids = nullptr);

// Ends a full replace (inventory): deletes local rows whose id the master did not send, except
// new local rows not yet pushed; a deleted row's pending local change is logged in the conflict
// log first. Returns the number deleted.
std::size_t finish_full_replace(db::connection& conn, const time::app_zone& zone,
                                const tables::table_descriptor& table,
                                const std::set<std::int64_t>& seen_ids);

// For a version-1 master, which takes no counter deltas and stores a pushed inventory row as a
// new one: forgets every pending local change of `table` and its deltas, so the master's rows
// replace the local ones. A row whose other columns the depot edited (more than a sale's stock
// change) goes to the conflict log first. Returns the number of changes forgotten.
std::size_t drop_unsendable_changes(db::connection& conn, const time::app_zone& zone,
                                    const tables::table_descriptor& table);

}  // namespace synccore::sync
