// A prepared SQLite statement (RAII over sqlite3_stmt*) with typed binds and column reads.
// Bind indexes are 1-based, column indexes 0-based, as in the C API. A statement belongs to the
// connection that prepared it and must not outlive it.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3_stmt;

namespace synccore::db {

class connection;

// The storage class of a column value in the current row (SQLite's dynamic types).
enum class value_type { integer, real, text, blob, null };

class statement {
 public:
  statement(const connection& owner, sqlite3_stmt* stmt) noexcept;
  ~statement();
  statement(statement&&) noexcept;
  statement& operator=(statement&&) noexcept;
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  statement& bind(int index, std::int64_t value);
  statement& bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
  statement& bind(int index, double value);
  // Binds text; the bytes are copied (SQLITE_TRANSIENT).
  statement& bind(int index, std::string_view value);
  statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
  statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
  statement& bind_blob(int index, std::string_view bytes);
  statement& bind_null(int index);
  // Returns the 1-based index of a named parameter (":name"), or 0 when absent.
  int parameter_index(const char* name) const noexcept;
  int parameter_count() const noexcept;

  // Advances to the next row. Returns true when a row is available, false when done.
  // Throws sqlite_error on failure (constraint, busy, ...).
  bool step();
  // Runs a statement that returns no rows (step until done). Throws sqlite_error.
  void run();
  // Resets for re-execution and clears the binds.
  void reset() noexcept;

  int column_count() const noexcept;
  std::string_view column_name(int col) const noexcept;
  value_type column_type(int col) const noexcept;
  bool is_null(int col) const noexcept { return column_type(col) == value_type::null; }
  std::int64_t column_int64(int col) const noexcept;
  double column_double(int col) const noexcept;
  // The text of the column; valid until the next step/reset.
  std::string_view column_text(int col) const noexcept;
  std::string column_string(int col) const { return std::string(column_text(col)); }
  std::optional<std::string> column_optional_string(int col) const;
  std::string_view column_blob(int col) const noexcept;

  sqlite3_stmt* handle() const noexcept { return stmt_.get(); }

 private:
  struct finalizer {
    void operator()(sqlite3_stmt* stmt) const noexcept;
  };
  void check_bind(int rc, int index) const;
  const connection* owner_;
  std::unique_ptr<sqlite3_stmt, finalizer> stmt_;
};

}  // namespace synccore::db
