#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/db/transaction.hpp>
#include <synccore/sync/push_batch.hpp>
#include <synccore/sync/push_refusal.hpp>

#include <boost/json/parse.hpp>

#include <charconv>
#include <map>
#include <optional>

namespace synccore::sync {

namespace json = boost::json;

namespace {

// "data.<i>" or "data.<i>.<column>" -> (i, column); anything else -> nullopt.
std::optional<std::pair<std::size_t, std::string_view>> row_field(std::string_view field) {
  constexpr std::string_view prefix = "data.";
  if (field.substr(0, prefix.size()) != prefix) return std::nullopt;
  field.remove_prefix(prefix.size());
  const auto dot = field.find('.');
  const std::string_view digits = field.substr(0, dot);
  std::size_t index = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), index);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) {
    return std::nullopt;
  }
  return std::pair{index, dot == std::string_view::npos ? std::string_view()
                                                        : field.substr(dot + 1)};
}

std::string messages_of(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  std::string out;
  if (v.is_array()) {
    for (const auto& m : v.get_array()) {
      if (!m.is_string()) continue;
      if (!out.empty()) out += ", ";
      out += m.get_string();
    }
  }
  return out;
}

}  // namespace

std::vector<refused_row> refused_rows(const push_batch& batch, std::string_view error_body) {
  boost::system::error_code ec;
  const auto parsed = json::parse(error_body, ec);
  if (ec || !parsed.is_object()) return {};
  const auto* errors = parsed.get_object().if_contains("errors");
  if (!errors || !errors->is_object() || errors->get_object().empty()) return {};
  std::map<std::size_t, refused_row> rows;
  for (const auto& [field, messages] : errors->get_object()) {
    const auto where = row_field(field);
    if (!where || where->first >= batch.sent_versions.size()) return {};
    auto& row = rows[where->first];
    row.index = where->first;
    row.local_id = batch.sent_versions[where->first].first;
    if (!row.reasons.empty()) row.reasons += "; ";
    if (!where->second.empty()) row.reasons += std::string(where->second) + ": ";
    row.reasons += messages_of(messages);
  }
  std::vector<refused_row> out;
  for (auto& [index, row] : rows) {
    if (row.local_id == 0) return {};  // a row sent without its id: not one we can hold back
    out.push_back(std::move(row));
  }
  return out;
}

void requeue_changes(db::connection& conn, std::string_view table,
                     const std::vector<std::int64_t>& row_ids) {
  db::transaction tx(conn);
  // Above the highest seq ever handed out (sqlite_sequence), not only above the entries left:
  // a seq is never given twice, so no batch recorded earlier can cover a moved entry.
  auto top = conn.prepare(
      "SELECT max(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'ruxx_sync_changes'), "
      "0), COALESCE((SELECT max(seq) FROM ruxx_sync_changes), 0))");
  top.step();
  std::int64_t seq = top.column_int64(0);
  auto move = conn.prepare("UPDATE ruxx_sync_changes SET seq = ? WHERE table_name = ? AND "
                           "row_id = ?");
  for (const auto id : row_ids) {
    move.reset();
    move.bind(1, seq + 1).bind(2, table).bind(3, id);
    move.run();
    if (conn.changes() > 0) ++seq;
  }
  auto record = conn.prepare("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = "
                             "'ruxx_sync_changes'");
  record.bind(1, seq);
  record.run();
  tx.commit();
}

}  // namespace synccore::sync
