// The master's side of a push: applies one batch of rows from a slave under the table's conflict
// rule (DESIGN.md section 2), in one transaction, and answers per row. Version 1 (PHP) slaves
// send only rows; version 2 slaves add a node id, a batch id (a retried batch is answered from
// the stored answer and never applied twice), per-row metadata (insert or update of a row the
// master already knows, the version the edit started from, counter deltas) and deletes.
// Input problems reject the whole batch with field-named errors and change nothing.
#pragma once

#include <synccore/util/expected.hpp>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <string>
#include <variant>
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

struct push_request {
  const tables::table_descriptor* table = nullptr;
  // The rows ("data"): column name -> value objects.
  const boost::json::array* data = nullptr;
  // Version 2, aligned with data: {"op":"insert"|"update", "base_updated_at":ISO|null,
  // "deltas":{"current_stock":"-12.50"}}. Null for version 1.
  const boost::json::array* meta = nullptr;
  // Version 2 deletes: [{"key":"<identity>", "base_updated_at":ISO|null}]. Null when none.
  const boost::json::array* deleted = nullptr;
  // Version 2 node id and batch id; empty for a version 1 slave.
  std::string node_id;
  std::string batch_id;
};

// Why a batch was refused (HTTP 422): one entry per problem, field like "data.3.cashier_id".
struct push_rejection {
  std::vector<input_error> errors;
};

// The answer body for HTTP 200 (success, message, synced_count and the version 2 fields
// batch_id, results, deleted, conflicts), or the rejection.
using push_result = std::variant<boost::json::object, push_rejection>;

// Applies `request`. Throws db::sqlite_error on infrastructure faults (the transaction is
// rolled back). REQUIRES: request.table and request.data are set; the bookkeeping tables exist.
push_result apply_push(db::connection& conn, const time::app_zone& zone,
                       const push_request& request);

}  // namespace synccore::sync
