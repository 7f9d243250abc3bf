#include <synccore/codec/row_codec.hpp>

#include <synccore/db/statement.hpp>
#include <synccore/time/app_zone.hpp>
#include <synccore/time/timestamp_text.hpp>

#include "number_text.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <limits>

namespace synccore::codec {

namespace json = boost::json;
using schema::column_kind;

namespace {

std::string_view describe(const json::value& v) noexcept {
  switch (v.kind()) {
    case json::kind::object:
      return "an object";
    case json::kind::array:
      return "an array";
    case json::kind::string:
      return "a string";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::null:
      return "null";
    default:
      return "a number";
  }
}

// A short quote of a rejected string for the error message (never the whole of a huge value).
std::string quoted(std::string_view text) {
  constexpr std::size_t max = 40;
  std::string out = "\"";
  out.append(text.substr(0, max));
  if (text.size() > max) out += "...";
  out += "\"";
  return out;
}

input_error wrong(const schema::column_info& column, std::string_view expected_what,
                  const json::value& v) {
  std::string message = "expected ";
  message += expected_what;
  message += ", got ";
  if (v.is_string()) {
    message += quoted(v.get_string());
  } else if (v.is_number()) {
    message += json::serialize(v);
  } else {
    message += describe(v);
  }
  return {column.name, std::move(message)};
}

expected<sql_value> decode_integer(const schema::column_info& c, const json::value& v) {
  switch (v.kind()) {
    case json::kind::int64:
      return sql_value{v.get_int64()};
    case json::kind::uint64:
      if (v.get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return sql_value{static_cast<std::int64_t>(v.get_uint64())};
      }
      break;
    case json::kind::double_:
      if (const auto i = detail::exact_int64(v.get_double())) return sql_value{*i};
      break;
    case json::kind::string:
      if (const auto i = detail::parse_int64(v.get_string())) return sql_value{*i};
      break;
    default:
      break;
  }
  return wrong(c, "an integer", v);
}

// Mirrors SQLite's NUMERIC affinity (sqlite3RealSameAsInt): a double that is integral and
// within +-2^51 is stored as INTEGER, any other stays REAL. Deciding it here makes the decoded
// value the one the database will hold, whatever the column's affinity.
sql_value decimal_value(double d) {
  constexpr double limit = 2251799813685248.0;  // 2^51
  if (d > -limit && d < limit) {
    if (const auto i = detail::exact_int64(d)) return *i;
  }
  return d;
}

expected<sql_value> decode_decimal(const schema::column_info& c, const json::value& v) {
  switch (v.kind()) {
    case json::kind::int64:
      return sql_value{v.get_int64()};
    case json::kind::uint64:
      if (v.get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return sql_value{static_cast<std::int64_t>(v.get_uint64())};
      }
      return sql_value{static_cast<double>(v.get_uint64())};
    case json::kind::double_:
      return decimal_value(v.get_double());
    case json::kind::string: {
      const auto& s = v.get_string();
      const std::string_view text(s.data(), s.size());
      // An integral numeral ("7167175861161701391" or its encoded form
      // "7167175861161701391.00") is read exactly as int64, even beyond double's 2^53.
      if (const auto i = detail::parse_integral_decimal(text)) return sql_value{*i};
      if (const auto d = detail::parse_finite_double(text)) return decimal_value(*d);
      break;
    }
    default:
      break;
  }
  return wrong(c, "a decimal number", v);
}

expected<sql_value> decode_boolean(const schema::column_info& c, const json::value& v) {
  switch (v.kind()) {
    case json::kind::bool_:
      return sql_value{std::int64_t{v.get_bool() ? 1 : 0}};
    case json::kind::int64:
      if (v.get_int64() == 0 || v.get_int64() == 1) return sql_value{v.get_int64()};
      break;
    case json::kind::uint64:
      if (v.get_uint64() <= 1) return sql_value{static_cast<std::int64_t>(v.get_uint64())};
      break;
    case json::kind::double_:
      if (v.get_double() == 0.0 || v.get_double() == 1.0) {
        return sql_value{std::int64_t{v.get_double() == 1.0 ? 1 : 0}};
      }
      break;
    case json::kind::string:
      if (v.get_string() == "0") return sql_value{std::int64_t{0}};
      if (v.get_string() == "1") return sql_value{std::int64_t{1}};
      break;
    default:
      break;
  }
  return wrong(c, "a boolean (true, false, 0 or 1)", v);
}

expected<sql_value> decode_text(const schema::column_info& c, const json::value& v) {
  switch (v.kind()) {
    case json::kind::string:
      return sql_value{std::string(v.get_string())};
    case json::kind::int64:
      return sql_value{detail::int64_text(v.get_int64())};
    case json::kind::uint64:
      return sql_value{std::to_string(v.get_uint64())};
    case json::kind::double_:
      return sql_value{detail::shortest_text(v.get_double())};
    default:
      break;
  }
  return wrong(c, "a string", v);
}

expected<sql_value> decode_timestamp(const schema::column_info& c, const json::value& v,
                                     const time::app_zone& zone) {
  if (!v.is_string()) return wrong(c, "an ISO-8601 timestamp string", v);
  const auto& s = v.get_string();
  auto db_text = zone.wire_to_db(std::string_view(s.data(), s.size()));
  if (!db_text) return input_error{c.name, db_text.error().message};
  return sql_value{std::move(*db_text)};
}

// A calendar day travels as written: "2026-11-24" (or any zone-less date-time text) is stored
// unchanged. Only a value with 'Z' or an offset (a PHP node serializing a date cast) is moved
// to the app zone, and its midnight reduced to the day, so the day is the one the sender meant.
expected<sql_value> decode_date(const schema::column_info& c, const json::value& v,
                                const time::app_zone& zone) {
  if (!v.is_string()) return wrong(c, "a date string (YYYY-MM-DD)", v);
  const std::string_view text(v.get_string().data(), v.get_string().size());
  const auto fields = time::parse_timestamp_text(text);
  if (!fields) return input_error{c.name, fields.error().message};
  if (!fields->has_offset) return sql_value{std::string(text)};
  auto db_text = zone.wire_to_db(text);
  if (!db_text) return input_error{c.name, db_text.error().message};
  constexpr std::string_view midnight = " 00:00:00";
  if (db_text->size() > midnight.size() && db_text->ends_with(midnight)) {
    db_text->resize(db_text->size() - midnight.size());
  }
  return sql_value{std::move(*db_text)};
}

}  // namespace

expected<sql_value> decode_value(const schema::column_info& column, const json::value& value,
                                 const time::app_zone& zone) {
  if (value.is_null()) return sql_value{};
  switch (column.kind) {
    case column_kind::integer:
      return decode_integer(column, value);
    case column_kind::decimal:
      return decode_decimal(column, value);
    case column_kind::boolean:
      return decode_boolean(column, value);
    case column_kind::timestamp:
      return decode_timestamp(column, value, zone);
    case column_kind::date:
      return decode_date(column, value, zone);
    case column_kind::text:
      return decode_text(column, value);
    case column_kind::blob:
      if (value.is_string()) return sql_value{std::string(value.get_string())};
      return wrong(column, "a string", value);
  }
  return wrong(column, "a value", value);
}

row_decoder::row_decoder(const schema::table_schema& table, const time::app_zone& zone,
                         std::span<const std::string_view> refused)
    : table_(table), zone_(zone) {
  names_.reserve(table.columns.size() + refused.size());
  for (const auto name : refused) names_.push_back({std::string(name), -1});
  for (std::size_t i = 0; i < table.columns.size(); ++i) {
    const auto& name = table.columns[i].name;
    // A refused name stays refused even though it is a real column (remember_token).
    if (std::find(refused.begin(), refused.end(), name) != refused.end()) continue;
    names_.push_back({name, static_cast<int>(i)});
  }
  std::sort(names_.begin(), names_.end(),
            [](const name_entry& a, const name_entry& b) { return a.name < b.name; });
  names_.erase(
      std::unique(names_.begin(), names_.end(),
                  [](const name_entry& a, const name_entry& b) { return a.name == b.name; }),
      names_.end());
}

const row_decoder::name_entry* row_decoder::lookup(std::string_view name) const noexcept {
  const auto it = std::lower_bound(
      names_.begin(), names_.end(), name,
      [](const name_entry& e, std::string_view n) { return std::string_view(e.name) < n; });
  if (it == names_.end() || it->name != name) return nullptr;
  return &*it;
}

expected<decoded_row> row_decoder::decode(const json::object& row) const {
  return decode_row(row, nullptr);
}

expected<decoded_row> row_decoder::decode_dropping_unknown(
    const json::object& row, std::vector<std::string>& unknown) const {
  return decode_row(row, &unknown);
}

expected<decoded_row> row_decoder::decode_row(const json::object& row,
                                              std::vector<std::string>* unknown) const {
  decoded_row out;
  out.values.reserve(row.size());
  for (const auto& kv : row) {
    const std::string_view name(kv.key().data(), kv.key().size());
    const auto* entry = lookup(name);
    if (entry == nullptr && unknown != nullptr) {
      if (std::find(unknown->begin(), unknown->end(), name) == unknown->end()) {
        unknown->emplace_back(name);
      }
      continue;
    }
    if (entry == nullptr) return input_error{std::string(name), "unknown column"};
    if (entry->column < 0) continue;  // refused: dropped silently
    const auto& column = table_.columns[static_cast<std::size_t>(entry->column)];
    auto value = decode_value(column, kv.value(), zone_);
    if (!value) return value.error();
    out.values.push_back({&column, std::move(*value)});
  }
  return out;
}

const sql_value* decoded_row::find(std::string_view column) const noexcept {
  for (const auto& v : values) {
    if (v.column->name == column) return &v.value;
  }
  return nullptr;
}

void bind_value(db::statement& st, int index, const sql_value& value) {
  switch (value.index()) {
    case 0:
      st.bind_null(index);
      break;
    case 1:
      st.bind(index, std::get<std::int64_t>(value));
      break;
    case 2:
      st.bind(index, std::get<double>(value));
      break;
    default:
      st.bind(index, std::string_view(std::get<std::string>(value)));
      break;
  }
}

}  // namespace synccore::codec
