// How a recovered database takes the place of the old one (DESIGN.md section 5 "Recovery",
// docs/SYNC_DESIGN.md "Recovery"). A readable old file is replaced in place: inside one write
// transaction on the live file (the lock the Laravel app's writes wait on), after checking that
// the app left nothing unpushed since the last push, a copy of the old state is saved beside it
// and the synced tables and their bookkeeping are rewritten from the recovered file. The app's
// open connections see the new rows at once, and its other tables (sessions, migrations, ...)
// stay as they are. An unreadable file is moved aside with its sidecars (never deleted) and the
// recovered file renamed into its place.
#pragma once

#include <synccore/db/connection.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace slave {

// "<database>.damaged-<UTC time>": where the old state is kept.
std::filesystem::path aside_path(const std::filesystem::path& database);

// In one IMMEDIATE transaction on `live`: when no change of `pushable` is pending (no change
// entry, counter delta or outbox batch), saves a copy of `live` as it is to `aside`, then
// replaces the rows of every synced app table (and sync_logs, the pull cursors, the base
// contents and the company-settings mark) with those of `recovered`, with capture suppressed.
// Change entries left for other tables (tables that were missing, whose rows are gone) are
// dropped. Returns false, changing nothing, when something is pending: push it and call again.
// Throws db::sqlite_error or std::runtime_error (the transaction is rolled back).
// REQUIRES: `live` is outside a transaction; `recovered` has the same bookkeeping schema.
bool replace_in_place(synccore::db::connection& live, const std::filesystem::path& recovered,
                      const std::vector<std::string>& pushable,
                      const std::filesystem::path& aside);

// Moves `from` (and its -wal and -shm files) to `to`. Throws std::filesystem::filesystem_error.
void move_with_sidecars(const std::filesystem::path& from, const std::filesystem::path& to);

// Removes `file` and its -wal, -shm and -journal files, ignoring errors.
void remove_with_sidecars(const std::filesystem::path& file);

}  // namespace slave
