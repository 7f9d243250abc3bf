// Row <-> JSON, per DESIGN.md section 3: a database row becomes a Boost.JSON object of column
// names to values (integers as numbers, decimals as strings like "12.50", booleans as
// true/false, timestamps as ISO-8601 UTC, null as null, text as UTF-8), and a pushed JSON object
// becomes values ready to bind (decimals from numbers or strings stored as numbers, booleans
// from true/false or 0/1, timestamps from any ISO-8601 into the database's app-zone text).
// Encoders and decoders are built once per table and query and reused for every row: they hold
// the column mapping, so the per-row work is only the conversion. Both are immutable after
// construction and can be shared across threads.
//
// Value formats (see docs/SCHEMA.md), by column kind and SQLite storage class:
// - encode: null -> null for every kind. integer: INTEGER -> number, integral REAL -> number.
//   decimal: INTEGER 500 -> "500.00", REAL -> format_decimal(), numeric TEXT "500" -> "500.00".
//   boolean: a number -> true when non-zero. timestamp: app_zone::db_to_wire(). date: the
//   stored text unchanged ("2026-11-24"; no zone conversion, which would move the day).
//   text: TEXT -> string, a number stored in a text column stays a number. blob: the bytes as
//   a string.
//   Anything that cannot be converted (text "abc" in an integer column, an unparseable
//   timestamp) is emitted as its raw text, never dropped.
// - decode: null -> null for every column (NOT NULL is the apply engine's business).
//   integer: JSON integers, integral doubles, digit strings ("42", "-7") -> int64.
//   decimal: JSON numbers and numeric strings ("500.00", "0.125", "1e3"). JSON integers and
//   integral numerals ("500", "500.00") become int64, exactly even beyond 2^53; other values a
//   double, except that an integral double within +-2^51 becomes int64 (500.0 -> 500): what
//   SQLite's NUMERIC affinity stores, so the decoded value is the stored one.
//   boolean: true/false, 0/1, "0"/"1" -> int64 0/1. text: strings; numbers become their
//   shortest text. timestamp: any ISO-8601 accepted by app_zone::parse() -> "YYYY-MM-DD
//   HH:MM:SS" in the app zone. date: a string that parses as a date or date-time; without a
//   zone it is stored unchanged, with 'Z' or an offset it is moved to the app zone (midnight
//   becomes the bare "YYYY-MM-DD"). blob: strings (bound as text). Objects and arrays are always
//   errors.
#pragma once

#include <synccore/schema/table_schema.hpp>
#include <synccore/util/expected.hpp>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace synccore::db {
class statement;
}
namespace synccore::time {
class app_zone;
}

namespace synccore::codec {

// A value ready to bind into SQLite: null, integer, real or text.
using sql_value = std::variant<std::monostate, std::int64_t, double, std::string>;

struct decoded_column {
  const schema::column_info* column;  // points into the decoder's table_schema
  sql_value value;
};

// The columns present in one pushed row, in the order they appeared, converted for storage.
struct decoded_row {
  std::vector<decoded_column> values;
  // Returns the value of `column`, or nullptr when the row left it out.
  const sql_value* find(std::string_view column) const noexcept;
};

// Binds `value` at 1-based `index` of `st` (null, int64, double or text).
void bind_value(db::statement& st, int index, const sql_value& value);

// Formats a decimal for the wire the way the PHP nodes do: at least two decimals ("500.00",
// "0.10", "12.50"), more when the value needs them to stay exact ("0.125"): the shortest fixed
// notation that reads back as `value`, padded to two decimals. -0 gives "0.00"; infinities and
// NaN (which SQLite never stores as REAL) give "inf", "-inf", "nan".
std::string format_decimal(double value);

// Encodes column `col` of `st`'s current row as a wire value of kind `kind` (the per-value step
// of row_encoder::encode). REQUIRES: `st` is positioned on a row.
boost::json::value encode_value(const db::statement& st, int col, schema::column_kind kind,
                                const time::app_zone& zone);

// Converts one wire value for `column` (the per-value step of row_decoder::decode). Returns an
// input_error whose field is column.name when the value has the wrong type or cannot be
// converted.
expected<sql_value> decode_value(const schema::column_info& column,
                                 const boost::json::value& value, const time::app_zone& zone);

class row_encoder {
 public:
  // Maps the result columns of `query` (a prepared SELECT whose result column names are the
  // table's column names) to `table`'s columns. Result columns that are not table columns and
  // columns listed in `omit` are skipped; when two result columns carry the same table column
  // name, the last one is used (so "SELECT c.*, t.*" encodes t's values). Keys come out in
  // result-column order. Neither the statement, `table` nor `omit` is retained; `zone` is and
  // must outlive the encoder.
  row_encoder(const db::statement& query, const schema::table_schema& table,
              const time::app_zone& zone, std::span<const std::string_view> omit = {});

  // Encodes the statement's current row. REQUIRES: `query` is the statement (or one prepared
  // from the same SQL) given at construction and is positioned on a row.
  boost::json::object encode(const db::statement& query) const;

 private:
  struct mapped_column {
    int index;
    schema::column_kind kind;
    std::string name;
  };
  std::vector<mapped_column> columns_;
  const time::app_zone& zone_;
};

class row_decoder {
 public:
  // `table` and `zone` must outlive the decoder. Columns in `refused` (never accepted from the
  // wire, e.g. remember_token) are dropped silently when present; `refused` is copied.
  row_decoder(const schema::table_schema& table, const time::app_zone& zone,
              std::span<const std::string_view> refused = {});

  // Converts one pushed row. Returns an input_error whose `field` is the column name when a
  // column is unknown (message "unknown column"; names match exactly, case included), or a
  // value has the wrong JSON type or cannot be converted (a bad timestamp, "abc" for a decimal,
  // 2 for a boolean, an object anywhere). The first such column is reported.
  expected<decoded_row> decode(const boost::json::object& row) const;

  // As decode(), except that a column the table does not have is dropped instead of refused,
  // its name added to `unknown` (once). For rows pulled from the master, whose schema may be
  // ahead of this database's (the master migrated first). The name is never used in SQL.
  expected<decoded_row> decode_dropping_unknown(const boost::json::object& row,
                                                std::vector<std::string>& unknown) const;

  const schema::table_schema& table() const noexcept { return table_; }

 private:
  // One accepted name: a table column (index into table_.columns) or a refused name (-1).
  struct name_entry {
    std::string name;
    int column;
  };
  // Finds `name` in names_ (sorted by name). Returns nullptr when unknown.
  const name_entry* lookup(std::string_view name) const noexcept;
  // decode() when `unknown` is null, decode_dropping_unknown() otherwise.
  expected<decoded_row> decode_row(const boost::json::object& row,
                                   std::vector<std::string>* unknown) const;

  const schema::table_schema& table_;
  const time::app_zone& zone_;
  std::vector<name_entry> names_;
};

}  // namespace synccore::codec
