#include <synccore/db/statement.hpp>
#include <synccore/sync/base_content.hpp>

namespace synccore::sync {

std::vector<std::string> content_columns(db::connection& conn, const tables::table_descriptor& t) {
  std::vector<std::string> out;
  auto st = conn.prepare("SELECT name FROM pragma_table_info(?) ORDER BY cid");
  st.bind(1, t.name);
  while (st.step()) {
    const auto name = st.column_string(0);
    if (name != "id" && name != t.counter_column && name != "updated_at" && name != "created_at") {
      out.push_back(name);
    }
  }
  return out;
}

std::string content_expression(db::connection& conn, const tables::table_descriptor& t,
                               std::string_view alias) {
  std::string out = "json_array(";
  bool first = true;
  for (const auto& column : content_columns(conn, t)) {
    if (!first) out += ", ";
    first = false;
    out += std::string(alias) + "." + db::quote_identifier(column);
  }
  return out + ")";
}

void refresh_base_content(db::connection& conn, const tables::table_descriptor& t) {
  const std::string table = db::quote_identifier(t.name);
  auto take = conn.prepare(
      "INSERT INTO ruxx_sync_base_content (table_name, row_id, content) SELECT ?1, r.id, " +
      content_expression(conn, t, "r") + " FROM " + table + " r WHERE r.id NOT IN (SELECT "
      "row_id FROM ruxx_sync_changes WHERE table_name = ?1) ON CONFLICT (table_name, row_id) DO "
      "UPDATE SET content = excluded.content WHERE content IS NOT excluded.content");
  take.bind(1, t.name);
  take.run();
  auto forget = conn.prepare("DELETE FROM ruxx_sync_base_content WHERE table_name = ?1 AND "
                             "row_id NOT IN (SELECT id FROM " + table + ")");
  forget.bind(1, t.name);
  forget.run();
}

}  // namespace synccore::sync
