// Terminal statuses and conflict resolution (docs/SYNC_DESIGN.md, "Terminal statuses"). The app
// cancels or refunds a sale by setting transactions.status to 'cancelled' or 'refunded' and, in
// the same step, giving the sale's gas back to inventory.current_stock, a counter that travels as
// a delta and is always counted. So a cancellation that lost last-writer-wins to a newer version
// of the sale would leave a 'completed' sale whose gas is back in stock. The rule refining
// DESIGN.md's "last writer wins" for this one column: when the version that loses carries a
// terminal status and the winner does not, the winner keeps its other columns but takes the
// terminal status (and the later updated_at of the two). Helpers for the master's push apply and
// the slave's pull apply, which both resolve conflicts.
#pragma once

#include <synccore/codec/row_codec.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace synccore::db {
class connection;
}
namespace synccore::tables {
struct table_descriptor;
}

namespace synccore::sync {

// The column that holds `t`'s terminal status ("status" for transactions); empty when none.
std::string_view terminal_status_column(const tables::table_descriptor& t) noexcept;

// Whether `status` ends a row's life ('cancelled' or 'refunded').
bool is_terminal_status(std::string_view status) noexcept;

// The status of row `id` of `t` as stored; nullopt when `t` has no status column, the row does
// not exist or the status is null.
std::optional<std::string> stored_status(db::connection& conn, const tables::table_descriptor& t,
                                         std::int64_t id);

// The status `row` carries; nullopt when `t` has none or the row left it out (or sent null).
std::optional<std::string> status_of(const tables::table_descriptor& t,
                                     const codec::decoded_row& row);

// The status conflict resolution must give the winning version: the loser's when it is
// terminal and the winner's is not, else nullopt (the winner stays as it is).
std::optional<std::string> status_kept_from_loser(const std::optional<std::string>& winner,
                                                  const std::optional<std::string>& loser);

// Sets the status `row` carries to `status`. A row that left the column out is not changed: an
// update with it keeps the stored status anyway.
void set_status(const tables::table_descriptor& t, codec::decoded_row& row,
                const std::string& status);

}  // namespace synccore::sync
