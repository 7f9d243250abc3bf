// What a pull does when a master row or delete meets the depot's own work (pull_apply.cpp):
// logs a local version that the master's version replaces or deletes in the conflict log (with
// this node as origin and the reason, as the master logs a losing push), tells a real local
// edit from a row that only holds what the master already has, and makes room for a pulled row
// whose natural unique value (users.email) a different local row holds. Internal; every
// function runs inside the pull's write transaction with capture suppressed.
#pragma once

#include <synccore/codec/row_codec.hpp>
#include <synccore/schema/table_schema.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace synccore::db {
class connection;
}
namespace synccore::tables {
struct table_descriptor;
}
namespace synccore::time {
class app_zone;
}

namespace synccore::sync::detail {

class local_versions {
 public:
  // REQUIRES: every argument outlives the object.
  local_versions(db::connection& conn, const time::app_zone& zone,
                 const schema::table_schema& table, const tables::table_descriptor& t);

  // Whether writing `incoming` over local row `id` would lose something the depot wrote: its
  // content differs from the incoming row's (timestamps aside) and, for a table with a counter
  // column, from the content the master last sent (a sale alone changes only the counter,
  // which the pull keeps as a delta).
  bool would_lose_edit(std::int64_t id, const codec::decoded_row& incoming);

  // Logs local row `id` as the version that lost, against `winning` (JSON of the master's row;
  // nothing for a delete). Origin: this node's id.
  void log_lost(std::int64_t id, const std::string& reason,
                const std::optional<std::string>& winning);

  // Before local row `id` is deleted: logs every row of a synced table that points at it and
  // holds a pending local change (a sale not yet pushed, by a cashier the master deleted), since
  // the delete takes it along (ON DELETE CASCADE) and the master could not store it either.
  // Their pending changes are forgotten (the rows go). Returns how many were logged.
  std::size_t log_pending_children(std::int64_t id);

 private:
  db::connection& conn_;
  const time::app_zone& zone_;
  const schema::table_schema& table_;
  const tables::table_descriptor& t_;
  std::optional<std::string> node_;  // read on first use
};

// The op of the pending local change of row `id` of `table` ("insert", "update", "delete").
std::optional<std::string> pending_op(db::connection& conn, std::string_view table,
                                      std::int64_t id);

// Moves every reference to user (or other parent) `from_id` of `table` to `to_id`, then deletes
// row `from_id` and forgets its pending change: the two rows are one (same natural key).
void merge_into(db::connection& conn, std::string_view table, std::int64_t from_id,
                std::int64_t to_id);

// Gives local row `id` a placeholder for natural unique `column` (the master's row now holds
// the value): `displaced-<id>@ruxx-sync.invalid`, unique and never a usable e-mail address.
void displace_unique_value(db::connection& conn, std::string_view table, std::string_view column,
                           std::int64_t id);

}  // namespace synccore::sync::detail
