-- ruxx-sync bookkeeping tables (master and slave alike), idempotent. They sit beside the app's
-- tables and never alter them. The app's own `sync_logs` table is part of app_tables.sql (the
-- PHP module's table) and is kept up to date as that module did.
-- This file is version 1 of the bookkeeping schema: schema::ensure_sync_tables runs it when
-- ruxx_sync_meta.schema_version is below 1; later versions are migrations in code
-- (libsynccore/src/schema/schema_installer.cpp), applied in order. See docs/SCHEMA.md.

-- Key/value facts about this database: schema_version, node_id (slave), role.
CREATE TABLE IF NOT EXISTS ruxx_sync_meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);

-- One row. Triggers on the synced tables read it: `suppress` = 1 while the agent applies rows
-- received from the other side (no echo), `origin` = the node a write on the master came from.
-- Both are only ever changed inside the writer's own transaction and reset before it commits,
-- so the app's connections always see suppress = 0 and origin = 'local'.
CREATE TABLE IF NOT EXISTS ruxx_sync_capture (
  id       INTEGER PRIMARY KEY CHECK (id = 1),
  suppress INTEGER NOT NULL DEFAULT 0,
  origin   TEXT NOT NULL DEFAULT 'local'
);
INSERT OR IGNORE INTO ruxx_sync_capture (id, suppress, origin) VALUES (1, 0, 'local');

-- (Version 2 rebuilds this table with the op rule as comparisons: docs/SCHEMA.md.)
-- The change log, filled by triggers: one entry per changed row (the latest change wins the
-- entry and a new seq). On the master, seq is the pull cursor; on a slave, the entries are the
-- pending local changes to push. Deleted rows stay as 'delete' entries (tombstones).
CREATE TABLE IF NOT EXISTS ruxx_sync_changes (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  table_name TEXT NOT NULL,
  row_id     INTEGER NOT NULL,
  row_key    TEXT NOT NULL,
  op         TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
  origin     TEXT NOT NULL DEFAULT 'local',
  -- Slave: updated_at of the row as last received from the master, before the first pending
  -- local change. The master uses it to tell a fast-forward from a concurrent edit.
  base_updated_at TEXT,
  UNIQUE (table_name, row_id)
);
CREATE INDEX IF NOT EXISTS ruxx_sync_changes_table_seq ON ruxx_sync_changes (table_name, seq);

-- Slave: local changes of counter columns (inventory.current_stock) not yet pushed, as a sum of
-- deltas per row, so concurrent sales at several depots are all counted at the master.
CREATE TABLE IF NOT EXISTS ruxx_sync_counter_deltas (
  table_name TEXT NOT NULL,
  row_id     INTEGER NOT NULL,
  column     TEXT NOT NULL,
  delta      REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (table_name, row_id, column)
);

-- Every row version that lost a conflict, with where it came from and why it lost.
CREATE TABLE IF NOT EXISTS ruxx_sync_conflicts (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  table_name  TEXT NOT NULL,
  row_key     TEXT NOT NULL,
  origin_node TEXT NOT NULL,
  reason      TEXT NOT NULL,
  losing_row  TEXT NOT NULL,
  winning_row TEXT,
  created_at  TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ruxx_sync_conflicts_table ON ruxx_sync_conflicts (table_name, row_key);

-- Slave: the master-issued pull cursor per table.
CREATE TABLE IF NOT EXISTS ruxx_sync_cursors (
  table_name TEXT PRIMARY KEY,
  cursor     TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

-- Slave: a push batch sent but not yet acknowledged, resent with the same id after a lost answer.
CREATE TABLE IF NOT EXISTS ruxx_sync_outbox (
  table_name TEXT PRIMARY KEY,
  batch_id   TEXT NOT NULL,
  max_seq    INTEGER NOT NULL,
  -- The exact request body, resent verbatim so the master recognises the batch.
  body       TEXT NOT NULL,
  created_at TEXT NOT NULL
);

-- Master: per slave node, activity for GET /api/sync/status.
CREATE TABLE IF NOT EXISTS ruxx_sync_nodes (
  node_id      TEXT PRIMARY KEY,
  last_push_at TEXT,
  last_pull_at TEXT,
  rows_pushed  INTEGER NOT NULL DEFAULT 0,
  rows_pulled  INTEGER NOT NULL DEFAULT 0,
  conflicts    INTEGER NOT NULL DEFAULT 0
);

-- Master: answers of applied push batches, so a retried batch is answered, not applied again.
CREATE TABLE IF NOT EXISTS ruxx_sync_batches (
  node_id    TEXT NOT NULL,
  batch_id   TEXT NOT NULL,
  table_name TEXT NOT NULL,
  response   TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (node_id, batch_id)
);

-- Master: which master row a slave's local row became (ids made unique by the master).
CREATE TABLE IF NOT EXISTS ruxx_sync_id_map (
  table_name TEXT NOT NULL,
  node_id    TEXT NOT NULL,
  local_id   INTEGER NOT NULL,
  master_id  INTEGER NOT NULL,
  PRIMARY KEY (table_name, node_id, local_id)
);
