// The slave's side of a push: turns pending local changes of one table into a bounded batch
// (rows with per-row metadata, deletes, a batch id), records it in the outbox before it is sent
// so that a batch whose answer was lost is resent verbatim (the master then answers from its
// record instead of applying it twice), and applies the master's answer: renumbers rows the
// master gave a new id, subtracts the counter deltas that were sent, and clears the change
// entries the batch covered (entries changed again meanwhile stay pending).
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
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

struct push_batch {
  std::string table;
  std::string batch_id;
  std::int64_t max_seq = 0;
  std::string body;  // the JSON request body
  std::size_t rows = 0;
  std::size_t deletes = 0;
  bool resent = false;  // true when this is an unacknowledged batch from an earlier attempt
  // Per row of `body`: its local id and the updated_at it was sent with (database text, empty
  // when the row had none). A row changed again while the batch was in flight is, once the
  // master has answered, an edit of exactly that version (see acknowledge_push).
  std::vector<std::pair<std::int64_t, std::string>> sent_versions;
};

enum class push_protocol { v1, v2 };

// Returns the outbox batch of `table` when one is waiting, else builds the next batch of at
// most `limit` pending changes (nullopt when nothing is pending). Version 1 batches carry rows
// only (the PHP master knows no deletes or metadata) and are not kept in the outbox. Rows
// pointing at a parent row that is itself new and unacknowledged wait for a later batch. A
// batch ends before the first change of a row in `held` (rows the master refused in this run,
// moved to the end of the queue: push_refusal.hpp), and everything after it waits with it.
std::optional<push_batch> next_push_batch(db::connection& conn, const time::app_zone& zone,
                                          const tables::table_descriptor& table,
                                          const std::string& node_id, std::size_t limit,
                                          push_protocol protocol,
                                          const std::set<std::int64_t>& held = {});

struct ack_stats {
  std::size_t renumbered = 0;
  std::size_t conflicts = 0;
};

// Applies the master's 200 answer to `batch`. A row of the batch changed again meanwhile (its
// change entry has a later seq and stays pending) is known to the master now: its entry becomes
// an update whose base is the version sent (an update that lost a conflict keeps its base), so
// the change is pushed once more as an edit of that version, never as a second new row nor as
// a conflict with the depot's own earlier edit. Throws
// std::runtime_error when the answer does not match the batch (a v2 answer without results for a
// v2 batch).
ack_stats acknowledge_push(db::connection& conn, const push_batch& batch,
                           const boost::json::object& answer, const std::string& now_db);

}  // namespace synccore::sync
