#include <synccore/schema/table_schema.hpp>

#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>

#include <algorithm>
#include <array>

namespace synccore::schema {

namespace {

constexpr char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

constexpr bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

constexpr std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// ASCII case-insensitive equality; `b` is lower case.
constexpr bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != b[i]) return false;
  }
  return true;
}

// ASCII case-insensitive search; `needle` is lower case.
constexpr bool icontains(std::string_view hay, std::string_view needle) noexcept {
  if (needle.size() > hay.size()) return false;
  for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
    if (iequals(hay.substr(i, needle.size()), needle)) return true;
  }
  return false;
}

template <std::size_t N>
constexpr bool iequals_any(std::string_view a,
                           const std::array<std::string_view, N>& names) noexcept {
  return std::any_of(names.begin(), names.end(), [a](std::string_view n) { return iequals(a, n); });
}

constexpr std::array<std::string_view, 2> boolean_names{"boolean", "bool"};
constexpr std::array<std::string_view, 6> decimal_names{"numeric", "decimal", "float",
                                                        "real",    "double",  "double precision"};
constexpr std::array<std::string_view, 2> timestamp_names{"datetime", "timestamp"};

}  // namespace

column_kind kind_from_declared_type(std::string_view declared_type) noexcept {
  const std::string_view type = trim(declared_type);
  const auto paren = type.find('(');
  const std::string_view base = trim(type.substr(0, paren));
  std::string_view args;
  if (paren != std::string_view::npos) {
    args = type.substr(paren + 1);
    args = trim(args.substr(0, args.find(')')));
  }

  // Laravel's SQLite grammar writes boolean() as tinyint(1).
  if (iequals_any(base, boolean_names)) return column_kind::boolean;
  if (iequals(base, "tinyint") && args == "1") return column_kind::boolean;
  if (iequals_any(base, decimal_names)) return column_kind::decimal;
  if (iequals_any(base, timestamp_names)) return column_kind::timestamp;
  // A calendar day ("delivery_date date"): converting its midnight between zones would move it
  // to the day before or after.
  if (iequals(base, "date")) return column_kind::date;
  if (iequals(base, "blob")) return column_kind::blob;
  // Otherwise SQLite's own affinity rules (section 3.1 of "Datatypes In SQLite").
  if (icontains(base, "int")) return column_kind::integer;
  if (icontains(base, "char") || icontains(base, "clob") || icontains(base, "text")) {
    return column_kind::text;
  }
  if (icontains(base, "blob")) return column_kind::blob;
  if (icontains(base, "real") || icontains(base, "floa") || icontains(base, "doub")) {
    return column_kind::decimal;
  }
  return column_kind::text;
}

bool column_info::required_on_insert() const noexcept {
  return not_null && !has_default() && !rowid_alias;
}

const column_info* table_schema::find(std::string_view column) const noexcept {
  for (const auto& c : columns) {
    if (c.name == column) return &c;
  }
  return nullptr;
}

namespace {

// The parent's primary key column, for a foreign key written without one (`references users`).
std::string primary_key_column(db::connection& conn, std::string_view table) {
  auto st = conn.prepare("SELECT name FROM pragma_table_info(?1, 'main') WHERE pk = 1");
  st.bind(1, table);
  return st.step() ? st.column_string(0) : std::string();
}

foreign_key read_foreign_key(db::connection& conn, const db::statement& st, int table_col,
                             int from_col, int to_col) {
  foreign_key fk;
  fk.from_column = st.column_string(from_col);
  fk.parent_table = st.column_string(table_col);
  fk.parent_column = st.is_null(to_col) ? std::string() : st.column_string(to_col);
  if (fk.parent_column.empty()) fk.parent_column = primary_key_column(conn, fk.parent_table);
  return fk;
}

}  // namespace

table_schema read_table_schema(db::connection& conn, std::string_view table) {
  table_schema out;
  out.name = std::string(table);
  {
    auto st = conn.prepare(
        "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info(?1, 'main') "
        "ORDER BY cid");
    st.bind(1, table);
    while (st.step()) {
      column_info c;
      c.name = st.column_string(0);
      c.declared_type = st.column_string(1);
      c.kind = kind_from_declared_type(c.declared_type);
      c.not_null = st.column_int64(2) != 0;
      c.default_sql = st.column_optional_string(3);
      c.primary_key_position = static_cast<int>(st.column_int64(4));
      out.columns.push_back(std::move(c));
    }
  }
  if (out.columns.empty()) return out;

  // An INTEGER PRIMARY KEY of a rowid table is the rowid itself.
  const auto pk_count =
      std::count_if(out.columns.begin(), out.columns.end(),
                    [](const column_info& c) { return c.primary_key_position > 0; });
  if (pk_count == 1) {
    auto st = conn.prepare("SELECT wr FROM pragma_table_list(?1) WHERE schema = 'main'");
    st.bind(1, table);
    const bool without_rowid = st.step() && st.column_int64(0) != 0;
    for (auto& c : out.columns) {
      if (c.primary_key_position == 1 && iequals(trim(c.declared_type), "integer")) {
        c.rowid_alias = !without_rowid;
      }
    }
  }

  auto st = conn.prepare(
      "SELECT \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?1, 'main') "
      "ORDER BY id, seq");
  st.bind(1, table);
  while (st.step()) out.foreign_keys.push_back(read_foreign_key(conn, st, 0, 1, 2));
  return out;
}

std::vector<std::pair<std::string, foreign_key>> referencing_columns(
    db::connection& conn, std::string_view parent_table) {
  // The child table names come from the database's own schema; they are bound, never spliced.
  auto st = conn.prepare(
      "SELECT m.name, f.\"table\", f.\"from\", f.\"to\" "
      "FROM sqlite_schema AS m, pragma_foreign_key_list(m.name, 'main') AS f "
      "WHERE m.type = 'table' AND f.\"table\" = ?1 COLLATE NOCASE "
      "ORDER BY m.name, f.id, f.seq");
  st.bind(1, parent_table);
  std::vector<std::pair<std::string, foreign_key>> out;
  while (st.step()) out.emplace_back(st.column_string(0), read_foreign_key(conn, st, 1, 2, 3));
  return out;
}

}  // namespace synccore::schema
