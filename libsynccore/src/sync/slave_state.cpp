#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/sync/slave_state.hpp>

#include <array>
#include <random>

namespace synccore::sync {

std::string random_hex_id() {
  std::random_device rd;
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(32);
  for (int i = 0; i < 4; ++i) {
    auto word = rd();
    for (int j = 0; j < 8; ++j) {
      out.push_back(digits[word & 0xf]);
      word >>= 4;
    }
  }
  return out;
}

std::string ensure_node_id(db::connection& conn, std::string_view override_id) {
  if (!override_id.empty()) {
    auto st = conn.prepare("INSERT INTO ruxx_sync_meta (key, value) VALUES ('node_id', ?) "
                           "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
    st.bind(1, override_id);
    st.run();
    return std::string(override_id);
  }
  auto get = conn.prepare("SELECT value FROM ruxx_sync_meta WHERE key = 'node_id'");
  if (get.step()) return get.column_string(0);
  const std::string id = "node-" + random_hex_id();
  auto st = conn.prepare("INSERT INTO ruxx_sync_meta (key, value) VALUES ('node_id', ?)");
  st.bind(1, id);
  st.run();
  return id;
}

std::optional<std::string> load_cursor(db::connection& conn, std::string_view table) {
  auto st = conn.prepare("SELECT cursor FROM ruxx_sync_cursors WHERE table_name = ?");
  st.bind(1, table);
  if (!st.step()) return std::nullopt;
  return st.column_string(0);
}

void save_cursor(db::connection& conn, std::string_view table, std::string_view cursor) {
  auto st = conn.prepare(
      "INSERT INTO ruxx_sync_cursors (table_name, cursor, updated_at) VALUES (?, ?, "
      "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) ON CONFLICT (table_name) DO UPDATE SET cursor = "
      "excluded.cursor, updated_at = excluded.updated_at");
  st.bind(1, table).bind(2, cursor);
  st.run();
}

void clear_cursors(db::connection& conn) { conn.execute("DELETE FROM ruxx_sync_cursors"); }

void touch_sync_log(db::connection& conn, std::string_view table, std::string_view now_db) {
  auto st = conn.prepare(
      "INSERT INTO sync_logs (table_name, last_synced_at, created_at, updated_at) VALUES (?, ?, "
      "?, ?) ON CONFLICT (table_name) DO UPDATE SET last_synced_at = excluded.last_synced_at, "
      "updated_at = excluded.updated_at");
  st.bind(1, table).bind(2, now_db).bind(3, now_db).bind(4, now_db);
  st.run();
}

std::optional<std::string> last_synced_at(db::connection& conn, std::string_view table) {
  auto st = conn.prepare("SELECT last_synced_at FROM sync_logs WHERE table_name = ?");
  st.bind(1, table);
  if (!st.step()) return std::nullopt;
  return st.column_optional_string(0);
}

}  // namespace synccore::sync
