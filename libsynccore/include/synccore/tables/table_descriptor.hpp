// The five synced tables, in one place: for each, its identity across nodes, its conflict rule
// and the columns that need special handling on the wire (DESIGN.md section 2). Everything else
// about a table (its columns, types, defaults, foreign keys) is read from the database at run
// time, so a column the app adds later syncs without a code change.
#pragma once

#include <span>
#include <string_view>

namespace synccore::tables {

enum class conflict_rule {
  // The newer `updated_at` wins; on a tie the master's row is kept.
  last_writer_wins,
  // The master's row always wins; a slave's row is inserted only when the master lacks that id.
  master_wins,
  // The master's row always wins; a slave's row is inserted only when the master's table is
  // empty (company settings).
  master_wins_insert_if_empty,
};

struct table_descriptor {
  // The table name, as in the app schema.
  std::string_view name;
  // The column that identifies a row on every node ("id" or "transaction_number").
  std::string_view identity_column;
  conflict_rule rule;
  // Part of the `run` job (push then pull). False for company_settings (its own job).
  bool in_sync_run;
  // True when rows are identified by `id` across nodes: the master keeps ids unique across
  // slaves and may give a slave's new row another id (the slave then renumbers it). False for
  // transactions, identified by transaction_number, whose ids stay local to each node.
  bool master_assigns_id;
  // A counter column whose slave-side changes travel as deltas added at the master
  // ("current_stock" for inventory); empty when none.
  std::string_view counter_column;
  // Columns that never leave the node (remember_token).
  std::span<const std::string_view> never_sent_columns;
  // Columns the PHP master hides from version-1 pull answers (its models' $hidden).
  std::span<const std::string_view> hidden_from_v1_columns;
  // Extra unique columns that identify the same real-world row (users.email).
  std::span<const std::string_view> natural_unique_columns;
  // After pushing, the slave replaces the local table with the master's (inventory).
  bool pull_is_full_replace;
};

// Returns the five descriptors in apply order: parents before children (users before
// transactions and inventory_adjustments), so foreign keys are satisfied when applying.
// Thread-safe (immutable data).
std::span<const table_descriptor> all_tables() noexcept;

// Returns the descriptor named `name`, or nullptr when `name` is not a synced table.
// Comparison is exact (case-sensitive), so "Users" or "users; DROP" are not tables.
const table_descriptor* find_table(std::string_view name) noexcept;

}  // namespace synccore::tables
