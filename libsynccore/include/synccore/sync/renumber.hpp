// Renumbering a slave's local row to the id the master gave it, together with every column in
// the database that points at it (transactions.cashier_id, inventory_adjustments.user_id, ...)
// and the bookkeeping rows that name it, in the caller's transaction with foreign-key checks
// deferred to the commit.
#pragma once

#include <cstdint>
#include <string_view>

namespace synccore::db {
class connection;
}

namespace synccore::sync {

// Moves row `from_id` of `table` to `to_id`. A different local row already holding `to_id` is
// first moved to a fresh id past every id in use. A user's app sessions (Laravel's `sessions`
// table) are ended, so nobody stays logged in under the old id. REQUIRES: inside a write
// transaction, with capture suppressed (a capture_scope), since renumbering is not a change
// to push.
void renumber_row(db::connection& conn, std::string_view table, std::int64_t from_id,
                  std::int64_t to_id);

// Points every column that references row `from_id` of `table` (by id) at `to_id` instead.
// REQUIRES: inside a write transaction, foreign keys deferred or `to_id` existing.
void repoint_references(db::connection& conn, std::string_view table, std::int64_t from_id,
                        std::int64_t to_id);

// Ends the app's Laravel sessions of user `user_id` (`sessions.user_id`, no foreign key), so
// nobody keeps selling under an id that moved or merged into another user.
void end_app_sessions(db::connection& conn, std::int64_t user_id);

// Returns an id greater than every id `table` has ever used.
std::int64_t fresh_id(db::connection& conn, std::string_view table);

}  // namespace synccore::sync
