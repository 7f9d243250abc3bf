// Row <-> JSON, per DESIGN.md section 3: a database row becomes a Boost.JSON object of column
// names to values (integers as numbers, decimals as strings like "12.50", booleans as
// true/false, timestamps as ISO-8601 UTC, null as null, text as UTF-8), and a pushed JSON object
// becomes values ready to bind (decimals from numbers or strings stored as numbers, booleans
// from true/false or 0/1, timestamps from any ISO-8601 into the database's app-zone text).
// Encoders and decoders are built once per table and query and reused for every row: they hold
// the column mapping, so the per-row work is only the conversion. Both are immutable after
// construction and can be shared across threads.
#pragma once

#include <synccore/schema/table_schema.hpp>
#include <synccore/util/expected.hpp>

#include <boost/json/object.hpp>

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
// "0.10", "12.50"), more when the value needs them to stay exact ("0.125").
std::string format_decimal(double value);

class row_encoder {
 public:
  // Maps the result columns of `query` (a prepared SELECT whose result column names are the
  // table's column names) to `table`'s columns. Result columns that are not table columns and
  // columns listed in `omit` are skipped. The statement itself is not retained.
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
  // `table` must outlive the decoder. Columns in `refused` (never accepted from the wire, e.g.
  // remember_token) are dropped silently when present.
  row_decoder(const schema::table_schema& table, const time::app_zone& zone,
              std::span<const std::string_view> refused = {});

  // Converts one pushed row. Returns an input_error whose `field` is the column name when a
  // column is unknown, or a value has the wrong JSON type or cannot be converted (a bad
  // timestamp, "abc" for a decimal, 2 for a boolean, an object anywhere).
  expected<decoded_row> decode(const boost::json::object& row) const;

  const schema::table_schema& table() const noexcept { return table_; }

 private:
  const schema::table_schema& table_;
  const time::app_zone& zone_;
  std::vector<std::string> refused_;
};

}  // namespace synccore::codec
