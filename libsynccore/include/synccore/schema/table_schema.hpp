// What a table looks like in a given database right now, read with PRAGMA table_info and
// PRAGMA foreign_key_list: the columns (name, declared type, the wire kind derived from it,
// NOT NULL, default) and the foreign keys. The codec and apply engine work from this, never
// from hard-coded column lists, so a column the app adds later is picked up automatically.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace synccore::db {
class connection;
}

namespace synccore::schema {

// How a column's values are represented on the wire, derived from the declared type the way
// Laravel's SQLite grammar writes it: "integer" -> integer, "numeric"/"decimal"/"float"/"real"/
// "double" -> decimal, "tinyint(1)"/"boolean" -> boolean, "datetime"/"timestamp" -> timestamp,
// "date" -> date (a calendar day, never converted between zones), "blob" -> blob, anything else
// (varchar, text) -> text.
enum class column_kind { integer, decimal, boolean, timestamp, date, text, blob };

struct column_info {
  std::string name;
  std::string declared_type;
  column_kind kind = column_kind::text;
  bool not_null = false;
  // The default's SQL text as stored in the schema (e.g. "'cashier'"), if any.
  std::optional<std::string> default_sql;
  // 1-based position in the primary key, 0 when not part of it.
  int primary_key_position = 0;
  // True for the table's INTEGER PRIMARY KEY (an alias of the rowid: SQLite assigns it when an
  // INSERT leaves it out, even though PRAGMA table_info reports it NOT NULL without default).
  bool rowid_alias = false;

  bool has_default() const noexcept { return default_sql.has_value(); }
  // True when an INSERT that omits this column would fail (NOT NULL, no default, not the
  // INTEGER PRIMARY KEY rowid alias).
  bool required_on_insert() const noexcept;
};

struct foreign_key {
  std::string from_column;   // in this table, e.g. "cashier_id"
  std::string parent_table;  // e.g. "users"
  std::string parent_column; // e.g. "id"
};

struct table_schema {
  std::string name;
  std::vector<column_info> columns;  // in table order
  std::vector<foreign_key> foreign_keys;

  // Returns the column named `name` (exact match), or nullptr.
  const column_info* find(std::string_view column) const noexcept;
  bool empty() const noexcept { return columns.empty(); }
};

// Derives the wire kind from a declared column type (case-insensitive, arguments in
// parentheses looked at only for tinyint(1)): the names above first, then SQLite's own affinity
// rules ("...int..." -> integer, "...char/clob/text..." -> text, "...blob..." -> blob,
// "...real/floa/doub..." -> decimal); anything else (including "time" and "") is text. Pure.
column_kind kind_from_declared_type(std::string_view declared_type) noexcept;

// Reads the current shape of `table` in the main schema. `table` is only ever bound as a
// parameter, never spliced into SQL, so any string is safe. Returns an empty table_schema (no
// columns, `name` set to `table`) when the table does not exist. A foreign key that names no
// parent column (`references users`) gets the parent's primary key column. A composite foreign
// key becomes one entry per column pair. Throws db::sqlite_error on I/O failure.
table_schema read_table_schema(db::connection& conn, std::string_view table);

// Returns the foreign keys of every table in the database that point at `parent_table`
// (as pairs of child table name and foreign key), ordered by child table name then column.
// Parent names match case-insensitively (ASCII), as SQLite resolves them. Used to renumber a row
// and its references. Throws db::sqlite_error on I/O failure.
std::vector<std::pair<std::string, foreign_key>> referencing_columns(db::connection& conn,
                                                                    std::string_view parent_table);

}  // namespace synccore::schema
