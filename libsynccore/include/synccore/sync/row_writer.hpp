// Writes decoded rows into a synced table with statements built from the row's own columns
// (names only ever from the table's schema) and cached per column set, so a batch of rows that
// share a shape compiles each statement once. Used by the master's push apply and the slave's
// pull apply. Not thread-safe; lives for one transaction.
#pragma once

#include <synccore/codec/row_codec.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace synccore::db {
class connection;
class statement;
}  // namespace synccore::db

namespace synccore::sync {

class row_writer {
 public:
  // REQUIRES: `conn` and `table` outlive the writer.
  row_writer(db::connection& conn, const schema::table_schema& table);

  // Inserts the row's columns; `with_id` false leaves "id" out so SQLite assigns one.
  // Returns the new row's id. Throws db::sqlite_error on constraint failures.
  std::int64_t insert(const codec::decoded_row& row, bool with_id = true);

  // Updates the columns present in `row` (except "id" and `skip`) of the row with `id`,
  // writing only those whose stored value differs (compared as the column stores values, case
  // sensitively): an unchanged row is not written and fires no trigger. Columns the row leaves
  // out keep their stored values. Returns true when the row exists.
  bool update(std::int64_t id, const codec::decoded_row& row, std::string_view skip = {});

 private:
  db::statement& cached(const std::string& sql);
  db::connection& conn_;
  const schema::table_schema& table_;
  std::map<std::string, db::statement> cache_;
};

}  // namespace synccore::sync
