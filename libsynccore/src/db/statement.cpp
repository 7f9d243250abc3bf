#include <synccore/db/connection.hpp>
#include <synccore/db/sqlite_error.hpp>
#include <synccore/db/statement.hpp>

#include <sqlite3.h>

#include <string>

namespace synccore::db {

void statement::finalizer::operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }

statement::statement(const connection& owner, sqlite3_stmt* stmt) noexcept
    : owner_(&owner), stmt_(stmt) {}
statement::~statement() = default;
statement::statement(statement&&) noexcept = default;
statement& statement::operator=(statement&&) noexcept = default;

void statement::check_bind(int rc, int index) const {
  if (rc != SQLITE_OK) owner_->throw_error(rc, "bind parameter " + std::to_string(index));
}

statement& statement::bind(int index, std::int64_t value) {
  check_bind(sqlite3_bind_int64(stmt_.get(), index, value), index);
  return *this;
}
statement& statement::bind(int index, double value) {
  check_bind(sqlite3_bind_double(stmt_.get(), index, value), index);
  return *this;
}
statement& statement::bind(int index, std::string_view value) {
  check_bind(sqlite3_bind_text64(stmt_.get(), index, value.data(), value.size(), SQLITE_TRANSIENT,
                                 SQLITE_UTF8),
             index);
  return *this;
}
statement& statement::bind_blob(int index, std::string_view bytes) {
  check_bind(sqlite3_bind_blob64(stmt_.get(), index, bytes.data(), bytes.size(), SQLITE_TRANSIENT),
             index);
  return *this;
}
statement& statement::bind_null(int index) {
  check_bind(sqlite3_bind_null(stmt_.get(), index), index);
  return *this;
}
int statement::parameter_index(const char* name) const noexcept {
  return sqlite3_bind_parameter_index(stmt_.get(), name);
}
int statement::parameter_count() const noexcept {
  return sqlite3_bind_parameter_count(stmt_.get());
}

bool statement::step() {
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const char* sql = sqlite3_sql(stmt_.get());
  std::string context = "step";
  if (sql) {
    std::string_view text(sql);
    context += ": " + std::string(text.substr(0, text.find('\n')));
  }
  sqlite3_reset(stmt_.get());
  owner_->throw_error(rc, context);
}

void statement::run() {
  while (step()) {
  }
}

void statement::reset() noexcept {
  sqlite3_reset(stmt_.get());
  sqlite3_clear_bindings(stmt_.get());
}

int statement::column_count() const noexcept { return sqlite3_column_count(stmt_.get()); }
std::string_view statement::column_name(int col) const noexcept {
  const char* name = sqlite3_column_name(stmt_.get(), col);
  return name ? std::string_view(name) : std::string_view();
}
value_type statement::column_type(int col) const noexcept {
  switch (sqlite3_column_type(stmt_.get(), col)) {
    case SQLITE_INTEGER: return value_type::integer;
    case SQLITE_FLOAT: return value_type::real;
    case SQLITE_TEXT: return value_type::text;
    case SQLITE_BLOB: return value_type::blob;
    default: return value_type::null;
  }
}
std::int64_t statement::column_int64(int col) const noexcept {
  return sqlite3_column_int64(stmt_.get(), col);
}
double statement::column_double(int col) const noexcept {
  return sqlite3_column_double(stmt_.get(), col);
}
std::string_view statement::column_text(int col) const noexcept {
  const auto* text = sqlite3_column_text(stmt_.get(), col);
  if (!text) return {};
  return {reinterpret_cast<const char*>(text),
          static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), col))};
}
std::optional<std::string> statement::column_optional_string(int col) const {
  if (is_null(col)) return std::nullopt;
  return std::string(column_text(col));
}
std::string_view statement::column_blob(int col) const noexcept {
  const void* data = sqlite3_column_blob(stmt_.get(), col);
  if (!data) return {};
  return {static_cast<const char*>(data),
          static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), col))};
}

}  // namespace synccore::db
