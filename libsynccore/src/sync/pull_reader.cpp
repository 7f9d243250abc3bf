#include <synccore/codec/row_codec.hpp>
#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/db/transaction.hpp>
#include <synccore/schema/table_schema.hpp>
#include <synccore/sync/pull_reader.hpp>
#include <synccore/tables/table_descriptor.hpp>

#include <boost/json/serialize.hpp>
#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <stdexcept>
#include <vector>

namespace synccore::sync {

namespace json = boost::json;

namespace {

bool parse_int(std::string_view text, std::int64_t& out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size() && !text.empty() && out >= 0;
}

std::int64_t current_change_seq(db::connection& conn) {
  auto st = conn.prepare("SELECT COALESCE(MAX(seq), 0) FROM ruxx_sync_changes");
  st.step();
  return st.column_int64(0);
}

}  // namespace

std::string pull_cursor::text() const {
  if (!started) return {};
  if (snapshot) return "s" + std::to_string(seq) + "-" + std::to_string(last_id);
  return "c" + std::to_string(seq);
}

expected<pull_cursor> pull_cursor::parse(std::string_view text) {
  pull_cursor c;
  if (text.empty()) return c;
  const input_error bad{"cursor", "is not a cursor issued by this master"};
  c.started = true;
  if (text.front() == 'c') {
    c.snapshot = false;
    if (!parse_int(text.substr(1), c.seq)) return bad;
    return c;
  }
  if (text.front() == 's') {
    const auto dash = text.find('-');
    if (dash == std::string_view::npos || !parse_int(text.substr(1, dash - 1), c.seq) ||
        !parse_int(text.substr(dash + 1), c.last_id)) {
      return bad;
    }
    return c;
  }
  return bad;
}

pull_page read_pull_page(db::connection& conn, const tables::table_descriptor& t,
                         const time::app_zone& zone, const pull_cursor& cursor, std::size_t limit,
                         std::span<const std::string_view> omit) {
  if (limit == 0) limit = 1;
  db::transaction tx(conn, db::transaction_mode::deferred);
  const auto table = schema::read_table_schema(conn, t.name);
  const std::string name = db::quote_identifier(t.name);
  pull_page page;
  pull_cursor pos = cursor;
  if (!pos.started) {
    pos = pull_cursor{true, current_change_seq(conn), 0, true};
  }
  if (pos.snapshot) {
    auto st = conn.prepare("SELECT * FROM " + name + " WHERE id > ? ORDER BY id LIMIT ?");
    st.bind(1, pos.last_id).bind(2, static_cast<std::int64_t>(limit + 1));
    std::optional<codec::row_encoder> encoder;
    int id_col = 0;
    for (int i = 0; i < st.column_count(); ++i) {
      if (st.column_name(i) == "id") id_col = i;
    }
    std::size_t n = 0;
    while (st.step()) {
      if (n == limit) {
        page.has_more = true;
        break;
      }
      if (!encoder) encoder.emplace(st, table, zone, omit);
      page.rows.push_back(encoder->encode(st));
      pos.last_id = st.column_int64(id_col);
      ++n;
    }
    // The snapshot is done: continue with the changes made since it started. Rows changed
    // meanwhile come again from the change log; applying them twice is harmless.
    page.next = page.has_more ? pos : pull_cursor{false, pos.seq, 0, true};
    if (!page.has_more) page.has_more = current_change_seq(conn) > pos.seq;
    tx.commit();
    return page;
  }
  auto st = conn.prepare(
      "SELECT c.seq AS ruxx_seq, c.op AS ruxx_op, c.row_key AS ruxx_key, t.* FROM "
      "ruxx_sync_changes c LEFT JOIN " + name + " t ON t.id = c.row_id WHERE c.table_name = ? "
      "AND c.seq > ? ORDER BY c.seq LIMIT ?");
  st.bind(1, t.name).bind(2, pos.seq).bind(3, static_cast<std::int64_t>(limit + 1));
  std::optional<codec::row_encoder> encoder;
  int id_col = 3;
  for (int i = 3; i < st.column_count(); ++i) {
    if (st.column_name(i) == "id") id_col = i;
  }
  std::size_t n = 0;
  while (st.step()) {
    if (n == limit) {
      page.has_more = true;
      break;
    }
    pos.seq = st.column_int64(0);
    if (st.column_text(1) == "delete" || st.is_null(id_col)) {
      page.deleted.push_back(json::string(st.column_text(2)));
    } else {
      if (!encoder) encoder.emplace(st, table, zone, omit);
      page.rows.push_back(encoder->encode(st));
    }
    ++n;
  }
  page.next = pos;
  tx.commit();
  return page;
}

namespace {

// Appends `text` as a JSON string exactly as boost::json::serialize writes it: '"' and '\\'
// escaped, control characters as \b \t \n \f \r or \u00xx, every other byte as is.
void append_json_string(std::string& out, std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\f': out += "\\f"; break;
      case '\r': out += "\\r"; break;
      default:
        out += "\\u00";
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 15]);
    }
  }
  out.append(text.data() + run, text.size() - run);
  out.push_back('"');
}

template <class Integer>
void append_integer(std::string& out, Integer value) {
  char buf[24];
  const auto end = std::to_chars(buf, buf + sizeof buf, value).ptr;
  out.append(buf, end);
}

// Appends the JSON text of `v` exactly as boost::json::serialize writes it.
void append_json_value(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: out += "null"; return;
    case json::kind::bool_: out += v.get_bool() ? "true" : "false"; return;
    case json::kind::int64: append_integer(out, v.get_int64()); return;
    case json::kind::uint64: append_integer(out, v.get_uint64()); return;
    case json::kind::string: append_json_string(out, v.get_string()); return;
    default: out += json::serialize(v); return;  // doubles and containers: Boost's own text
  }
}

// The result columns a v1 row carries, mapped once per stream as codec::row_encoder maps
// them over the table's schema (table columns only, `omit` left out, the last result column of
// a name wins). The kinds come from the statement's declared column types, the same text
// PRAGMA table_info reports, so no schema query runs per request.
struct v1_column {
  int index;
  schema::column_kind kind;
  std::string key;  // `"name":`
};

std::vector<v1_column> map_v1_columns(const db::statement& st,
                                      std::span<const std::string_view> omit) {
  std::vector<v1_column> out;
  for (int i = 0; i < st.column_count(); ++i) {
    const auto name = st.column_name(i);
    if (sqlite3_column_table_name(st.handle(), i) == nullptr) continue;  // not a table column
    if (std::find(omit.begin(), omit.end(), name) != omit.end()) continue;
    const char* declared = sqlite3_column_decltype(st.handle(), i);
    std::string key;
    append_json_string(key, name);
    key.push_back(':');
    const auto kind = schema::kind_from_declared_type(declared ? declared : "");
    auto same = std::find_if(out.begin(), out.end(),
                             [&key](const v1_column& c) { return c.key == key; });
    if (same != out.end()) {
      same->index = i;
      continue;
    }
    out.push_back({i, kind, std::move(key)});
  }
  return out;
}

}  // namespace

struct v1_row_stream::state {
  std::string sql;
  std::optional<std::string> since_db;
  std::optional<std::vector<v1_column>> columns;
  int id_index = -1;
  const time::app_zone& zone;
  std::span<const std::string_view> omit;
  std::int64_t last_id = 0;
  bool started = false;  // a row was read (last_id is meaningful)
  std::size_t count = 0;
  bool done = false;
};

v1_row_stream::v1_row_stream(const tables::table_descriptor& t, const time::app_zone& zone,
                             std::optional<std::string> since_db,
                             std::span<const std::string_view> omit) {
  // `+updated_at` keeps the planner off any index the app may put on updated_at: the walk must
  // stay a range scan of the rowid, or every chunk would sort the whole remaining range.
  std::string sql = "SELECT * FROM " + db::quote_identifier(t.name) + " WHERE id > ?1";
  if (since_db) sql += " AND +updated_at >= ?2";
  sql += " ORDER BY id";
  state_.reset(new state{std::move(sql), std::move(since_db), std::nullopt, -1, zone, omit});
}

v1_row_stream::~v1_row_stream() = default;

bool v1_row_stream::next_chunk(db::connection& conn, std::string& out, std::size_t target_bytes) {
  auto& s = *state_;
  if (s.done) return false;
  auto st = conn.prepare(s.sql);
  // The first chunk starts below every id (ids may be zero or negative in an imported table).
  st.bind(1, s.started ? s.last_id : std::numeric_limits<std::int64_t>::min());
  if (s.since_db) st.bind(2, *s.since_db);
  const std::size_t size_at_entry = out.size();
  while (out.size() - size_at_entry < target_bytes || out.size() == size_at_entry) {
    if (!st.step()) {
      s.done = true;
      break;
    }
    if (!s.columns) {
      s.columns = map_v1_columns(st, s.omit);
      for (int i = 0; i < st.column_count(); ++i) {
        if (st.column_name(i) == "id") s.id_index = i;
      }
      if (s.id_index < 0) throw std::logic_error("v1 pull: the table has no id column");
    }
    // The text codec::row_encoder's object would serialize to, written directly: plain text
    // and integers straight from the statement, everything else through codec::encode_value.
    out += s.count > 0 ? ",{" : "{";
    bool first_column = true;
    for (const auto& c : *s.columns) {
      if (!first_column) out.push_back(',');
      first_column = false;
      out += c.key;
      const auto type = st.column_type(c.index);
      if (type == db::value_type::text && c.kind == schema::column_kind::text) {
        append_json_string(out, st.column_text(c.index));
      } else if (type == db::value_type::integer && c.kind == schema::column_kind::integer) {
        append_integer(out, st.column_int64(c.index));
      } else {
        append_json_value(out, codec::encode_value(st, c.index, c.kind, s.zone));
      }
    }
    out.push_back('}');
    s.last_id = st.column_int64(s.id_index);
    s.started = true;
    ++s.count;
  }
  return !s.done;
}

std::size_t v1_row_stream::count() const noexcept { return state_->count; }

}  // namespace synccore::sync
