// Makes a database usable by ruxx-sync without ever harming the app's data: creates the Laravel
// app's tables from the embedded schema/app_tables.sql when a file has none (so a fresh file is
// byte-for-byte the schema the real app creates), creates only the missing synced tables when a
// database has some, and installs or upgrades ruxx-sync's own bookkeeping tables
// (schema/sync_tables.sql) through an ordered list of versioned migrations recorded as
// `schema_version` in ruxx_sync_meta. Existing app tables are never altered, dropped or written.
// All functions take the caller's connection and are as thread-safe as that connection (i.e. one
// thread at a time); each one runs in its own IMMEDIATE transaction.
#pragma once

#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace synccore::db {
class connection;
}

namespace synccore::schema {

// The app tables ruxx-sync cannot work without: the five synced tables (tables::all_tables(),
// in apply order) followed by sync_logs (the PHP module's per-table sync times, which the agent
// keeps up to date). Immutable; thread-safe.
std::span<const std::string_view> synced_app_tables() noexcept;

// Returns the tables of synced_app_tables() that do not exist in `conn`'s main schema, in that
// order (empty when all exist). Used by the recovery checks. Throws db::sqlite_error.
std::vector<std::string> missing_synced_tables(db::connection& conn);

// Returns true when every table of synced_app_tables() exists. Throws db::sqlite_error.
bool has_all_synced_tables(db::connection& conn);

// Creates the app's tables:
// - when the database has none of the tables of app_tables.sql, runs the whole file (tables,
//   indexes, in file order), so the schema is exactly the real app's;
// - otherwise creates only the synced tables that are missing (with their indexes) from the same
//   SQL, leaving every existing table, and Laravel's own unsynced tables, untouched.
// Returns true when it created anything. All or nothing (one transaction). Throws
// db::sqlite_error (e.g. when the database is read-only or locked beyond the busy timeout).
bool ensure_app_tables(db::connection& conn);

// One step of the bookkeeping schema: `apply` runs inside ensure_sync_tables' transaction and
// must only add to the schema (never touch app tables). Versions start at 1 and increase by 1.
struct sync_migration {
  int version;
  std::string_view summary;
  void (*apply)(db::connection& conn);
};

// The migrations this build knows, in order; version 1 runs schema/sync_tables.sql.
// Immutable; thread-safe.
std::span<const sync_migration> sync_migrations() noexcept;

// The bookkeeping schema version this build installs (the last of sync_migrations()).
int latest_sync_schema_version() noexcept;

// Returns the schema_version recorded in ruxx_sync_meta, or 0 when the database has no
// bookkeeping tables yet. Throws schema_version_error when the recorded value is not a number.
int read_sync_schema_version(db::connection& conn);

// Thrown when a database's bookkeeping schema cannot be used by this build: recorded by a newer
// ruxx-sync (never silently downgraded) or unreadable.
class schema_version_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Installs or upgrades the bookkeeping tables: in one IMMEDIATE transaction, reads the recorded
// version, applies every migration of sync_migrations() above it in order and records the new
// version. Idempotent: a database already at the latest version is left unchanged.
// Throws schema_version_error (nothing changed) when the recorded version is newer than
// latest_sync_schema_version(); throws db::sqlite_error on database failure (rolled back).
void ensure_sync_tables(db::connection& conn);

// ensure_sync_tables() with an explicit migration list (tests, and future tooling).
// REQUIRES: `migrations` is non-empty with versions 1, 2, ... in order (else std::logic_error).
void ensure_sync_tables(db::connection& conn, std::span<const sync_migration> migrations);

}  // namespace synccore::schema
