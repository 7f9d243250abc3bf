// An owned SQLite connection (RAII over sqlite3*), opened the way every ruxx-sync process must
// open the shared app database: WAL journal, a busy timeout so the Laravel app never sees
// "database is locked" because of us, foreign keys enforced, and temporary data (statement
// journals, scratch tables) kept in memory rather than in files. Not thread-safe: one
// connection per thread (SQLite's own rule for a connection in use).
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

struct sqlite3;

namespace synccore::db {

class statement;

struct open_options {
  // Open read-only (no WAL switch, no schema change). Default: false.
  bool read_only = false;
  // Create the file when missing. Default: true (ignored when read_only).
  bool create = true;
  // How long a statement waits for another writer before failing with SQLITE_BUSY.
  // Default: 10 s.
  std::chrono::milliseconds busy_timeout{10'000};
  // Enforce foreign keys (PRAGMA foreign_keys=ON). Default: true.
  bool foreign_keys = true;
  // Switch the file to WAL journal mode. Default: true.
  bool wal = true;
};

class connection {
 public:
  // Opens `path`. Throws sqlite_error when the file cannot be opened or is not a database.
  explicit connection(const std::filesystem::path& path, const open_options& options = {});
  ~connection();
  connection(connection&&) noexcept;
  connection& operator=(connection&&) noexcept;
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // Runs one or more SQL statements without results. Throws sqlite_error.
  void execute(std::string_view sql);

  // Compiles one statement. Throws sqlite_error (with the SQL's first line) on a syntax error.
  statement prepare(std::string_view sql);

  // A compiled `sql` that the connection keeps for reuse, across transactions and (for a pooled
  // connection) requests, reset with its bindings cleared. Compiling the master's 64-row
  // INSERTs cost a twentieth of a 500-row push. A statement still held by a caller is never
  // handed out twice: asking again meanwhile compiles a fresh one. At most
  // `reusable_statement_limit` are kept; past it the connection forgets them all (holders keep
  // theirs). Throws sqlite_error as prepare.
  std::shared_ptr<statement> reusable(std::string_view sql);
  static constexpr std::size_t reusable_statement_limit = 64;

  // Returns the rowid of the last successful INSERT on this connection.
  long long last_insert_rowid() const noexcept;
  // Returns the number of rows changed by the last INSERT/UPDATE/DELETE.
  int changes() const noexcept;
  // Returns true when the connection is inside an explicit transaction.
  bool in_transaction() const noexcept;

  // Returns true when `table` exists in the main schema.
  bool has_table(std::string_view table);

  // Returns the database path given at open.
  const std::filesystem::path& path() const noexcept { return path_; }

  // Access to the raw handle, for the few callers that need the C API. Never null.
  sqlite3* handle() const noexcept { return db_.get(); }

  // Throws sqlite_error for `rc` with this connection's error message and `context`.
  [[noreturn]] void throw_error(int rc, std::string_view context) const;

 private:
  struct closer {
    void operator()(sqlite3* db) const noexcept;
  };
  std::unique_ptr<sqlite3, closer> db_;
  std::filesystem::path path_;
  // Declared after db_: destroyed (finalized) before the handle is closed.
  std::unordered_map<std::string, std::shared_ptr<statement>> reusable_;
};

// Quotes an identifier for SQL ("name" with inner quotes doubled). Only ever used on names
// that come from the table descriptors or the database's own schema.
std::string quote_identifier(std::string_view name);

}  // namespace synccore::db
