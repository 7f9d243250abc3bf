// Collects new rows for one table and writes them with multi-row INSERT statements. SQLite runs
// a statement's per-execution set-up (the change-capture trigger's sub-program, the ephemeral
// tables of the app's `CHECK (x IN (...))` constraints) once per statement, so one statement per
// row cost the master's push about three times the work of the rows themselves (see
// docs/PERFORMANCE.md). Rows either keep the id they carry, or get one from SQLite and are told
// it by their identity value (RETURNING: its order is unspecified, so never relied on). The
// caller decides what may wait in the batch and must `flush` before it reads anything a queued
// row could change (`holds_id`, `holds_value` say which). On the master, `capture_own_inserts`
// makes it write the rows' change-log entries itself (see insert_capture). Lives for one
// transaction.
#pragma once

#include <synccore/codec/row_codec.hpp>
#include <synccore/db/sqlite_error.hpp>
#include <synccore/sync/change_capture.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace synccore::db {
class connection;
class statement;
}  // namespace synccore::db

namespace synccore::sync {

// A queued row that violated a constraint; `tag` is the one given to `add`.
struct batch_row_failure {
  std::size_t tag;
  db::sqlite_error error;
};

class batch_inserter {
 public:
  // Called for every written row with the tag it was queued with and its id.
  using inserted_callback = std::function<void(std::size_t tag, std::int64_t id)>;

  // `tracked_columns` are the columns whose queued values `holds_value` answers for (the
  // identity and natural keys). `identity_column` names the rows that SQLite numbers.
  // REQUIRES: `conn` and `table` outlive the inserter; queued rows are decoded against `table`.
  batch_inserter(db::connection& conn, const schema::table_schema& table,
                 std::string identity_column, std::vector<std::string> tracked_columns,
                 inserted_callback inserted);

  // Master only: from now on the insert triggers stand aside for this inserter's statements and
  // it writes the change-log entries of its rows itself, under `table_name` (insert_capture).
  // REQUIRES: nothing queued yet; the master's capture triggers are installed.
  void capture_own_inserts(std::string table_name);

  // True when `row` can wait in the batch: it carries an integer id it keeps (`with_id`), or it
  // lets SQLite number it and carries a text identity to be told its new id by.
  bool accepts(const codec::decoded_row& row, bool with_id) const;

  // Queues `row` (REQUIRES: accepts(row, with_id), and the row outlives the next flush).
  // A row of another column set than the queued ones, or a full batch, flushes first.
  void add(const codec::decoded_row& row, bool with_id, std::size_t tag);

  bool empty() const noexcept { return queued_.empty(); }
  bool holds_id(std::int64_t id) const { return ids_.count(id) != 0; }
  bool holds_value(std::string_view column, const codec::sql_value& value) const;

  // Writes every queued row and reports each to the callback; nothing stays queued, whatever
  // happens. A row that violates a constraint throws batch_row_failure (rows before it may be
  // written: the caller rolls the transaction back). Other SQLite errors throw sqlite_error.
  void flush();

 private:
  struct queued_row {
    const codec::decoded_row* row;
    std::size_t tag;
  };
  void write(const std::vector<queued_row>& rows, std::size_t first, std::size_t count);
  void write_one_by_one(const std::vector<queued_row>& rows, std::size_t first,
                        std::size_t count);
  std::size_t rows_per_statement() const noexcept;
  // The INSERT of `rows` queued rows of the current column set, from the connection's
  // reusable statements.
  std::shared_ptr<db::statement> statement_for(std::size_t rows);
  void bind_row(db::statement& st, int& index, const codec::decoded_row& row) const;
  // True when `row` has the queued rows' columns in their order (compared as the decoder's
  // column pointers: every row comes from decoders over the one table_schema given here).
  bool fits_queued(const codec::decoded_row& row, bool with_id) const;

  db::connection& conn_;
  const schema::table_schema& table_;
  std::string identity_column_;
  std::vector<std::string> tracked_columns_;
  inserted_callback inserted_;
  // What is queued: rows of one column set (`columns_`), with or without their ids.
  std::vector<queued_row> queued_;
  bool with_id_ = false;
  std::vector<const schema::column_info*> columns_;
  std::set<std::int64_t> ids_;
  std::set<std::string, std::less<>> values_;  // "column\x1fvalue"
  std::unique_ptr<insert_capture> capture_;  // set by capture_own_inserts
};

}  // namespace synccore::sync
