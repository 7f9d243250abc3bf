#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/sync/conflict_log.hpp>

namespace synccore::sync {

void record_conflict(db::connection& conn, const conflict_record& record) {
  auto st = conn.prepare(
      "INSERT INTO ruxx_sync_conflicts (table_name, row_key, origin_node, reason, losing_row, "
      "winning_row, created_at) VALUES (?, ?, ?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))");
  st.bind(1, record.table_name).bind(2, record.row_key).bind(3, record.origin_node);
  st.bind(4, record.reason).bind(5, record.losing_row);
  if (record.winning_row) {
    st.bind(6, *record.winning_row);
  } else {
    st.bind_null(6);
  }
  st.run();
}

long long count_conflicts(db::connection& conn, std::string_view table_name) {
  auto st = conn.prepare(table_name.empty()
                             ? "SELECT count(*) FROM ruxx_sync_conflicts"
                             : "SELECT count(*) FROM ruxx_sync_conflicts WHERE table_name = ?");
  if (!table_name.empty()) st.bind(1, table_name);
  st.step();
  return st.column_int64(0);
}

}  // namespace synccore::sync
