// The conflict log: every row version that loses a conflict is written to ruxx_sync_conflicts
// with the node it came from, why it lost, and (when known) the version that won, so nothing a
// depot recorded ever vanishes silently. Written inside the caller's transaction.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace synccore::db {
class connection;
}

namespace synccore::sync {

struct conflict_record {
  std::string table_name;
  std::string row_key;       // identity value (id or transaction_number)
  std::string origin_node;   // node id of the losing version ("master" for the master's own)
  std::string reason;        // e.g. "older updated_at", "tie keeps the master's row"
  std::string losing_row;    // JSON of the losing version
  std::optional<std::string> winning_row;  // JSON of the winner, when known
};

// Appends one record, stamped with the current UTC time. Throws db::sqlite_error.
void record_conflict(db::connection& conn, const conflict_record& record);

// Returns the number of conflict records for `table_name` (all tables when empty).
long long count_conflicts(db::connection& conn, std::string_view table_name = {});

}  // namespace synccore::sync
