// What a slave does when the master refuses a push batch because of some of its rows (a 422
// whose errors name `data.<i>` or `data.<i>.<column>`, docs/PROTOCOL.md): it finds those rows
// in the batch and moves their change entries to the end of the push queue, so the rows behind
// them are sent in the same run while the refused ones stay pending, to be sent again (and
// refused again, loudly) until the depot fixes them. Nothing is dropped: a refused row keeps
// its entry, its op and its base; it only gives up its place in the queue, as any new local
// change of the row would.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace synccore::db {
class connection;
}

namespace synccore::sync {

struct push_batch;

struct refused_row {
  std::size_t index = 0;      // its place in the batch's `data`
  std::int64_t local_id = 0;  // its id in the depot's table
  std::string reasons;        // the master's messages for it, "column: message; ..."
};

// The rows of `batch` that `error_body` (the master's 422 answer) names, each once, in batch
// order. Empty when the body is not a JSON object with an `errors` object, when it names no row
// of `data`, or when it names anything else too (the table, `meta`, `deleted`, an index past
// the batch): then the refusal is not about single rows and the batch is refused as a whole.
std::vector<refused_row> refused_rows(const push_batch& batch, std::string_view error_body);

// Moves the pending change entry of each of `row_ids` in `table` behind every entry written so
// far (a new seq above any used before, as the capture triggers give a changed row). Entries
// that are no longer pending are left alone. One transaction.
void requeue_changes(db::connection& conn, std::string_view table,
                     const std::vector<std::int64_t>& row_ids);

}  // namespace synccore::sync
