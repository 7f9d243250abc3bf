#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/sync/row_writer.hpp>

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
  std::string sets;
  for (const auto& v : row.values) {
    if (v.column->name == "id" || (!skip.empty() && v.column->name == skip)) continue;
    if (!sets.empty()) sets += ", ";
    sets += db::quote_identifier(v.column->name) + " = ?";
  }
  if (sets.empty()) return true;
  auto& st = cached("UPDATE " + db::quote_identifier(table_.name) + " SET " + sets +
                    " WHERE id = ?");
  int index = 1;
  for (const auto& v : row.values) {
    if (v.column->name == "id" || (!skip.empty() && v.column->name == skip)) continue;
    codec::bind_value(st, index++, v.value);
  }
  st.bind(index, id);
  st.run();
  return conn_.changes() > 0;
}

}  // namespace synccore::sync
