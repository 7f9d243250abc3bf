#include <synccore/codec/row_codec.hpp>
#include <synccore/db/connection.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/db/transaction.hpp>
#include <synccore/schema/table_schema.hpp>
#include <synccore/sync/change_capture.hpp>
#include <synccore/sync/base_content.hpp>
#include <synccore/sync/push_batch.hpp>
#include <synccore/sync/renumber.hpp>
#include <synccore/sync/slave_state.hpp>
#include <synccore/tables/table_descriptor.hpp>
#include <synccore/time/app_zone.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>
#include <stdexcept>
#include <utility>
#include <vector>

namespace synccore::sync {

namespace json = boost::json;

namespace {

// The id and the updated_at (database text) each row of `data` is sent with.
std::vector<std::pair<std::int64_t, std::string>> sent_versions(const json::array& data,
                                                                const time::app_zone& zone) {
  std::vector<std::pair<std::int64_t, std::string>> out;
  out.reserve(data.size());
  for (const auto& item : data) {
    const auto& row = item.as_object();
    const auto* id = row.if_contains("id");
    const auto* updated = row.if_contains("updated_at");
    std::string version;
    if (updated && updated->is_string()) {
      if (auto db = zone.wire_to_db(updated->get_string())) version = *db;
    }
    out.emplace_back(id && id->is_int64() ? id->get_int64() : 0, std::move(version));
  }
  return out;
}

std::optional<push_batch> outbox_batch(db::connection& conn, const time::app_zone& zone,
                                       std::string_view table) {
  auto st = conn.prepare("SELECT batch_id, max_seq, body FROM ruxx_sync_outbox WHERE table_name = ?");
  st.bind(1, table);
  if (!st.step()) return std::nullopt;
  push_batch b;
  b.table = std::string(table);
  b.batch_id = st.column_string(0);
  b.max_seq = st.column_int64(1);
  b.body = st.column_string(2);
  b.resent = true;
  const auto body = json::parse(b.body).as_object();
  b.rows = body.at("data").as_array().size();
  b.sent_versions = sent_versions(body.at("data").as_array(), zone);
  if (const auto* d = body.if_contains("deleted")) b.deletes = d->as_array().size();
  return b;
}

bool parent_is_new(db::connection& conn, const schema::foreign_key& fk, const db::statement& row,
                   int column) {
  if (row.is_null(column) || fk.parent_column != "id") return false;
  auto st = conn.prepare("SELECT 1 FROM ruxx_sync_changes WHERE table_name = ? AND row_id = ? AND "
                         "op = 'insert'");
  st.bind(1, fk.parent_table).bind(2, row.column_int64(column));
  return st.step();
}

std::string number_text(double value) { return codec::format_decimal(value); }

// Renumbers every row of one answer as a single permutation. One move at a time is wrong as
// soon as a row's new id is the old id of another row of the same batch (local 3 -> 4 and
// 4 -> 5: the first move parks local row 4 elsewhere, and the second then moves the row that
// just arrived at 4). So every moving row first goes to a parking id below zero (never used by
// the app's AUTOINCREMENT ids), then to its master id; a row outside the batch that holds a
// master id is moved aside by renumber_row as before.
void renumber_all(db::connection& conn, std::string_view table,
                  std::vector<std::pair<std::int64_t, std::int64_t>>& moves) {
  if (moves.size() > 1) {
    std::int64_t park = 0;
    {
      // Below every id of the table and every row_id of its change entries (a tombstone of a
      // row deleted in flight holds a negative one, see tombstone_deleted_in_flight).
      auto low = conn.prepare("SELECT min(0, COALESCE((SELECT min(id) FROM " +
                              db::quote_identifier(table) + "), 0), COALESCE((SELECT "
                              "min(row_id) FROM ruxx_sync_changes WHERE table_name = ?), 0))");
      low.bind(1, table);
      low.step();
      park = low.column_int64(0);
    }
    for (auto& [local, master_id] : moves) {
      renumber_row(conn, table, local, --park);
      local = park;
    }
  }
  for (const auto& [local, master_id] : moves) renumber_row(conn, table, local, master_id);
}

// Rows of `batch` the app deleted while their insert was in flight (built into the outbox,
// not yet acknowledged): the delete trigger forgot them, as a pending insert the master never
// saw, but the master has stored them. Returns the master's identity of each (the id it gave
// the row, or the transaction number) and the version deleted (the one sent: `sent`, aligned
// with `data`), for a delete to send next. Call before renumbering.
struct in_flight_delete {
  std::string key;
  std::string base;  // database text; empty when the row was sent without updated_at
};
std::vector<in_flight_delete> deleted_in_flight(
    db::connection& conn, const tables::table_descriptor& t, const json::array& data,
    const json::array* results, const std::vector<std::pair<std::int64_t, std::string>>& sent) {
  std::vector<in_flight_delete> out;
  const std::string table = db::quote_identifier(t.name);
  for (std::size_t i = 0; i < data.size(); ++i) {
    const auto& row = data[i].as_object();
    const auto* id = row.if_contains("id");
    const auto* identity = row.if_contains(t.identity_column);
    if (!id || !id->is_int64() || !identity) continue;
    auto alive = conn.prepare("SELECT 1 FROM " + table + " WHERE id = ?");
    alive.bind(1, id->get_int64());
    if (alive.step()) continue;
    auto pending = conn.prepare("SELECT 1 FROM ruxx_sync_changes WHERE table_name = ? AND "
                                "row_id = ?");
    pending.bind(1, t.name).bind(2, id->get_int64());
    if (pending.step()) continue;  // its delete is already pending (it was known before)
    std::string key = identity->is_string() ? std::string(identity->get_string())
                                            : json::serialize(*identity);
    if (t.master_assigns_id && results && i < results->size()) {
      if (const auto* m = results->at(i).as_object().if_contains("id"); m && m->is_int64()) {
        key = std::to_string(m->get_int64());
      }
    }
    out.push_back({std::move(key), i < sent.size() ? sent[i].second : std::string()});
  }
  return out;
}

void add_tombstones(db::connection& conn, std::string_view table,
                    const std::vector<in_flight_delete>& deletes) {
  for (const auto& [key, base] : deletes) {
    // row_id: a negative placeholder below every entry's (the row is gone, only the key counts).
    auto st = conn.prepare(
        "INSERT INTO ruxx_sync_changes (table_name, row_id, row_key, op, origin, "
        "base_updated_at) VALUES (?1, (SELECT min(0, COALESCE(min(row_id), 0)) - 1 FROM "
        "ruxx_sync_changes WHERE table_name = ?1), ?2, 'delete', 'local', NULLIF(?3, ''))");
    st.bind(1, table).bind(2, key).bind(3, base);
    st.run();
  }
}

}  // namespace

std::optional<push_batch> next_push_batch(db::connection& conn, const time::app_zone& zone,
                                          const tables::table_descriptor& t,
                                          const std::string& node_id, std::size_t limit,
                                          push_protocol protocol,
                                          const std::set<std::int64_t>& held) {
  if (protocol == push_protocol::v2) {
    if (auto waiting = outbox_batch(conn, zone, t.name)) return waiting;
  }
  db::transaction tx(conn);  // a consistent view, and the outbox row in the same step
  const auto table = schema::read_table_schema(conn, t.name);
  // ruxx_same: the row still has the content the master last sent (only a counter changed).
  const bool counted = !t.counter_column.empty();
  auto st = conn.prepare(
      "SELECT c.seq AS ruxx_seq, c.op AS ruxx_op, c.row_key AS ruxx_key, c.base_updated_at AS "
      "ruxx_base, d.delta AS ruxx_delta, " +
      (counted ? "b.content IS " + content_expression(conn, t, "t") : std::string("0")) +
      " AS ruxx_same, t.* FROM ruxx_sync_changes c LEFT JOIN " + db::quote_identifier(t.name) +
      " t ON t.id = c.row_id LEFT JOIN ruxx_sync_counter_deltas d ON d.table_name = "
      "c.table_name AND d.row_id = c.row_id " +
      (counted ? "LEFT JOIN ruxx_sync_base_content b ON b.table_name = c.table_name AND "
                 "b.row_id = c.row_id "
               : "") +
      "WHERE c.table_name = ? ORDER BY c.seq LIMIT ?");
  st.bind(1, t.name).bind(2, static_cast<std::int64_t>(limit));
  constexpr int first_row_column = 6;
  std::vector<std::pair<const schema::foreign_key*, int>> fk_columns;
  int id_column = -1;
  for (int i = first_row_column; i < st.column_count(); ++i) {
    if (st.column_name(i) == "id") id_column = i;
    for (const auto& fk : table.foreign_keys) {
      if (st.column_name(i) == fk.from_column) fk_columns.emplace_back(&fk, i);
    }
  }
  std::optional<codec::row_encoder> encoder;
  json::array data;
  json::array meta;
  json::array deleted;
  push_batch batch;
  batch.table = std::string(t.name);
  while (st.step()) {
    const bool gone = st.column_text(1) == "delete" || id_column < 0 || st.is_null(id_column);
    if (gone) {
      if (protocol == push_protocol::v2) {
        json::object del{{"key", st.column_text(2)}};
        if (!st.is_null(3)) {
          auto wire = zone.db_to_wire(st.column_text(3));
          del["base_updated_at"] = wire ? json::value(*wire) : json::value(nullptr);
        }
        deleted.push_back(std::move(del));
      }
      batch.max_seq = st.column_int64(0);
      continue;
    }
    if (held.count(st.column_int64(id_column))) break;  // refused: it and what follows wait
    bool wait_for_parent = false;
    for (const auto& [fk, column] : fk_columns) {
      wait_for_parent = wait_for_parent || parent_is_new(conn, *fk, st, column);
    }
    if (wait_for_parent) break;  // keep seq order: everything after waits too
    if (!encoder) encoder.emplace(st, table, zone, t.never_sent_columns);
    data.push_back(encoder->encode(st));
    json::object m{{"op", st.column_text(1)}};
    if (!st.is_null(3)) {
      auto wire = zone.db_to_wire(st.column_text(3));
      if (wire) m["base_updated_at"] = *wire;
    }
    if (!t.counter_column.empty() && !st.is_null(4) && st.column_double(4) != 0.0) {
      m["deltas"] = json::object{{t.counter_column, number_text(st.column_double(4))}};
    }
    if (counted && st.column_text(1) == "update" && st.column_int64(5) == 1) {
      m["counter_only"] = true;
    }
    meta.push_back(std::move(m));
    batch.max_seq = st.column_int64(0);
  }
  if (data.empty() && (deleted.empty() || protocol == push_protocol::v1)) return std::nullopt;
  batch.rows = data.size();
  batch.deletes = deleted.size();
  batch.sent_versions = sent_versions(data, zone);
  json::object body{{"table", t.name}, {"data", std::move(data)}};
  if (protocol == push_protocol::v2) {
    batch.batch_id = random_hex_id();
    body["meta"] = std::move(meta);
    body["deleted"] = std::move(deleted);
    body["node_id"] = node_id;
    body["batch_id"] = batch.batch_id;
  }
  batch.body = json::serialize(body);
  if (protocol == push_protocol::v2) {
    auto out = conn.prepare("INSERT INTO ruxx_sync_outbox (table_name, batch_id, max_seq, body, "
                            "created_at) VALUES (?, ?, ?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))");
    out.bind(1, t.name).bind(2, batch.batch_id).bind(3, batch.max_seq).bind(4, batch.body);
    out.run();
  }
  tx.commit();
  return batch;
}

ack_stats acknowledge_push(db::connection& conn, const push_batch& batch,
                           const json::object& answer, const std::string& now_db) {
  ack_stats stats;
  const auto body = json::parse(batch.body).as_object();
  const bool v2 = body.contains("batch_id");
  const auto* results = answer.if_contains("results");
  if (v2 && (!results || !results->is_array())) {
    throw std::runtime_error("the master's answer to a batch has no per-row results");
  }
  const auto* t = tables::find_table(batch.table);
  db::transaction tx(conn);
  {
    capture_scope scope(conn, true, "master");
    // Counter deltas that reached the master are no longer pending; sales made meanwhile stay.
    if (const auto* meta = body.if_contains("meta")) {
      const auto& data = body.at("data").as_array();
      for (std::size_t i = 0; i < meta->as_array().size() && i < data.size(); ++i) {
        const auto* deltas = meta->as_array()[i].as_object().if_contains("deltas");
        if (!deltas) continue;
        const auto id = data[i].as_object().at("id").to_number<std::int64_t>();
        for (const auto& [column, value] : deltas->as_object()) {
          double sent = 0;
          const auto& text = value.as_string();
          std::from_chars(text.data(), text.data() + text.size(), sent);
          auto st = conn.prepare("UPDATE ruxx_sync_counter_deltas SET delta = round(delta - ?, 6) "
                                 "WHERE table_name = ? AND row_id = ? AND column = ?");
          st.bind(1, sent).bind(2, batch.table).bind(3, id).bind(4, std::string_view(column));
          st.run();
        }
      }
      auto prune = conn.prepare("DELETE FROM ruxx_sync_counter_deltas WHERE table_name = ? AND "
                                "abs(delta) < 1e-9");
      prune.bind(1, batch.table);
      prune.run();
    }
    std::vector<in_flight_delete> gone;
    if (v2 && t) {
      gone = deleted_in_flight(conn, *t, body.at("data").as_array(), &results->as_array(),
                               batch.sent_versions);
    }
    auto clear = conn.prepare("DELETE FROM ruxx_sync_changes WHERE table_name = ? AND seq <= ?");
    clear.bind(1, batch.table).bind(2, batch.max_seq);
    clear.run();
    // Rows changed again while the batch was in flight: the master has the version sent now,
    // unless the row lost a conflict (an edit then still starts from the base it had; a new row
    // is known to the master all the same). Before renumbering, which moves entries by id.
    const auto* answered = results && results->is_array() ? &results->as_array() : nullptr;
    auto known = conn.prepare("UPDATE ruxx_sync_changes SET op = 'update', base_updated_at = "
                              "NULLIF(?, '') WHERE table_name = ? AND row_id = ? AND (op = "
                              "'insert' OR (op = 'update' AND ?))");
    for (std::size_t i = 0; i < batch.sent_versions.size(); ++i) {
      const auto& [id, version] = batch.sent_versions[i];
      const auto* r = answered && i < answered->size() ? answered->at(i).if_object() : nullptr;
      const auto* status = r ? r->if_contains("status") : nullptr;
      const bool lost = status && status->is_string() && status->get_string() == "conflict";
      known.reset();
      known.bind(1, version).bind(2, batch.table).bind(3, id).bind(4, lost ? 0 : 1);
      known.run();
    }
    if (results && t && t->master_assigns_id) {
      std::vector<std::pair<std::int64_t, std::int64_t>> moves;  // local id -> master id
      for (const auto& r : results->as_array()) {
        const auto& o = r.as_object();
        const auto status = o.at("status").as_string();
        if (status == "conflict") ++stats.conflicts;
        // A row that lost to an existing master row of another id (same email, or the same
        // row under its id-map id) is that master row too: it takes the master's id so that
        // its children are pushed pointing at the right row and the pull updates it there.
        if (status != "reassigned" && status != "conflict") continue;
        std::int64_t local = 0;
        const auto& key = o.at("key").as_string();
        std::from_chars(key.data(), key.data() + key.size(), local);
        const auto master_id = o.at("id").to_number<std::int64_t>();
        if (local != master_id) moves.emplace_back(local, master_id);
      }
      renumber_all(conn, batch.table, moves);
      stats.renumbered = moves.size();
    } else if (results) {
      for (const auto& r : results->as_array()) {
        if (r.as_object().at("status").as_string() == "conflict") ++stats.conflicts;
      }
    }
    add_tombstones(conn, batch.table, gone);  // after renumbering, which moves entries by id
    // The master has seen the content of every row this batch settled (applied or lost): a
    // sale on one of them is a sale again, even before the next pull.
    if (t && !t->counter_column.empty()) refresh_base_content(conn, *t);
    auto done = conn.prepare("DELETE FROM ruxx_sync_outbox WHERE table_name = ? AND batch_id = ?");
    done.bind(1, batch.table).bind(2, batch.batch_id);
    done.run();
    touch_sync_log(conn, batch.table, now_db);
  }
  tx.commit();
  return stats;
}

}  // namespace synccore::sync
