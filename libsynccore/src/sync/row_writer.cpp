#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/sync/row_writer.hpp>

#include <vector>

namespace synccore::sync {

row_writer::row_writer(db::connection& conn, const schema::table_schema& table)
    : conn_(conn), table_(table) {}

db::statement& row_writer::cached(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) it = cache_.emplace(sql, conn_.prepare(sql)).first;
  it->second.reset();
  return it->second;
}

std::int64_t row_writer::insert(const codec::decoded_row& row, bool with_id) {
  std::string columns;
  std::string params;
  for (const auto& v : row.values) {
    if (!with_id && v.column->name == "id") continue;
    if (!columns.empty()) {
      columns += ", ";
      params += ", ";
    }
    columns += db::quote_identifier(v.column->name);
    params += "?";
  }
  const std::string sql = columns.empty()
                              ? "INSERT INTO " + db::quote_identifier(table_.name) + " DEFAULT VALUES"
                              : "INSERT INTO " + db::quote_identifier(table_.name) + " (" + columns +
                                    ") VALUES (" + params + ")";
  auto& st = cached(sql);
  int index = 1;
  for (const auto& v : row.values) {
    if (!with_id && v.column->name == "id") continue;
    codec::bind_value(st, index++, v.value);
  }
  st.run();
  return conn_.last_insert_rowid();
}

bool row_writer::update(std::int64_t id, const codec::decoded_row& row, std::string_view skip) {
  std::vector<const codec::decoded_column*> offered;
  std::string probes;
  for (const auto& v : row.values) {
    if (v.column->name == "id" || (!skip.empty() && v.column->name == skip)) continue;
    if (!probes.empty()) probes += ", ";
    // IS compares as the column stores: its affinity applies to the parameter, so 500 and
    // '500.00' match in a decimal column and not in a text one. COLLATE BINARY: a change of
    // letter case is a change even in a NOCASE column.
    probes += db::quote_identifier(v.column->name) + " IS ? COLLATE BINARY";
    offered.push_back(&v);
  }
  const std::string table = db::quote_identifier(table_.name);
  auto& probe = cached("SELECT " + (probes.empty() ? std::string("1") : probes) + " FROM " +
                       table + " WHERE id = ?");
  int index = 1;
  for (const auto* v : offered) codec::bind_value(probe, index++, v->value);
  probe.bind(index, id);
  if (!probe.step()) {
    probe.reset();
    return false;
  }
  // Only the columns whose value changes are written: an index whose columns all keep their
  // values is then left alone (SQLite rewrites every index on a column named in SET), and a
  // row that arrives exactly as stored is not written at all.
  std::vector<const codec::decoded_column*> changed;
  std::string sets;
  for (std::size_t i = 0; i < offered.size(); ++i) {
    if (probe.column_int64(static_cast<int>(i)) != 0) continue;
    if (!sets.empty()) sets += ", ";
    sets += db::quote_identifier(offered[i]->column->name) + " = ?";
    changed.push_back(offered[i]);
  }
  probe.reset();
  if (changed.empty()) return true;
  auto& st = cached("UPDATE " + table + " SET " + sets + " WHERE id = ?");
  index = 1;
  for (const auto* v : changed) codec::bind_value(st, index++, v->value);
  st.bind(index, id);
  st.run();
  return true;
}

}  // namespace synccore::sync
