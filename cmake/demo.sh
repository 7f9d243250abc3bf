#!/usr/bin/env bash
# The README's first command: installs dependencies, builds, then runs the main job on an
# embedded default: a master on a fresh SQLite file with sample data, a fresh slave that
# recovers from it with `--once`, a sale made on the slave, a second sync, a per-table summary,
# and the master stopped with SIGTERM. Everything happens in a temporary directory.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
bash "$root/cmake/install-deps.sh" >/dev/null
cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} >/dev/null
cmake --build "$build_dir" -j"$(nproc)" --target master-server slave-agent >/dev/null
master_bin="$build_dir/master-server/master-server"
slave_bin="$build_dir/slave-agent/slave-agent"

work=$(mktemp -d /tmp/ruxx-demo.XXXXXX)
master_pid=""
cleanup() {
  if [[ -n $master_pid ]] && kill -0 "$master_pid" 2>/dev/null; then kill "$master_pid"; fi
  rm -rf "$work"
}
trap cleanup EXIT
export SYNC_API_KEY="demo-key-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export APP_TIMEZONE=Africa/Lagos

echo "== 1. master database with sample data ($work/master.sqlite)"
sqlite3 "$work/master.sqlite" < "$root/schema/app_tables.sql"
sqlite3 "$work/master.sqlite" <<'SQL'
INSERT INTO users (id, name, email, password, role, created_at, updated_at) VALUES
  (1, 'Plant Admin', 'admin@ruxxengas.com', '$2y$10$demoHashAdmin', 'admin', '2026-11-01 08:00:00', '2026-11-01 08:00:00'),
  (2, 'Depot Cashier', 'cashier@ruxxengas.com', '$2y$10$demoHashCashier', 'cashier', '2026-11-01 08:00:00', '2026-11-01 08:00:00');
INSERT INTO inventory (id, current_stock, minimum_stock, price_per_kg, notes, created_at, updated_at) VALUES
  (1, 1250.25, 100, 850.50, 'Tank A', '2026-11-01 08:00:00', '2026-11-01 08:00:00');
INSERT INTO transactions (transaction_number, cashier_id, quantity_kg, price_per_kg, total_amount, customer_name, status, payment_type, created_at, updated_at) VALUES
  ('TXN-20261101-DEMO01', 2, 12.5, 850.50, 10631.25, 'Ada', 'completed', 'cash', '2026-11-01 09:00:00', '2026-11-01 09:00:00'),
  ('TXN-20261101-DEMO02', 2, 6, 850.50, 5103.00, 'Chiké', 'completed', 'transfer', '2026-11-01 09:30:00', '2026-11-01 09:30:00');
INSERT INTO inventory_adjustments (user_id, type, quantity_kg, previous_stock, new_stock, reason, created_at, updated_at) VALUES
  (1, 'addition', 250.25, 1000, 1250.25, 'Delivery', '2026-11-01 08:30:00', '2026-11-01 08:30:00');
INSERT INTO company_settings (id, company_name, company_address, created_at, updated_at) VALUES
  (1, 'Ruxxen LPG Gas Plant', '123 Gas Plant Street', '2026-11-01 08:00:00', '2026-11-01 08:00:00');
SQL

echo "== 2. master-server on a free loopback port"
"$master_bin" --db "$work/master.sqlite" --listen 127.0.0.1:0 --log-file "$work/master.log" \
  >"$work/master.out" 2>"$work/master.err" &
master_pid=$!
for _ in $(seq 1 100); do grep -q '^listening on ' "$work/master.out" 2>/dev/null && break; sleep 0.05; done
listen=$(sed -n 's/^listening on //p' "$work/master.out")
[[ -n $listen ]] || { cat "$work/master.err"; exit 1; }
echo "   listening on $listen"
export APP_MODE=slave MASTER_URL="http://$listen"

echo "== 3. a fresh slave syncs once (it finds an empty database and recovers it)"
"$slave_bin" --db "$work/slave.sqlite" --once --job all --log-file "$work/slave.log" 2>/dev/null

echo "== 4. a sale on the slave (as the Laravel app writes it), and a price change on the master"
sqlite3 "$work/slave.sqlite" <<'SQL'
INSERT INTO transactions (transaction_number, cashier_id, quantity_kg, price_per_kg, total_amount, customer_name, status, payment_type, created_at, updated_at)
  VALUES ('TXN-20261124-DEPOT1', 2, 25, 850.50, 21262.50, 'Depot walk-in', 'completed', 'cash', datetime('now', '+1 hour'), datetime('now', '+1 hour'));
UPDATE inventory SET current_stock = current_stock - 25, updated_at = datetime('now', '+1 hour') WHERE id = 1;
SQL
sqlite3 "$work/master.sqlite" "UPDATE inventory SET price_per_kg = 860.00, updated_at = datetime('now', '+1 hour') WHERE id = 1;"

echo "== 5. the slave syncs again: push, then pull (per-table summary)"
"$slave_bin" --db "$work/slave.sqlite" --once 2>/dev/null

echo "== 6. the two databases after the sync"
for node in master slave; do
  printf '   %-6s transactions=%s stock=%s price=%s depot sale=%s\n' "$node" \
    "$(sqlite3 "$work/$node.sqlite" 'SELECT count(*) FROM transactions')" \
    "$(sqlite3 "$work/$node.sqlite" 'SELECT current_stock FROM inventory WHERE id = 1')" \
    "$(sqlite3 "$work/$node.sqlite" 'SELECT price_per_kg FROM inventory WHERE id = 1')" \
    "$(sqlite3 "$work/$node.sqlite" "SELECT count(*) FROM transactions WHERE transaction_number = 'TXN-20261124-DEPOT1'")"
done

echo "== 7. stopping the master (SIGTERM)"
kill -TERM "$master_pid"
wait "$master_pid"
echo "   master-server exited with status $?"
master_pid=""
echo "== demo done"
