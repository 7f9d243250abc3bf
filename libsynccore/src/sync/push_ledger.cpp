#include "push_ledger.hpp"

#include <synccore/db/statement.hpp>
#include <synccore/tables/table_descriptor.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <string_view>

namespace synccore::sync::detail {

std::optional<boost::json::object> stored_answer(db::connection& conn, const push_request& req) {
  if (req.batch_id.empty() || req.node_id.empty()) return std::nullopt;
  auto st = conn.prepare(
      "SELECT response FROM ruxx_sync_batches WHERE node_id = ? AND batch_id = ?");
  st.bind(1, req.node_id).bind(2, req.batch_id);
  if (!st.step()) return std::nullopt;
  auto answer = boost::json::parse(st.column_text(0)).as_object();
  answer["replayed"] = true;
  return answer;
}

void record_activity(db::connection& conn, const std::string& node, std::size_t rows,
                     int conflicts) {
  auto st = conn.prepare(
      "INSERT INTO ruxx_sync_nodes (node_id, last_push_at, rows_pushed, conflicts) VALUES (?, "
      "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), ?, ?) ON CONFLICT (node_id) DO UPDATE SET "
      "last_push_at = excluded.last_push_at, rows_pushed = rows_pushed + excluded.rows_pushed, "
      "conflicts = conflicts + excluded.conflicts");
  st.bind(1, node).bind(2, static_cast<std::int64_t>(rows)).bind(3, conflicts);
  st.run();
}

namespace {

// A slave keeps at most one unanswered batch per table (its outbox) and builds the next one only
// after that batch's answer, so a new batch from a node for a table means its earlier batches
// for that table were all answered. Their stored answers are kept for a week more (a depot
// restored from an older backup may resend its outbox) and then removed, so ruxx_sync_batches
// does not grow with every push for ever.
constexpr const char* batch_retention = "-7 days";

void prune_answered_batches(db::connection& conn, const std::string& node_id,
                            std::string_view table, const std::string& newest_batch) {
  auto st = conn.prepare(
      "DELETE FROM ruxx_sync_batches WHERE node_id = ? AND table_name = ? AND batch_id <> ? AND "
      "created_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)");
  st.bind(1, node_id).bind(2, std::string(table)).bind(3, newest_batch).bind(4, batch_retention);
  st.run();
}

}  // namespace

void store_answer(db::connection& conn, const push_request& req,
                  const boost::json::object& answer) {
  auto st = conn.prepare("INSERT INTO ruxx_sync_batches (node_id, batch_id, table_name, "
                         "response, created_at) VALUES (?, ?, ?, ?, "
                         "strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))");
  st.bind(1, req.node_id).bind(2, req.batch_id).bind(3, req.table->name);
  st.bind(4, boost::json::serialize(answer));
  st.run();
  prune_answered_batches(conn, req.node_id, req.table->name, req.batch_id);
}

}  // namespace synccore::sync::detail
