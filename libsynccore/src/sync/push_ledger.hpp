// The master's memory of the pushes it has answered: the stored answer of every version 2
// batch (so a batch retried after its answer was lost is answered again without being applied
// twice, and pruned once the node has moved on) and each node's push activity, which
// `GET /api/sync/status` reports. Both live in the bookkeeping tables ruxx_sync_batches and
// ruxx_sync_nodes and are written inside the push's own transaction (push_apply.cpp). Internal.
#pragma once

#include <synccore/db/connection.hpp>
#include <synccore/sync/push_apply.hpp>

#include <boost/json/object.hpp>

#include <cstddef>
#include <optional>
#include <string>

namespace synccore::sync::detail {

// The answer stored for the request's (node, batch), marked `"replayed": true`; nullopt for a
// batch never answered, and for version 1 requests (no node or batch id).
std::optional<boost::json::object> stored_answer(db::connection& conn, const push_request& req);

// Stores `answer` as the answer to the request's batch and removes the node's older answers
// for the table once they are past their retention. REQUIRES: a node and batch id.
void store_answer(db::connection& conn, const push_request& req,
                  const boost::json::object& answer);

// Adds one push of `rows` rows (and deletes) with `conflicts` conflicts to `node`'s activity.
void record_activity(db::connection& conn, const std::string& node, std::size_t rows,
                     int conflicts);

}  // namespace synccore::sync::detail
