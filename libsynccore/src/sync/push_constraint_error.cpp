#include "push_constraint_error.hpp"

#include "push_rows.hpp"

#include <synccore/sync/row_lookup.hpp>

#include <sqlite3.h>

#include <string>
#include <string_view>
#include <variant>

namespace synccore::sync::detail {

input_error explain_constraint(db::connection& conn, const schema::table_schema& table,
                               const codec::decoded_row& row, std::size_t index,
                               const db::sqlite_error& e) {
  if (e.extended_code() == SQLITE_CONSTRAINT_FOREIGNKEY) {
    for (const auto& fk : table.foreign_keys) {
      const auto* v = row.find(fk.from_column);
      if (!v || std::holds_alternative<std::monostate>(*v)) continue;
      if (!find_by_column(conn, fk.parent_table, fk.parent_column, *v)) {
        return {field(index, fk.from_column), "refers to " + fk.parent_table + "." +
                                                  fk.parent_column + " " + key_text(*v) +
                                                  ", which does not exist"};
      }
    }
    return {field(index), "refers to a row that does not exist"};
  }
  // what() is "step: <the statement's SQL>: <SQLite's message>": only the message part may be
  // searched for column names (the SQL names every column of the row).
  const std::string full = e.what();
  const auto failed_at = full.rfind("constraint failed");
  const std::string what = failed_at == std::string::npos ? std::string() : full.substr(failed_at);
  auto column_after = [&](std::string_view marker) -> std::string {
    const auto pos = what.find(marker);
    if (pos == std::string::npos) return {};
    std::string rest = what.substr(pos + marker.size());
    const auto dot = rest.find('.');
    if (dot != std::string::npos) rest = rest.substr(dot + 1);
    const auto end = rest.find_first_of(", ");
    return rest.substr(0, end);
  };
  if (e.extended_code() == SQLITE_CONSTRAINT_NOTNULL) {
    const auto column = column_after("constraint failed: ");
    if (table.find(column)) return {field(index, column), "is required and cannot be null"};
  }
  if (e.extended_code() == SQLITE_CONSTRAINT_UNIQUE ||
      e.extended_code() == SQLITE_CONSTRAINT_PRIMARYKEY) {
    const auto column = column_after("constraint failed: ");
    if (table.find(column)) {
      return {field(index, column), "has the same value as another row of " + table.name};
    }
    return {field(index), "duplicates another row of " + table.name};
  }
  if (e.extended_code() == SQLITE_CONSTRAINT_CHECK) {
    // The message carries the CHECK expression: find a pushed column named in it as a whole
    // identifier ("status" must not match inside "status_code").
    auto is_ident = [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '_';
    };
    auto names = [&](const std::string& column) {
      for (auto pos = what.find(column); pos != std::string::npos;
           pos = what.find(column, pos + 1)) {
        const bool starts = pos == 0 || !is_ident(what[pos - 1]);
        const auto end = pos + column.size();
        if (starts && (end == what.size() || !is_ident(what[end]))) return true;
      }
      return false;
    };
    for (const auto& v : row.values) {
      if (v.column->name != "id" && names(v.column->name)) {
        return {field(index, v.column->name), "has a value that is not allowed"};
      }
    }
    return {field(index), "has a value that is not allowed"};
  }
  return {field(index), "violates a constraint of " + table.name};
}

}  // namespace synccore::sync::detail
