// What a slave last received from the master for each row of a table with a counter column
// (inventory): the row's content, meaning every column but the id, the counter and the two
// timestamps, as one JSON array built from the columns the table has now. A pending change
// whose row still has that content changed only the counter (sales), and is pushed with the
// meta flag `counter_only`, so a price the master changed meanwhile is not logged as the
// depot's losing version. Kept in ruxx_sync_base_content by the agent rather than by the
// capture triggers: a trigger that names every column makes SQLite refuse the app's
// migrations that drop one (ALTER TABLE ... DROP COLUMN checks every trigger's columns).
// A column added or dropped since the base was taken changes the content, so such a change is
// sent in full, as any change was before counter_only.
#pragma once

#include <synccore/db/connection.hpp>
#include <synccore/tables/table_descriptor.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace synccore::sync {

// The columns of `t` whose local change is more than a sale's: every column but the id, the
// counter column and the two timestamps, as the database has them now, in table order.
std::vector<std::string> content_columns(db::connection& conn, const tables::table_descriptor& t);

// An SQL expression for the content of the row of `t` that `alias` names (a table alias in the
// query it goes into): `json_array(alias."minimum_stock", ...)`.
std::string content_expression(db::connection& conn, const tables::table_descriptor& t,
                               std::string_view alias);

// Takes the base of every row of `t` that has no pending local change (what the master sent
// last, or what it acknowledged), and forgets the bases of rows that no longer exist. Call it
// inside the transaction that applied the master's rows. Reads the whole table: meant for the
// small tables that have a counter column.
void refresh_base_content(db::connection& conn, const tables::table_descriptor& t);

}  // namespace synccore::sync
