#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/sync/terminal_status.hpp>
#include <synccore/tables/table_descriptor.hpp>

namespace synccore::sync {

std::string_view terminal_status_column(const tables::table_descriptor& t) noexcept {
  return t.name == "transactions" ? std::string_view("status") : std::string_view();
}

bool is_terminal_status(std::string_view status) noexcept {
  return status == "cancelled" || status == "refunded";
}

std::optional<std::string> stored_status(db::connection& conn, const tables::table_descriptor& t,
                                         std::int64_t id) {
  const auto column = terminal_status_column(t);
  if (column.empty()) return std::nullopt;
  // Asked for most rows of a push of sales: compiled once per connection.
  const auto st = conn.reusable("SELECT " + db::quote_identifier(column) + " FROM " +
                                db::quote_identifier(t.name) + " WHERE id = ?");
  st->bind(1, id);
  std::optional<std::string> status;
  if (st->step() && !st->is_null(0)) status = st->column_string(0);
  st->reset();  // no read left open while the caller writes the table
  return status;
}

std::optional<std::string> status_of(const tables::table_descriptor& t,
                                     const codec::decoded_row& row) {
  const auto column = terminal_status_column(t);
  if (column.empty()) return std::nullopt;
  const auto* v = row.find(column);
  const auto* text = v ? std::get_if<std::string>(v) : nullptr;
  if (!text) return std::nullopt;
  return *text;
}

std::optional<std::string> status_kept_from_loser(const std::optional<std::string>& winner,
                                                  const std::optional<std::string>& loser) {
  if (!loser || !is_terminal_status(*loser)) return std::nullopt;
  if (winner && is_terminal_status(*winner)) return std::nullopt;
  return loser;
}

void set_status(const tables::table_descriptor& t, codec::decoded_row& row,
                const std::string& status) {
  const auto column = terminal_status_column(t);
  for (auto& v : row.values) {
    if (v.column->name == column) v.value = status;
  }
}

}  // namespace synccore::sync
