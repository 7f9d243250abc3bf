#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/schema/table_schema.hpp>
#include <synccore/sync/batch_inserter.hpp>

#include <algorithm>
#include <charconv>
#include <optional>
#include <stdexcept>
#include <unordered_map>

namespace synccore::sync {

namespace {

// Rows per statement: enough to spread the per-statement set-up thin (the gain flattens out
// well before this), few enough to stay far below SQLite's 32,766 bound parameters.
constexpr std::size_t max_rows_per_statement = 64;
constexpr std::size_t max_parameters_per_statement = 999;

// The text a lookup `WHERE column = ?` could match, whatever the value's storage class.
std::string value_text(const codec::sql_value& value) {
  if (const auto* i = std::get_if<std::int64_t>(&value)) return std::to_string(*i);
  if (const auto* s = std::get_if<std::string>(&value)) return *s;
  if (const auto* d = std::get_if<double>(&value)) {
    char buffer[64];
    const auto end = std::to_chars(buffer, buffer + sizeof buffer, *d).ptr;
    return std::string(buffer, end);
  }
  return {};
}

std::string value_key(std::string_view column, const codec::sql_value& value) {
  std::string key(column);
  key.push_back('\x1f');
  key += value_text(value);
  return key;
}

}  // namespace

batch_inserter::batch_inserter(db::connection& conn, const schema::table_schema& table,
                               std::string identity_column,
                               std::vector<std::string> tracked_columns,
                               inserted_callback inserted)
    : conn_(conn), table_(table), identity_column_(std::move(identity_column)),
      tracked_columns_(std::move(tracked_columns)), inserted_(std::move(inserted)) {}

void batch_inserter::capture_own_inserts(std::string table_name) {
  if (!queued_.empty()) throw std::logic_error("batch_inserter: capture set after rows queued");
  capture_ = std::make_unique<insert_capture>(conn_, std::move(table_name));
}

bool batch_inserter::accepts(const codec::decoded_row& row, bool with_id) const {
  if (with_id) {
    const auto* id = row.find("id");
    return id && std::holds_alternative<std::int64_t>(*id);
  }
  if (identity_column_ == "id") return false;  // nothing else would name the new row
  const auto* identity = row.find(identity_column_);
  return identity && std::holds_alternative<std::string>(*identity);
}

bool batch_inserter::fits_queued(const codec::decoded_row& row, bool with_id) const {
  if (with_id != with_id_) return false;
  std::size_t i = 0;
  for (const auto& v : row.values) {
    if (!with_id && v.column->name == "id") continue;
    if (i == columns_.size() || columns_[i] != v.column) return false;
    ++i;
  }
  return i == columns_.size();
}

std::size_t batch_inserter::rows_per_statement() const noexcept {
  return std::max<std::size_t>(
      1, std::min(max_rows_per_statement,
                  max_parameters_per_statement / std::max<std::size_t>(1, columns_.size())));
}

void batch_inserter::add(const codec::decoded_row& row, bool with_id, std::size_t tag) {
  // A row whose id or identity is already queued would be the same row twice in a statement.
  const auto* id = with_id ? row.find("id") : nullptr;
  const auto* identity = with_id ? nullptr : row.find(identity_column_);
  if (!queued_.empty() &&
      (!fits_queued(row, with_id) || (id && holds_id(std::get<std::int64_t>(*id))) ||
       (identity && holds_value(identity_column_, *identity)))) {
    flush();
  }
  if (queued_.empty()) {
    with_id_ = with_id;
    columns_.clear();
    for (const auto& v : row.values) {
      if (!with_id && v.column->name == "id") continue;
      columns_.push_back(v.column);
    }
  }
  queued_.push_back({&row, tag});
  if (with_id) ids_.insert(std::get<std::int64_t>(*row.find("id")));
  for (const auto& column : tracked_columns_) {
    const auto* v = row.find(column);
    if (v && !std::holds_alternative<std::monostate>(*v)) values_.insert(value_key(column, *v));
  }
  // Written as soon as a statement's worth is queued: memory stays bounded by one statement.
  if (queued_.size() >= rows_per_statement()) flush();
}

bool batch_inserter::holds_value(std::string_view column, const codec::sql_value& value) const {
  if (queued_.empty() || std::holds_alternative<std::monostate>(value)) return false;
  return values_.find(value_key(column, value)) != values_.end();
}

std::shared_ptr<db::statement> batch_inserter::statement_for(std::size_t rows) {
  std::string tuple = "(";
  for (std::size_t c = 0; c < columns_.size(); ++c) tuple += c == 0 ? "?" : ", ?";
  tuple += ")";
  std::string sql = "INSERT INTO " + db::quote_identifier(table_.name) + " (";
  for (std::size_t c = 0; c < columns_.size(); ++c) {
    if (c > 0) sql += ", ";
    sql += db::quote_identifier(columns_[c]->name);
  }
  sql += ") VALUES ";
  for (std::size_t r = 0; r < rows; ++r) {
    if (r > 0) sql += ", ";
    sql += tuple;
  }
  if (!with_id_ || capture_) {
    sql += " RETURNING id, CAST(" + db::quote_identifier(identity_column_) + " AS TEXT)";
  }
  return conn_.reusable(sql);  // compiled once per connection
}

void batch_inserter::bind_row(db::statement& st, int& index, const codec::decoded_row& row) const {
  for (const auto& v : row.values) {
    if (!with_id_ && v.column->name == "id") continue;
    codec::bind_value(st, index++, v.value);
  }
}

void batch_inserter::write(const std::vector<queued_row>& rows, std::size_t first,
                           std::size_t count) {
  const auto statement = statement_for(count);
  auto& st = *statement;
  int index = 1;
  for (std::size_t r = first; r < first + count; ++r) bind_row(st, index, *rows[r].row);
  if (with_id_ && !capture_) {
    st.run();
    st.reset();
    for (std::size_t r = first; r < first + count; ++r) {
      inserted_(rows[r].tag, std::get<std::int64_t>(*rows[r].row->find("id")));
    }
    return;
  }
  // Each written row as RETURNING names it: id and identity text.
  std::vector<std::pair<std::int64_t, std::string>> written;
  written.reserve(count);
  {
    std::optional<insert_capture::trigger_hold> hold;
    if (capture_) hold.emplace(*capture_);
    while (st.step()) written.emplace_back(st.column_int64(0), st.column_string(1));
    st.reset();
  }
  if (written.size() != count) {
    throw std::logic_error("batch_inserter: RETURNING gave another number of rows than queued");
  }
  if (capture_) capture_->record(written);
  if (with_id_) {
    for (std::size_t r = first; r < first + count; ++r) {
      inserted_(rows[r].tag, std::get<std::int64_t>(*rows[r].row->find("id")));
    }
    return;
  }
  std::unordered_map<std::string_view, std::size_t> by_identity;
  for (std::size_t r = first; r < first + count; ++r) {
    by_identity.emplace(std::get<std::string>(*rows[r].row->find(identity_column_)), r);
  }
  std::vector<std::pair<std::size_t, std::int64_t>> ids;
  ids.reserve(count);
  for (const auto& [id, identity] : written) {
    const auto found = by_identity.find(identity);
    if (found == by_identity.end()) {
      throw std::logic_error("batch_inserter: RETURNING named a row that was not queued");
    }
    ids.emplace_back(rows[found->second].tag, id);
  }
  for (const auto& [tag, id] : ids) inserted_(tag, id);
}

void batch_inserter::write_one_by_one(const std::vector<queued_row>& rows, std::size_t first,
                                      std::size_t count) {
  for (std::size_t r = first; r < first + count; ++r) {
    try {
      write(rows, r, 1);
    } catch (const db::sqlite_error& e) {
      if (!e.is_constraint()) throw;
      throw batch_row_failure{rows[r].tag, e};
    }
  }
}

void batch_inserter::flush() {
  if (queued_.empty()) return;
  const std::size_t per_statement = rows_per_statement();
  // Taken out first: whatever happens below, no row stays queued to be written twice.
  std::vector<queued_row> rows;
  rows.swap(queued_);
  ids_.clear();
  values_.clear();
  for (std::size_t first = 0; first < rows.size(); first += per_statement) {
    const std::size_t count = std::min(per_statement, rows.size() - first);
    try {
      write(rows, first, count);
    } catch (const db::sqlite_error& e) {
      if (!e.is_constraint()) throw;
      // The statement was undone as a whole: write its rows one by one to name the culprit.
      write_one_by_one(rows, first, count);
    }
  }
}

}  // namespace synccore::sync
