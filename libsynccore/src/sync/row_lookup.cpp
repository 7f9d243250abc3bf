#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/sync/batch_inserter.hpp>
#include <synccore/sync/row_lookup.hpp>
#include <synccore/tables/table_descriptor.hpp>
#include <synccore/time/app_zone.hpp>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <cmath>
#include <charconv>

namespace synccore::sync {

namespace {

std::optional<row_ref> read_ref(db::statement& st) {
  if (!st.step()) return std::nullopt;
  return row_ref{st.column_int64(0), st.column_optional_string(1), st.column_optional_string(2)};
}

std::string ref_select(std::string_view table, std::string_view where_column) {
  return "SELECT id, updated_at, created_at FROM " + db::quote_identifier(table) + " WHERE " +
         db::quote_identifier(where_column) + " = ?";
}

bool values_equal(const db::statement& st, int col, const codec::sql_value& v) {
  using db::value_type;
  const auto type = st.column_type(col);
  if (std::holds_alternative<std::monostate>(v)) return type == value_type::null;
  if (type == value_type::null) return false;
  if (const auto* s = std::get_if<std::string>(&v)) {
    if (type == value_type::text || type == value_type::blob) return st.column_text(col) == *s;
    // A number stored where text arrived: compare the number's text form.
    double parsed = 0;
    auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), parsed);
    return ec == std::errc() && p == s->data() + s->size() && parsed == st.column_double(col);
  }
  if (type == value_type::text) {
    double stored = 0;
    const auto text = st.column_text(col);
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), stored);
    if (ec != std::errc() || p != text.data() + text.size()) return false;
    const double incoming = std::holds_alternative<std::int64_t>(v)
                                ? static_cast<double>(std::get<std::int64_t>(v))
                                : std::get<double>(v);
    return stored == incoming;
  }
  if (const auto* i = std::get_if<std::int64_t>(&v)) {
    if (type == value_type::integer) return st.column_int64(col) == *i;
    return st.column_double(col) == static_cast<double>(*i);
  }
  return std::fabs(st.column_double(col) - std::get<double>(v)) == 0.0;
}

}  // namespace

std::optional<std::int64_t> id_from_key(std::string_view key) {
  std::int64_t id = 0;
  auto [p, ec] = std::from_chars(key.data(), key.data() + key.size(), id);
  if (ec != std::errc() || p != key.data() + key.size()) return std::nullopt;
  return id;
}

row_finder::row_finder(db::connection& conn, const tables::table_descriptor& t,
                       batch_inserter* waiting)
    : conn_(conn), t_(t), waiting_(waiting) {}

std::optional<row_ref> row_finder::read(std::string_view column, const codec::sql_value& value) {
  auto it = by_column_.find(column);
  if (it == by_column_.end()) {
    it = by_column_.emplace(std::string(column), conn_.prepare(ref_select(t_.name, column))).first;
  }
  auto& st = it->second;
  st.reset();
  codec::bind_value(st, 1, value);
  auto out = read_ref(st);
  st.reset();
  return out;
}

std::optional<row_ref> row_finder::by_id(std::int64_t id) {
  if (waiting_ && waiting_->holds_id(id)) waiting_->flush();
  return read("id", id);
}

std::optional<row_ref> row_finder::by_identity(std::string_view key) {
  if (t_.identity_column == "id") {
    const auto id = id_from_key(key);
    return id ? by_id(*id) : std::nullopt;
  }
  return by_column(t_.identity_column, std::string(key));
}

std::optional<row_ref> row_finder::by_column(std::string_view column,
                                             const codec::sql_value& value) {
  if (std::holds_alternative<std::monostate>(value)) return std::nullopt;
  if (waiting_ && waiting_->holds_value(column, value)) waiting_->flush();
  return read(column, value);
}

std::optional<row_ref> find_by_column(db::connection& conn, std::string_view table,
                                      std::string_view column, const codec::sql_value& value) {
  if (std::holds_alternative<std::monostate>(value)) return std::nullopt;
  auto st = conn.prepare(ref_select(table, column));
  codec::bind_value(st, 1, value);
  return read_ref(st);
}

boost::json::object read_row_json(db::connection& conn, const schema::table_schema& table,
                                  const time::app_zone& zone, std::int64_t id) {
  auto st = conn.prepare("SELECT * FROM " + db::quote_identifier(table.name) + " WHERE id = ?");
  st.bind(1, id);
  if (!st.step()) return {};
  codec::row_encoder encoder(st, table, zone);
  return encoder.encode(st);
}

bool same_content(db::connection& conn, const schema::table_schema& table, std::int64_t id,
                  const codec::decoded_row& row, std::initializer_list<std::string_view> ignore) {
  std::vector<const codec::decoded_column*> compared;
  std::string columns;
  for (const auto& v : row.values) {
    bool skip = v.column->name == "id";
    for (auto name : ignore) skip = skip || v.column->name == name;
    if (skip) continue;
    if (!columns.empty()) columns += ", ";
    columns += db::quote_identifier(v.column->name);
    compared.push_back(&v);
  }
  if (compared.empty()) return true;
  auto st = conn.prepare("SELECT " + columns + " FROM " + db::quote_identifier(table.name) +
                         " WHERE id = ?");
  st.bind(1, id);
  if (!st.step()) return false;
  for (std::size_t i = 0; i < compared.size(); ++i) {
    if (!values_equal(st, static_cast<int>(i), compared[i]->value)) return false;
  }
  return true;
}

bool has_tombstone(db::connection& conn, std::string_view table, std::int64_t id) {
  auto st = conn.prepare("SELECT 1 FROM ruxx_sync_changes WHERE table_name = ? AND row_id = ? "
                         "AND op = 'delete'");
  st.bind(1, table).bind(2, id);
  return st.step();
}

std::string last_change_origin(db::connection& conn, std::string_view table, std::int64_t id) {
  auto st = conn.prepare("SELECT origin FROM ruxx_sync_changes WHERE table_name = ? AND row_id = ?");
  st.bind(1, table).bind(2, id);
  return st.step() ? st.column_string(0) : std::string("master");
}

std::unordered_set<std::string> existing_identities(db::connection& conn, std::string_view table,
                                                   std::string_view column,
                                                   const std::vector<std::string>& keys) {
  std::unordered_set<std::string> found;
  if (keys.empty()) return found;
  boost::json::array list;
  list.reserve(keys.size());
  for (const auto& key : keys) list.emplace_back(key);
  auto st = conn.prepare("SELECT CAST(" + db::quote_identifier(column) + " AS TEXT) FROM " +
                         db::quote_identifier(table) + " WHERE " + db::quote_identifier(column) +
                         " IN (SELECT value FROM json_each(?))");
  st.bind(1, boost::json::serialize(list));
  while (st.step()) found.emplace(st.column_text(0));
  return found;
}

}  // namespace synccore::sync
