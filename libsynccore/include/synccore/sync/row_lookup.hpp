// Small queries about rows of a synced table that both sides need while applying changes:
// find a row by its identity, read one row as wire JSON, compare stored values with a decoded
// row, and tell whether the master has a tombstone for an id. Names come from descriptors and
// the database schema only.
#pragma once

#include <synccore/codec/row_codec.hpp>
#include <synccore/db/statement.hpp>

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
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

class batch_inserter;

struct row_ref {
  std::int64_t id;
  std::optional<std::string> updated_at;  // database text, null when the column is null
  std::optional<std::string> created_at;
};

// The id written in `key` (an identity value of an id-identified table), if it is one.
std::optional<std::int64_t> id_from_key(std::string_view key);

// The lookups of the many rows of one push or pull: each statement is prepared once per table
// and column, and reset as soon as it is read, so no read cursor stays open while the table is
// written. With `waiting`, a lookup that could find a row still queued in that batch writes the
// batch first, so every lookup sees the rows before it as if each had been written at once.
// REQUIRES: `conn`, `t` and `waiting` outlive the finder.
class row_finder {
 public:
  row_finder(db::connection& conn, const tables::table_descriptor& t,
             batch_inserter* waiting = nullptr);
  // Finds the row with `id`.
  std::optional<row_ref> by_id(std::int64_t id);
  // Finds the row whose identity column equals `key` (an id as text for id tables).
  std::optional<row_ref> by_identity(std::string_view key);
  // Finds a row whose `column` equals `value`; a null value finds nothing.
  std::optional<row_ref> by_column(std::string_view column, const codec::sql_value& value);

 private:
  std::optional<row_ref> read(std::string_view column, const codec::sql_value& value);
  db::connection& conn_;
  const tables::table_descriptor& t_;
  batch_inserter* waiting_;
  std::map<std::string, db::statement, std::less<>> by_column_;
};

// Finds a row whose `column` equals `value` (natural unique keys such as users.email).
std::optional<row_ref> find_by_column(db::connection& conn, std::string_view table,
                                      std::string_view column, const codec::sql_value& value);

// Returns which of `keys` the text column `column` of `table` holds, in one query (json_each),
// so a batch of rows can skip one index probe per row for identities that cannot be there.
std::unordered_set<std::string> existing_identities(db::connection& conn, std::string_view table,
                                                   std::string_view column,
                                                   const std::vector<std::string>& keys);

// Returns the row with `id` as wire JSON (all columns), or an empty object when absent.
boost::json::object read_row_json(db::connection& conn, const schema::table_schema& table,
                                  const time::app_zone& zone, std::int64_t id);

// True when every column present in `row` (except those named in `ignore`) holds an equal
// value in the stored row `id` (numbers compare numerically, so 500 equals 500.0).
bool same_content(db::connection& conn, const schema::table_schema& table, std::int64_t id,
                  const codec::decoded_row& row, std::initializer_list<std::string_view> ignore);

// True when the change log holds a delete for (`table`, `id`).
bool has_tombstone(db::connection& conn, std::string_view table, std::int64_t id);

// The node the row's latest recorded change came from ("local" for the app), if any.
std::string last_change_origin(db::connection& conn, std::string_view table, std::int64_t id);

}  // namespace synccore::sync
