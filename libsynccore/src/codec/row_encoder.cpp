#include <synccore/codec/row_codec.hpp>

#include <synccore/db/statement.hpp>
#include <synccore/time/app_zone.hpp>

#include "number_text.hpp"

#include <algorithm>

namespace synccore::codec {

namespace json = boost::json;
using db::value_type;
using schema::column_kind;

namespace {

json::value raw_text(const db::statement& st, int col) {
  const auto text = st.column_text(col);
  return json::string(text.data(), text.size());
}

// A number as it is stored: INTEGER -> int64, REAL -> double (integral REALs as int64).
json::value stored_number(const db::statement& st, int col) {
  if (st.column_type(col) == value_type::integer) return st.column_int64(col);
  const double d = st.column_double(col);
  if (const auto i = detail::exact_int64(d)) return *i;
  return d;
}

json::value encode_decimal(const db::statement& st, int col) {
  detail::decimal_text out;
  switch (st.column_type(col)) {
    case value_type::integer:
      detail::write_decimal(st.column_int64(col), out);
      return json::string(out.view());
    case value_type::real:
      detail::write_decimal(st.column_double(col), out);
      return json::string(out.view());
    default:
      break;
  }
  const auto text = st.column_text(col);
  if (detail::is_plain_decimal(text)) return json::string(detail::pad_decimals(text));
  if (const auto d = detail::parse_finite_double(text)) {
    detail::write_decimal(*d, out);
    return json::string(out.view());
  }
  return raw_text(st, col);
}

json::value encode_boolean(const db::statement& st, int col) {
  switch (st.column_type(col)) {
    case value_type::integer:
      return st.column_int64(col) != 0;
    case value_type::real:
      return st.column_double(col) != 0.0;
    default:
      break;
  }
  if (const auto d = detail::parse_finite_double(st.column_text(col))) return *d != 0.0;
  return raw_text(st, col);
}

json::value encode_timestamp(const db::statement& st, int col, const time::app_zone& zone) {
  if (st.column_type(col) != value_type::text) return raw_text(st, col);
  auto wire = zone.db_to_wire(st.column_text(col));
  if (!wire) return raw_text(st, col);
  return json::string(*wire);
}

}  // namespace

json::value encode_value(const db::statement& st, int col, column_kind kind,
                         const time::app_zone& zone) {
  const auto type = st.column_type(col);
  if (type == value_type::null) return nullptr;
  switch (kind) {
    case column_kind::integer:
      if (type == value_type::integer || type == value_type::real) return stored_number(st, col);
      return raw_text(st, col);
    case column_kind::decimal:
      return encode_decimal(st, col);
    case column_kind::boolean:
      return encode_boolean(st, col);
    case column_kind::timestamp:
      return encode_timestamp(st, col, zone);
    case column_kind::date:
      return raw_text(st, col);  // a calendar day travels as stored, never converted
    case column_kind::text:
      if (type == value_type::integer) return st.column_int64(col);
      if (type == value_type::real) return st.column_double(col);
      return raw_text(st, col);
    case column_kind::blob: {
      const auto bytes = st.column_blob(col);
      return json::string(bytes.data(), bytes.size());
    }
  }
  return raw_text(st, col);
}

row_encoder::row_encoder(const db::statement& query, const schema::table_schema& table,
                         const time::app_zone& zone, std::span<const std::string_view> omit)
    : zone_(zone) {
  const int n = query.column_count();
  columns_.reserve(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    const auto name = query.column_name(i);
    const auto* column = table.find(name);
    if (column == nullptr) continue;
    if (std::find(omit.begin(), omit.end(), name) != omit.end()) continue;
    auto same = std::find_if(columns_.begin(), columns_.end(),
                             [name](const mapped_column& m) { return m.name == name; });
    if (same != columns_.end()) {
      same->index = i;  // the last result column of that name wins
      continue;
    }
    columns_.push_back({i, column->kind, column->name});
  }
}

json::object row_encoder::encode(const db::statement& query) const {
  json::object out;
  out.reserve(columns_.size());
  for (const auto& c : columns_) out.emplace(c.name, encode_value(query, c.index, c.kind, zone_));
  return out;
}

}  // namespace synccore::codec
