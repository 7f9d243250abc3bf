#include <synccore/db/connection.hpp>
#include <synccore/db/sqlite_error.hpp>
#include <synccore/db/statement.hpp>
#include <synccore/db/transaction.hpp>
#include <synccore/schema/table_schema.hpp>
#include <synccore/sync/batch_inserter.hpp>
#include <synccore/sync/change_capture.hpp>
#include <synccore/sync/conflict_log.hpp>
#include <synccore/sync/push_apply.hpp>
#include <synccore/sync/renumber.hpp>
#include <synccore/sync/row_lookup.hpp>
#include <synccore/sync/row_writer.hpp>
#include <synccore/sync/terminal_status.hpp>
#include <synccore/tables/table_descriptor.hpp>
#include <synccore/time/app_zone.hpp>

#include "push_constraint_error.hpp"
#include "push_ledger.hpp"
#include "push_rows.hpp"

#include <boost/json/serialize.hpp>

#include <algorithm>
#include <iterator>
#include <unordered_set>

namespace synccore::sync {

namespace json = boost::json;

namespace {

using detail::field;
using detail::key_text;
using detail::pending_delete;
using detail::pending_row;

constexpr std::string_view v1_origin = "php-slave";

struct row_result {
  std::string status;  // applied, unchanged, conflict, reassigned
  std::int64_t id = 0;
  std::string reason;
};

// The columns a lookup may search a new row by: its identity and natural keys.
std::vector<std::string> tracked_columns(const tables::table_descriptor& t) {
  std::vector<std::string> columns;
  if (t.identity_column != "id") columns.emplace_back(t.identity_column);
  for (auto column : t.natural_unique_columns) columns.emplace_back(column);
  return columns;
}

class push_applier {
 public:
  // `inserted_ids[i]` receives the id of row i once a batched insert has written it.
  push_applier(db::connection& conn, const time::app_zone& zone, const push_request& req,
               const schema::table_schema& table, std::vector<std::int64_t>& inserted_ids)
      : conn_(conn), zone_(zone), req_(req), t_(*req.table), table_(table), writer_(conn, table),
        new_rows_(conn, table, std::string(t_.identity_column), tracked_columns(t_),
                  [&inserted_ids](std::size_t index, std::int64_t id) {
                    inserted_ids.at(index) = id;
                  }),
        finder_(conn, *req.table, &new_rows_),
        origin_(req.node_id.empty() ? std::string(v1_origin) : req.node_id) {
    new_rows_.capture_own_inserts(std::string(t_.name));
  }

  // True when lookups by identity go through the set of identities known to be present (see
  // preload_identities): tables identified by a column other than id.
  bool preloads_identities() const noexcept { return t_.identity_column != "id"; }

  // Reads, in one query, which of `keys` (identities of rows and deletes still to apply) the
  // table holds now, adding them to the set of present identities. A lookup by an identity
  // that is neither preloaded nor inserted by this push is known to find nothing and skips its
  // index probe. REQUIRES: every identity is preloaded before it is looked up.
  void preload_identities(const std::vector<std::string>& keys) {
    if (!preloads_identities()) return;
    if (!known_identities_) known_identities_.emplace();
    if (keys.empty()) return;
    known_identities_->merge(existing_identities(conn_, t_.name, t_.identity_column, keys));
  }

  // Notes the highest id a row of this request carries (see `insert`).
  void note_pushed_id(std::int64_t id) { max_pushed_id_ = std::max(max_pushed_id_, id); }

  // Writes the rows still waiting in the insert batch. Throws batch_row_failure.
  void flush() { new_rows_.flush(); }

  // Applies one row; returns an input_error when the row cannot be stored.
  expected<row_result> apply(const pending_row& row, std::size_t index) {
    if (!t_.master_assigns_id) return apply_by_natural_identity(row, index);
    return apply_by_id(row, index);
  }

  row_result apply_delete(const pending_delete& del) {
    new_rows_.flush();
    const auto existing = find_by_identity(del.key);
    if (!existing) return {"unchanged", 0, "already deleted"};
    if (del.base_updated_at && existing->updated_at != del.base_updated_at) {
      log_conflict(del.key, last_origin(existing->id),
                   "deleted by " + origin_ + " after a concurrent edit",
                   json::serialize(read_row_json(conn_, table_, zone_, existing->id)),
                   std::nullopt);
    }
    auto st = conn_.prepare("DELETE FROM " + db::quote_identifier(t_.name) + " WHERE id = ?");
    st.bind(1, existing->id);
    st.run();
    return {"deleted", existing->id, {}};
  }

  int conflicts() const noexcept { return conflicts_; }

 private:
  std::string last_origin(std::int64_t id) {
    auto origin = last_change_origin(conn_, t_.name, id);
    return origin == "local" ? std::string("master") : origin;
  }

  void log_conflict(const std::string& key, const std::string& origin, const std::string& reason,
                    const std::string& losing, std::optional<std::string> winning) {
    record_conflict(conn_, {std::string(t_.name), key, origin, reason, losing, std::move(winning)});
    ++conflicts_;
  }

  // The slave that lost keeps its own version until it receives the master's again: move the
  // master row to the head of the change stream so every slave's next pull carries it.
  void resend_master_version(std::int64_t master_id) {
    auto st = conn_.prepare(
        "INSERT OR REPLACE INTO ruxx_sync_changes (table_name, row_id, row_key, op, origin) "
        "SELECT ?, id, CAST(" + db::quote_identifier(t_.identity_column) + " AS TEXT), 'update', "
        "COALESCE((SELECT origin FROM ruxx_sync_changes WHERE table_name = ? AND row_id = ?), "
        "'local') FROM " + db::quote_identifier(t_.name) + " WHERE id = ?");
    st.bind(1, t_.name).bind(2, t_.name).bind(3, master_id).bind(4, master_id);
    st.run();
  }

  void log_incoming_lost(const pending_row& row, std::int64_t master_id, const std::string& reason) {
    log_conflict(row.key, origin_, reason, json::serialize(*row.raw),
                 json::serialize(read_row_json(conn_, table_, zone_, master_id)));
    resend_master_version(master_id);
  }

  expected<row_result> check_required(const pending_row& row, std::size_t index) {
    for (const auto& c : table_.columns) {
      if (!c.required_on_insert()) continue;
      const auto* v = row.decoded.find(c.name);
      if (!v || std::holds_alternative<std::monostate>(*v)) {
        return input_error{field(index, c.name), "is required to create a new row"};
      }
    }
    return row_result{};
  }

  // New rows that keep their id, or that the master numbers and that carry a text identity,
  // wait in a batch written with multi-row INSERTs (their ids reach the answer through
  // `inserted_ids`); any other row is written at once, after the batch.
  expected<row_result> insert(const pending_row& row, std::size_t index, bool keep_id) {
    if (auto ok = check_required(row, index); !ok) return ok.error();
    if (known_identities_) {
      if (const auto* identity = row.decoded.find(t_.identity_column)) {
        known_identities_->insert(key_text(*identity));
      }
    }
    if (new_rows_.accepts(row.decoded, keep_id)) {
      new_rows_.add(row.decoded, keep_id, index);
      return row_result{"applied", keep_id ? row.pushed_id : 0, {}};
    }
    new_rows_.flush();
    std::int64_t id = 0;
    if (!keep_id && row.has_id && t_.master_assigns_id) {
      // The row's id is taken: give it one above every id of this batch too, so the batch's
      // later rows keep theirs instead of each bumping into the id given to the one before.
      codec::decoded_row moved_row = row.decoded;
      for (auto& v : moved_row.values) {
        if (v.column->name == "id") {
          v.value = std::max(fresh_id(conn_, t_.name), max_pushed_id_ + 1);
        }
      }
      id = writer_.insert(moved_row, true);
    } else {
      id = writer_.insert(row.decoded, keep_id);
    }
    const bool moved = row.has_id && id != row.pushed_id && t_.master_assigns_id;
    return row_result{moved ? "reassigned" : "applied", id,
                      moved ? "id " + row.key + " belongs to another row at the master" : ""};
  }

  // Last writer wins by updated_at; a tie keeps the master's row. A terminal status (a cancelled
  // or refunded sale) of the losing version survives in the winner (terminal_status.hpp).
  row_result last_writer_wins(const pending_row& row, const row_ref& existing) {
    const auto* incoming_text = row.decoded.find("updated_at");
    const auto* incoming_db = incoming_text ? std::get_if<std::string>(incoming_text) : nullptr;
    const auto incoming = incoming_db ? zone_.from_db(*incoming_db)
                                      : expected<time::utc_instant>(time::utc_instant::max());
    const auto stored = existing.updated_at ? zone_.from_db(*existing.updated_at)
                                            : expected<time::utc_instant>(time::utc_instant::min());
    const auto in_ts = incoming ? *incoming : time::utc_instant::max();
    const auto st_ts = stored ? *stored : time::utc_instant::min();
    // The slave edited exactly the master's version: at a tie (updated_at has whole seconds,
    // an edit in the second of the version it started from) its version is the later one.
    const bool fast_forward =
        row.meta.base_updated_at && existing.updated_at == row.meta.base_updated_at;
    if (in_ts > st_ts || (in_ts == st_ts && fast_forward)) {
      // The master's version is overwritten without the slave having seen it: an edit made
      // since the slave's base version, or, for a row the slave pushes as new that matched an
      // existing row (natural key, id map), any version that did not come from this slave
      // (the same user registered at two nodes, an edit made at the master meanwhile).
      const bool unseen =
          row.meta.base_updated_at
              ? existing.updated_at != row.meta.base_updated_at
              : row.meta.op == "insert" &&
                    last_change_origin(conn_, t_.name, existing.id) != origin_;
      // A terminal status ends a sale's life: no newer version takes it back, whatever its
      // base. A slave's base cannot prove it saw the status: the master's row may have taken
      // it from a losing cancellation under an updated_at the slave already had (convergence
      // seed 60766), and a version 1 slave does not say its base at all.
      const auto kept =
          status_kept_from_loser(status_of(t_, row.decoded), stored_status(conn_, t_, existing.id));
      if ((unseen || kept) &&
          !same_content(conn_, table_, existing.id, row.decoded, {"updated_at", "created_at"})) {
        log_conflict(row.key, last_origin(existing.id),
                     "edited concurrently; the newer version from " + origin_ + " won" +
                         (kept ? " but keeps the master's status '" + *kept + "'" : ""),
                     json::serialize(read_row_json(conn_, table_, zone_, existing.id)),
                     json::serialize(*row.raw));
      }
      if (kept) {
        codec::decoded_row merged = row.decoded;
        set_status(t_, merged, *kept);
        writer_.update(existing.id, merged);
      } else {
        writer_.update(existing.id, row.decoded);
      }
      return {"applied", existing.id, {}};
    }
    if (same_content(conn_, table_, existing.id, row.decoded, {})) {
      return {"unchanged", existing.id, {}};
    }
    std::string reason = in_ts == st_ts ? "same updated_at: the master's row is kept"
                                        : "older updated_at than the master's row";
    if (const auto kept = status_kept_from_loser(stored_status(conn_, t_, existing.id),
                                                 status_of(t_, row.decoded))) {
      // The master's row keeps its later updated_at (the later of the two) and takes the status.
      auto st = conn_.prepare("UPDATE " + db::quote_identifier(t_.name) + " SET " +
                              db::quote_identifier(terminal_status_column(t_)) +
                              " = ? WHERE id = ?");
      st.bind(1, *kept).bind(2, existing.id);
      st.run();
      // A slave that cancelled the very version the master has changed nothing else: no conflict.
      if (fast_forward && same_content(conn_, table_, existing.id, row.decoded, {})) {
        return {"applied", existing.id, {}};
      }
      reason += ", which takes the status '" + *kept + "'";
    }
    log_incoming_lost(row, existing.id, reason);
    return {"conflict", existing.id, reason};
  }

  // Master wins: only counter deltas are applied to an existing row.
  row_result master_wins(const pending_row& row, const row_ref& existing) {
    bool changed = false;
    for (const auto& [column, delta] : row.meta.deltas) {
      if (delta == 0) continue;
      auto st = conn_.prepare("UPDATE " + db::quote_identifier(t_.name) + " SET " +
                              db::quote_identifier(column) + " = round(" +
                              db::quote_identifier(column) + " + ?, 6) WHERE id = ?");
      st.bind(1, delta).bind(2, existing.id);
      st.run();
      changed = true;
    }
    // A sale-only change carries the master's other values as the slave last saw them: a
    // price the master changed since is not the depot's losing edit.
    if (row.meta.counter_only) return {changed ? "applied" : "unchanged", existing.id, {}};
    const bool v2 = !row.meta.op.empty();
    const bool same = v2 ? same_content(conn_, table_, existing.id, row.decoded,
                                        {t_.counter_column, "updated_at", "created_at"})
                         : same_content(conn_, table_, existing.id, row.decoded,
                                        {"updated_at", "created_at"});
    if (!same) {
      const std::string reason = "the master's row wins for " + std::string(t_.name);
      log_incoming_lost(row, existing.id, reason);
      return {"conflict", existing.id, reason};
    }
    return {changed ? "applied" : "unchanged", existing.id, {}};
  }

  row_result apply_rule(const pending_row& row, const row_ref& existing) {
    switch (t_.rule) {
      case tables::conflict_rule::last_writer_wins: return last_writer_wins(row, existing);
      case tables::conflict_rule::master_wins:
      case tables::conflict_rule::master_wins_insert_if_empty: return master_wins(row, existing);
    }
    return {"unchanged", existing.id, {}};
  }

  expected<row_result> apply_by_natural_identity(const pending_row& row, std::size_t index) {
    const auto existing = find_by_identity(row.key);
    if (existing) return apply_rule(row, *existing);
    // An edit of a row deleted on the master (a slave offline meanwhile) does not bring it
    // back: the delete reaches that slave with its next pull. As for id-identified tables.
    if (row.meta.op == "update" && deleted_on_master(row.key)) {
      const std::string reason = "the row was deleted on the master";
      log_conflict(row.key, origin_, reason, json::serialize(*row.raw), std::nullopt);
      return row_result{"conflict", row.pushed_id, reason};
    }
    // Ids of naturally identified rows are local to each node: the master numbers its own.
    auto r = insert(row, index, false);
    if (r) r->status = "applied";
    return r;
  }

  bool deleted_on_master(const std::string& key) {
    auto st = conn_.prepare("SELECT 1 FROM ruxx_sync_changes WHERE table_name = ? AND "
                            "row_key = ? AND op = 'delete' LIMIT 1");
    st.bind(1, t_.name).bind(2, key);
    return st.step();
  }

  std::optional<row_ref> natural_match(const pending_row& row) {
    for (auto column : t_.natural_unique_columns) {
      if (const auto* v = row.decoded.find(column)) {
        if (auto found = finder_.by_column(column, *v)) return found;
      }
    }
    return std::nullopt;
  }

  // Version 1 only (a PHP slave, which never renumbers and does not say who it is): its row
  // whose id is taken at the master by another row was stored under a new id when first
  // pushed. A repeated push of the same version is recognised by its content (every pushed
  // column but id, created_at included), so it is not stored a second time.
  std::optional<row_ref> identical_row(const pending_row& row) {
    const auto* created = row.decoded.find("created_at");
    if (!created || !std::holds_alternative<std::string>(*created)) return std::nullopt;
    new_rows_.flush();
    auto st = conn_.prepare("SELECT id FROM " + db::quote_identifier(t_.name) +
                            " WHERE created_at = ? AND id <> ? ORDER BY id");
    st.bind(1, std::get<std::string>(*created)).bind(2, row.pushed_id);
    while (st.step()) {
      const auto candidate = st.column_int64(0);
      if (same_content(conn_, table_, candidate, row.decoded, {})) {
        return finder_.by_id(candidate);
      }
    }
    return std::nullopt;
  }

  // Whether `target`, the master row a node's local id was mapped to, is the row `row` was
  // created as. A node's local id can name another row later: a slave moves a pending row out
  // of the way onto an id its renumbered row freed (convergence seed 63756), and the mapping
  // then points at a stranger. The app never changes created_at, so it tells the two apart; a
  // row that does not send it cannot be checked and keeps the mapping.
  static bool same_creation(const pending_row& row, const row_ref& target) {
    const auto* sent = row.decoded.find("created_at");
    if (!sent) return true;
    const auto* text = std::get_if<std::string>(sent);
    if (!text) return !target.created_at;  // sent as null
    return target.created_at == *text;
  }

  void remember_mapping(const pending_row& row, std::int64_t master_id) {
    if (req_.node_id.empty() || !row.has_id) return;
    auto st = conn_.prepare("INSERT OR REPLACE INTO ruxx_sync_id_map (table_name, node_id, "
                            "local_id, master_id) VALUES (?, ?, ?, ?)");
    st.bind(1, t_.name).bind(2, req_.node_id).bind(3, row.pushed_id).bind(4, master_id);
    st.run();
  }

  row_result with_target(const pending_row& row, const row_ref& target) {
    auto r = apply_rule(row, target);
    if (target.id != row.pushed_id && r.status != "conflict") {
      r.status = "reassigned";
      r.reason = "the master knows this row as id " + std::to_string(target.id);
    }
    r.id = target.id;
    return r;
  }

  expected<row_result> insert_new(const pending_row& row, std::size_t index) {
    if (t_.rule == tables::conflict_rule::master_wins_insert_if_empty) {
      new_rows_.flush();
      auto st = conn_.prepare("SELECT id FROM " + db::quote_identifier(t_.name) + " LIMIT 1");
      if (st.step()) {
        const auto master_id = st.column_int64(0);
        if (same_content(conn_, table_, master_id, row.decoded, {"updated_at", "created_at"})) {
          return row_result{"unchanged", master_id, {}};
        }
        const std::string reason = "the master already has " + std::string(t_.name);
        log_incoming_lost(row, master_id, reason);
        return row_result{"conflict", master_id, reason};
      }
    }
    const bool id_free = !finder_.by_id(row.pushed_id) &&
                         !cached_has_tombstone(row.pushed_id);
    auto r = insert(row, index, id_free);
    if (r) remember_mapping(row, r->id);
    return r;
  }

  expected<row_result> apply_by_id(const pending_row& row, std::size_t index) {
    const auto same_id = finder_.by_id(row.pushed_id);
    if (row.meta.op == "update") {
      if (same_id) return with_target(row, *same_id);
      if (cached_has_tombstone(row.pushed_id)) {
        const std::string reason = "the row was deleted on the master";
        log_conflict(row.key, origin_, reason, json::serialize(*row.raw), std::nullopt);
        return row_result{"conflict", row.pushed_id, reason};
      }
      return insert_new(row, index);
    }
    if (row.meta.op == "insert") {
      auto st = conn_.prepare("SELECT master_id FROM ruxx_sync_id_map WHERE table_name = ? AND "
                              "node_id = ? AND local_id = ?");
      st.bind(1, t_.name).bind(2, req_.node_id).bind(3, row.pushed_id);
      if (st.step()) {
        auto mapped = finder_.by_id(st.column_int64(0));
        if (mapped && same_creation(row, *mapped)) return with_target(row, *mapped);
      }
      if (auto match = natural_match(row)) {
        remember_mapping(row, match->id);
        return with_target(row, *match);
      }
      return insert_new(row, index);
    }
    // Version 1. Inventory (master wins): a slave holds the master's rows under the master's
    // ids, and a PHP slave re-stamps created_at when it stores pulled rows, so the same id is
    // the same row; the slave's version loses and is logged, never becomes a second row.
    if (same_id && t_.rule == tables::conflict_rule::master_wins) return with_target(row, *same_id);
    // Other tables: the same id with the same created_at is the same row.
    const auto* created = row.decoded.find("created_at");
    const auto* created_db = created ? std::get_if<std::string>(created) : nullptr;
    if (same_id && (!created_db || same_id->created_at == *created_db)) {
      return with_target(row, *same_id);
    }
    if (auto match = natural_match(row)) return with_target(row, *match);
    if (same_id) {
      if (auto copy = identical_row(row)) return with_target(row, *copy);
    }
    return insert_new(row, index);
  }

  // Every lookup goes through `finder_`, which writes the insert batch first when the batch
  // could hold the row looked for. An identity neither preloaded as present nor inserted by
  // this push (see preload_identities) is known to find nothing.
  std::optional<row_ref> find_by_identity(std::string_view key) {
    if (t_.identity_column != "id" && known_identities_ &&
        known_identities_->find(std::string(key)) == known_identities_->end()) {
      return std::nullopt;
    }
    return finder_.by_identity(key);
  }

  bool cached_has_tombstone(std::int64_t id) {
    if (!tombstone_) {
      tombstone_.emplace(conn_.prepare("SELECT 1 FROM ruxx_sync_changes WHERE table_name = ? "
                                       "AND row_id = ? AND op = 'delete'"));
    } else {
      tombstone_->reset();
    }
    tombstone_->bind(1, t_.name).bind(2, id);
    const bool found = tombstone_->step();
    tombstone_->reset();
    return found;
  }

  db::connection& conn_;
  const time::app_zone& zone_;
  const push_request& req_;
  const tables::table_descriptor& t_;
  const schema::table_schema& table_;
  row_writer writer_;
  batch_inserter new_rows_;
  row_finder finder_;  // after new_rows_, which it flushes
  std::string origin_;
  int conflicts_ = 0;
  std::int64_t max_pushed_id_ = 0;
  // Identities present (see preload_identities); unset: every lookup asks the table.
  std::optional<std::unordered_set<std::string>> known_identities_;
  std::optional<db::statement> tombstone_;
};

// Rows whose identities are read in one query (preload_identities) before they are applied.
constexpr std::size_t rows_per_identity_query = 1000;

// Every problem of the push in the order the PHP master lists them: rows, then deletes.
push_rejection all_problems(detail::push_rows& rows, std::vector<input_error> delete_errors) {
  std::vector<input_error> errors = rows.errors();
  std::move(delete_errors.begin(), delete_errors.end(), std::back_inserter(errors));
  return push_rejection{std::move(errors)};
}

}  // namespace

push_result apply_push(db::connection& conn, const time::app_zone& zone,
                       const push_request& request) {
  const auto& t = *request.table;
  const auto table = schema::read_table_schema(conn, t.name);
  codec::row_decoder decoder(table, zone, t.never_sent_columns);

  const bool has_deletes = request.deleted && !request.deleted->empty();
  if (request.data->empty() && !has_deletes) {
    return push_rejection{{{"data", "The data field is required."}}};
  }
  // Rows are decoded ahead of the apply loop below (on a second thread for a big push); a
  // problem anywhere rejects the whole push, and the transaction, not yet committed, is rolled
  // back. Rows of id-identified tables wait for all: a taken id is moved past every id of the
  // push (note_pushed_id).
  detail::push_rows rows(request, decoder, zone);
  std::vector<input_error> delete_errors;
  auto deletes = detail::prepare_deletes(request, zone, delete_errors);
  const bool apply_while_decoding = !t.master_assigns_id;
  if (!delete_errors.empty() || (!apply_while_decoding && !rows.errors().empty())) {
    return all_problems(rows, std::move(delete_errors));
  }

  db::transaction tx(conn);
  if (auto answer = detail::stored_answer(conn, request)) {
    if (!rows.errors().empty()) return all_problems(rows, {});
    return *answer;
  }

  json::array results;
  json::object answer;
  std::size_t synced = 0;
  int conflicts = 0;
  {
    capture_scope scope(conn, false, request.node_id.empty() ? v1_origin : request.node_id);
    std::vector<std::int64_t> inserted_ids(rows.size(), 0);
    push_applier applier(conn, zone, request, table, inserted_ids);
    if (!apply_while_decoding) {
      for (std::size_t i = 0; i < rows.size(); ++i) {
        if (const auto* row = rows.get(i); row->has_id) applier.note_pushed_id(row->pushed_id);
      }
    }
    std::vector<std::string> keys;
    for (const auto& del : deletes) keys.push_back(del.key);
    applier.preload_identities(keys);
    std::vector<row_result> outcomes;
    outcomes.reserve(rows.size());
    json::array deleted;
    try {
      for (std::size_t i = 0; i < rows.size(); ++i) {
        if (applier.preloads_identities() && i % rows_per_identity_query == 0) {
          keys.clear();
          for (std::size_t k = i; k < std::min(rows.size(), i + rows_per_identity_query); ++k) {
            const auto* ahead = rows.get(k);
            if (!ahead) return all_problems(rows, {});
            keys.push_back(ahead->key);
          }
          applier.preload_identities(keys);
        }
        const auto* row = rows.get(i);
        if (!row) return all_problems(rows, {});
        expected<row_result> outcome = row_result{};
        try {
          outcome = applier.apply(*row, i);
        } catch (const db::sqlite_error& e) {
          if (!e.is_constraint()) throw;
          if (!rows.errors().empty()) return all_problems(rows, {});
          return push_rejection{{detail::explain_constraint(conn, table, row->decoded, i, e)}};
        }
        if (!outcome) {
          if (!rows.errors().empty()) return all_problems(rows, {});
          return push_rejection{{outcome.error()}};
        }
        outcomes.push_back(std::move(*outcome));
      }
      applier.flush();
      // A row can carry problems besides the one that stops it (a bad counter delta): every
      // row is decoded by now, and nothing is kept when any had one.
      if (!rows.errors().empty()) return all_problems(rows, {});
      for (const auto& del : deletes) {
        auto outcome = applier.apply_delete(del);
        deleted.push_back(json::object{{"key", del.key}, {"status", outcome.status}});
      }
    } catch (const batch_row_failure& failure) {
      if (!rows.errors().empty()) return all_problems(rows, {});
      return push_rejection{{detail::explain_constraint(
          conn, table, rows.get(failure.tag)->decoded, failure.tag, failure.error)}};
    }
    // Version 1 answers carry the count only: the per-row results are built for version 2.
    const bool per_row_results = !request.node_id.empty();
    for (std::size_t i = 0; per_row_results && i < outcomes.size(); ++i) {
      const auto& outcome = outcomes[i];
      const auto id = inserted_ids[i] != 0 ? inserted_ids[i] : outcome.id;
      json::object r{{"key", rows.get(i)->key}, {"status", outcome.status}, {"id", id}};
      if (!outcome.reason.empty()) r["reason"] = outcome.reason;
      results.push_back(std::move(r));
    }
    synced = outcomes.size();
    conflicts = applier.conflicts();
    answer = json::object{{"success", true},
                          {"message", "Successfully synced " + std::string(t.name) + " data"},
                          {"synced_count", synced}};
    if (!request.node_id.empty()) {
      answer["batch_id"] = request.batch_id;
      answer["results"] = std::move(results);
      answer["deleted"] = std::move(deleted);
      answer["conflicts"] = conflicts;
    }
    detail::record_activity(conn,
                            request.node_id.empty() ? std::string(v1_origin) : request.node_id,
                            synced + deletes.size(), conflicts);
    if (!request.batch_id.empty() && !request.node_id.empty()) {
      detail::store_answer(conn, request, answer);
    }
  }  // the capture scope restores the defaults here, before the commit
  tx.commit();
  return answer;
}

}  // namespace synccore::sync
