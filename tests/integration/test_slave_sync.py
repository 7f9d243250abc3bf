"""slave-agent end to end against the real master-server (DESIGN.md sections 2, 4, 5): a fresh
slave recovers every table; sales travel to the master with their numbers, timestamps and
values; master changes reach the slaves; inventory is the master's but every depot's stock
deltas are counted; company settings sync once (again with --force); deletes travel both ways;
two slaves' rows with the same local id both reach the master and the slaves renumber; the app
writing during a sync loses nothing. Every write to a database is made with sqlite3, as the
Laravel app makes it."""

import glob
import json
import os
import random
import re
import threading
import time
import unittest

from support import fixtures
from support.slave_support import (KEY, LosingProxy, SlaveTestCase, add_user, comparable,
                                   describe, now_db, rows, run_slave, sell, stock)

# Columns that never travel to a slave (DESIGN.md section 2 and the table descriptors).
NEVER_ON_SLAVE = {"users": {"remember_token"}, "company_settings": {"smtp_password"}}
IDENTITY = {"users": "id", "inventory": "id", "transactions": "transaction_number",
            "inventory_adjustments": "id", "company_settings": "id"}


def aside(db):
    """The files a recovery moved `db` to (without their -wal/-shm sidecars)."""
    return [p for p in glob.glob(db + ".damaged-*") if re.fullmatch(r".*\.damaged-[0-9-]+", p)]


def seed_more(db, transactions=40):
    """Extra master rows beyond the PHP capture seed: users, a second inventory row,
    `transactions` sales and adjustments, so several pull pages are needed."""
    conn = fixtures.open_db(db)
    try:
        conn.execute("BEGIN")
        for i in range(3, 8):
            conn.execute(
                "INSERT INTO users (id, name, email, password, role, is_active, remember_token, "
                "created_at, updated_at) VALUES (?, ?, ?, ?, 'cashier', 1, 'tok', "
                "'2026-11-20 09:00:00', '2026-11-20 09:00:00')",
                (i, "Cashier %d" % i, "cashier%d@master.test" % i, fixtures.PASSWORD_HASH))
        conn.execute("INSERT INTO inventory (id, current_stock, minimum_stock, price_per_kg, notes, "
                     "created_at, updated_at) VALUES (2, 500.5, 50, 900, 'tank B', "
                     "'2026-11-20 09:00:00', '2026-11-20 09:00:00')")
        for i in range(transactions):
            conn.execute(
                "INSERT INTO transactions (transaction_number, cashier_id, quantity_kg, "
                "price_per_kg, total_amount, customer_name, customer_phone, notes, status, "
                "created_at, updated_at, payment_type) VALUES (?, ?, ?, 850.5, ?, ?, NULL, ?, "
                "'completed', ?, ?, ?)",
                ("TXN-20261121-S%05d" % i, 2 + i % 6, 1 + i % 9, (1 + i % 9) * 850.5,
                 "Customer %d" % i, "note %d" % i if i % 3 else None,
                 "2026-11-21 %02d:%02d:00" % (8 + i // 60, i % 60),
                 "2026-11-21 %02d:%02d:30" % (8 + i // 60, i % 60),
                 ("cash", "card", "transfer")[i % 3]))
        for i in range(2, 6):
            conn.execute(
                "INSERT INTO inventory_adjustments (id, user_id, type, quantity_kg, "
                "previous_stock, new_stock, reason, notes, created_at, updated_at) VALUES "
                "(?, 1, 'correction', ?, 1000, ?, 'count', NULL, '2026-11-22 10:00:00', "
                "'2026-11-22 10:00:00')", (i, i, 1000 + i))
        conn.execute("COMMIT")
    finally:
        conn.close()


class SyncTestCase(SlaveTestCase):

    def assertSameRows(self, slave, master, table, label=""):
        """The slave holds exactly the master's rows of `table` (columns that never travel to a
        slave left out)."""
        key = IDENTITY[table]
        s = comparable(slave, table, key)
        m = comparable(master, table, key)
        if key != "id":
            # The local id of a row identified by another key is each node's own.
            for row in list(s.values()) + list(m.values()):
                row.pop("id")
        for column in NEVER_ON_SLAVE.get(table, ()):
            for row in s.values():
                self.assertIsNone(row.get(column), "%s.%s reached a slave" % (table, column))
                row.pop(column, None)
            for row in m.values():
                row.pop(column, None)
        self.assertEqual(sorted(s), sorted(m), "%s %s: identities differ" % (label, table))
        for k in m:
            self.assertEqual(s[k], m[k], "%s %s row %r differs" % (label, table, k))

    def assertSameAsMaster(self, slave, master, tables=("users", "inventory", "transactions",
                                                        "inventory_adjustments"), label=""):
        for table in tables:
            self.assertSameRows(slave, master, table, label)

    def master_row(self, master_db, number):
        found = fixtures.rows_as_dicts(
            master_db, "SELECT * FROM transactions WHERE transaction_number = ?", (number,))
        self.assertEqual(len(found), 1, "transaction %s at the master: %r" % (number, found))
        return found[0]


class RecoveryTest(SyncTestCase):

    def test_fresh_slave_recovers_every_table(self):
        mdb = self.master_db()
        seed_more(mdb)
        master = self.start_master(mdb)
        slave = self.path("slave.sqlite")
        result = self.sync(slave, master, "--job", "all", "--page-rows", "7")
        self.assertIn("recovered", result.stdout)
        self.assertSameAsMaster(slave, mdb, tables=fixtures.SYNCED_TABLES)
        # The password hash travels, the remember token never does.
        self.assertEqual({r["password"] for r in rows(slave, "users")}, {fixtures.PASSWORD_HASH})
        # Nothing recovered counts as a local change: a second run pushes nothing.
        pending = fixtures.query(slave, "SELECT count(*) FROM ruxx_sync_changes")[0][0]
        self.assertEqual(pending, 0)
        again = self.sync(slave, master, "--page-rows", "7")
        self.assertNotIn("recovered", again.stdout)
        self.assertSameAsMaster(slave, mdb)
        # A sale made right after recovery is captured (the triggers are installed).
        sell(slave, "1.5")
        self.assertEqual(fixtures.query(
            slave, "SELECT count(*) FROM ruxx_sync_changes WHERE table_name = 'transactions'")[0][0],
            1)

    def test_empty_file_and_empty_app_tables_are_recovered_and_moved_aside(self):
        mdb = self.master_db()
        master = self.start_master(mdb)
        empty = self.path("empty.sqlite")
        open(empty, "wb").close()
        self.sync(empty, master)
        self.assertSameAsMaster(empty, mdb)
        self.assertEqual(len(aside(empty)), 1, os.listdir(self.tmp))

        # The Laravel app migrated a new depot database but has no rows yet.
        migrated = fixtures.make_app_db(self.path("migrated.sqlite"))
        self.sync(migrated, master)
        self.assertSameAsMaster(migrated, mdb)
        self.assertEqual(len(aside(migrated)), 1, os.listdir(self.tmp))


class SalesTest(SyncTestCase):

    def setUp(self):
        super().setUp()
        self.mdb = self.master_db()
        self.master = self.start_master(self.mdb)

    def synced_slave(self, name):
        db = self.path(name)
        self.sync(db, self.master)
        return db

    def test_a_sale_reaches_the_master_with_its_number_timestamps_and_values(self):
        slave = self.synced_slave("slave.sqlite")
        start_stock = stock(self.mdb)
        number = sell(slave, "12.5", price="850.50", cashier_id=2, customer="Bola",
                      at="2026-11-24 09:15:42")
        local = fixtures.rows_as_dicts(
            slave, "SELECT * FROM transactions WHERE transaction_number = ?", (number,))[0]
        self.sync(slave, self.master)
        at_master = self.master_row(self.mdb, number)
        for column in ("transaction_number", "cashier_id", "quantity_kg", "price_per_kg",
                       "total_amount", "customer_name", "customer_phone", "notes", "status",
                       "created_at", "updated_at", "payment_type"):
            self.assertEqual(at_master[column], local[column], column)
        self.assertEqual(at_master["created_at"], "2026-11-24 09:15:42")
        self.assertEqual(at_master["total_amount"], 10631.25)
        self.assertAlmostEqual(stock(self.mdb), start_stock - 12.5, places=6)
        self.assertAlmostEqual(stock(slave), start_stock - 12.5, places=6)
        # Pushed once: a second run changes nothing at the master.
        before = fixtures.snapshot(self.mdb, ["transactions", "inventory"])
        self.sync(slave, self.master)
        self.assertEqual(fixtures.snapshot(self.mdb, ["transactions", "inventory"]), before)

    def test_a_plain_run_never_makes_the_master_count_every_table(self):
        # The protocol probe (GET /api/sync/status) used to make the master count every row of
        # every table on each sync: a full scan of a 1M-row table every 15 minutes per depot
        # (docs/PERFORMANCE.md, section 5). Only a recovery asks for the counts (its progress).
        recovering = self.path("recovering.sqlite")
        with LosingProxy(self.master.host, self.master.port, lambda *a: False) as proxy:
            self.sync(recovering, proxy.url)
            recovery_probes = [t for m, t in proxy.targets if t.startswith("/api/sync/status")]
        self.assertIn("/api/sync/status", recovery_probes)  # the recovery's count, for its bar

        slave = self.synced_slave("slave.sqlite")
        sell(slave, "2.0")
        with LosingProxy(self.master.host, self.master.port, lambda *a: False) as proxy:
            self.sync(slave, proxy.url, "--job", "all", "--force")
            probes = [t for m, t in proxy.targets if t.startswith("/api/sync/status")]
            pushes = [t for m, t in proxy.targets if m == "POST"]
        self.assertTrue(probes, proxy.targets)
        self.assertEqual(set(probes), {"/api/sync/status?counts=0"}, proxy.targets)
        self.assertTrue(pushes, "the sale was pushed through the proxy")

    def test_a_master_change_reaches_the_slave(self):
        slave = self.synced_slave("slave.sqlite")
        number = sell(self.mdb, "4", customer="At the plant", at="2026-11-24 11:00:00")
        fixtures.execute(self.mdb, "UPDATE users SET name = 'Renamed Cashier', updated_at = "
                         "'2026-11-24 11:05:00' WHERE id = 2")
        fixtures.execute(self.mdb, "INSERT INTO inventory_adjustments (user_id, type, "
                         "quantity_kg, previous_stock, new_stock, reason, created_at, updated_at) "
                         "VALUES (1, 'loss', 2, 1246.25, 1244.25, 'leak', '2026-11-24 11:10:00', "
                         "'2026-11-24 11:10:00')")
        self.sync(slave, self.master)
        self.assertEqual(fixtures.rows_as_dicts(
            slave, "SELECT customer_name, created_at FROM transactions WHERE "
            "transaction_number = ?", (number,)),
            [{"customer_name": "At the plant", "created_at": "2026-11-24 11:00:00"}])
        self.assertEqual(fixtures.query(slave, "SELECT name FROM users WHERE id = 2"),
                         [("Renamed Cashier",)])
        self.assertSameAsMaster(slave, self.mdb)
        # Rows applied from the master are not captured as local changes (no echo).
        self.assertEqual(fixtures.query(slave, "SELECT count(*) FROM ruxx_sync_changes")[0][0], 0)

    def test_stock_deltas_of_two_slaves_and_the_master_are_all_counted(self):
        fixtures.execute(self.mdb, "UPDATE inventory SET current_stock = 1000, price_per_kg = 900,"
                         " updated_at = '2026-11-24 08:00:00' WHERE id = 1")
        a = self.synced_slave("a.sqlite")
        b = self.synced_slave("b.sqlite")
        self.assertEqual(stock(a), 1000)
        self.assertEqual(stock(b), 1000)
        sell(a, "5")
        sell(b, "7")
        sell(self.mdb, "3")
        # The inventory row itself is the master's: a slave's edit of another column is
        # overridden at the next sync.
        fixtures.execute(a, "UPDATE inventory SET price_per_kg = 1.0, notes = 'local edit' "
                         "WHERE id = 1")
        self.sync(a, self.master)
        self.sync(b, self.master)
        self.assertAlmostEqual(stock(self.mdb), 985, places=6)
        self.assertAlmostEqual(stock(b), 985, places=6)
        self.sync(a, self.master)  # the final round
        for db in (self.mdb, a, b):
            self.assertAlmostEqual(stock(db), 985, places=6, msg=db)
        self.assertEqual(fixtures.query(a, "SELECT price_per_kg, notes FROM inventory WHERE id = 1"),
                         [(900, None)])
        self.assertEqual(fixtures.query(self.mdb, "SELECT price_per_kg FROM inventory WHERE id = 1"),
                         [(900,)])
        # Every sale is at the master once; both slaves see all three.
        self.assertEqual(fixtures.query(self.mdb, "SELECT count(*) FROM transactions")[0][0], 4)
        for db in (a, b):
            self.assertSameAsMaster(db, self.mdb)
        # Another round moves nothing: the deltas were counted once.
        self.sync(a, self.master)
        self.sync(b, self.master)
        for db in (self.mdb, a, b):
            self.assertAlmostEqual(stock(db), 985, places=6, msg=db)

    def test_an_inventory_row_deleted_at_the_master_disappears_from_the_slave(self):
        fixtures.execute(self.mdb, "INSERT INTO inventory (id, current_stock, created_at, "
                         "updated_at) VALUES (2, 40, '2026-11-24 08:00:00', '2026-11-24 08:00:00')")
        slave = self.synced_slave("slave.sqlite")
        self.assertEqual(fixtures.query(slave, "SELECT id FROM inventory ORDER BY id"), [(1,), (2,)])
        fixtures.execute(self.mdb, "DELETE FROM inventory WHERE id = 2")
        self.sync(slave, self.master)
        self.assertEqual(fixtures.query(slave, "SELECT id FROM inventory ORDER BY id"), [(1,)])

    def test_deletes_travel_slave_to_master_to_other_slave_and_master_to_slave(self):
        a = self.synced_slave("a.sqlite")
        b = self.synced_slave("b.sqlite")
        n1 = sell(a, "2")
        n2 = sell(a, "3")
        self.sync(a, self.master)
        self.sync(b, self.master)
        for db in (self.mdb, b):
            self.assertEqual(fixtures.query(
                db, "SELECT count(*) FROM transactions WHERE transaction_number IN (?, ?)",
                (n1, n2))[0][0], 2)
        # Slave A deletes a sale (a cancelled entry) and an adjustment it had from the master.
        fixtures.execute(a, "DELETE FROM transactions WHERE transaction_number = ?", (n1,))
        fixtures.execute(a, "DELETE FROM inventory_adjustments WHERE id = 1")
        self.sync(a, self.master)
        self.assertEqual(fixtures.query(
            self.mdb, "SELECT count(*) FROM transactions WHERE transaction_number = ?", (n1,)),
            [(0,)])
        self.assertEqual(fixtures.query(self.mdb, "SELECT count(*) FROM inventory_adjustments "
                                        "WHERE id = 1"), [(0,)])
        self.sync(b, self.master)
        self.assertEqual(fixtures.query(
            b, "SELECT count(*) FROM transactions WHERE transaction_number = ?", (n1,)), [(0,)])
        self.assertEqual(fixtures.query(b, "SELECT count(*) FROM inventory_adjustments "
                                        "WHERE id = 1"), [(0,)])
        # The master deletes a sale: gone from both slaves.
        fixtures.execute(self.mdb, "DELETE FROM transactions WHERE transaction_number = ?", (n2,))
        self.sync(a, self.master)
        self.sync(b, self.master)
        for db in (a, b):
            self.assertEqual(fixtures.query(
                db, "SELECT count(*) FROM transactions WHERE transaction_number = ?", (n2,)),
                [(0,)])
            self.assertSameAsMaster(db, self.mdb)

    def test_same_local_user_id_on_two_slaves_gives_two_master_rows_and_renumbering(self):
        a = self.synced_slave("a.sqlite")
        b = self.synced_slave("b.sqlite")
        ua = add_user(a, "Depot A Cashier", "cashier@depot-a.test", at="2026-11-24 12:00:00")
        ub = add_user(b, "Depot B Cashier", "cashier@depot-b.test", at="2026-11-24 12:00:05")
        self.assertEqual(ua, ub, "both slaves should pick the same next local id")
        na = sell(a, "6", cashier_id=ua)
        nb = sell(b, "8", cashier_id=ub)
        self.sync(a, self.master)
        self.sync(b, self.master)
        self.sync(a, self.master)
        users = {r["email"]: r for r in rows(self.mdb, "users")}
        self.assertIn("cashier@depot-a.test", users)
        self.assertIn("cashier@depot-b.test", users)
        id_a = users["cashier@depot-a.test"]["id"]
        id_b = users["cashier@depot-b.test"]["id"]
        self.assertNotEqual(id_a, id_b)
        self.assertEqual(users["cashier@depot-a.test"]["name"], "Depot A Cashier")
        self.assertEqual(users["cashier@depot-b.test"]["name"], "Depot B Cashier")
        # Each sale points at its own depot's user at the master.
        self.assertEqual(self.master_row(self.mdb, na)["cashier_id"], id_a)
        self.assertEqual(self.master_row(self.mdb, nb)["cashier_id"], id_b)
        # Each slave renumbered its row (and the sale pointing at it) to the master's id.
        for db, email, number, mid in ((a, "cashier@depot-a.test", na, id_a),
                                       (b, "cashier@depot-b.test", nb, id_b)):
            self.assertEqual(fixtures.query(db, "SELECT id FROM users WHERE email = ?", (email,)),
                             [(mid,)], db)
            self.assertEqual(fixtures.query(db, "SELECT cashier_id FROM transactions WHERE "
                                            "transaction_number = ?", (number,)), [(mid,)], db)
        self.sync(b, self.master)
        for db in (a, b):
            self.assertSameAsMaster(db, self.mdb)
            self.assertEqual(fixtures.query(db, "PRAGMA foreign_key_check"), [])


class ConflictTest(SyncTestCase):
    """Last writer wins by updated_at; a tie keeps the master's row; every losing version is in
    the master's conflict log with its origin, and the slave ends up with the winner."""

    def setUp(self):
        super().setUp()
        self.start_synced_pair()
        self.node = fixtures.query(self.slave, "SELECT value FROM ruxx_sync_meta WHERE key = "
                                   "'node_id'")[0][0]

    def conflicts(self, table):
        return fixtures.rows_as_dicts(self.mdb, "SELECT * FROM ruxx_sync_conflicts WHERE "
                                      "table_name = ? ORDER BY id", (table,))

    def test_sales_during_a_master_price_change_are_no_conflict_a_depot_price_edit_is(self):
        # The depot sells (stock and updated_at change) while the master changes the price:
        # the depot never edited the price, so nothing of its lost. Once it edits the price
        # itself, that edit loses to the master's row and is logged, and its sales still count.
        start = stock(self.mdb)
        sell(self.slave, "4.0")
        fixtures.execute(self.mdb, "UPDATE inventory SET price_per_kg = 905.00, updated_at = ? "
                                   "WHERE id = 1", (now_db(),))
        result = self.sync(self.slave, self.master)
        self.assertRegex(result.stdout, r"(?m)^inventory\s+1\s+0\s+\d+\s+0\s+0\s", result.stdout)
        self.assertEqual(self.conflicts("inventory"), [])
        self.assertAlmostEqual(stock(self.mdb), start - 4.0)
        self.assertEqual(rows(self.slave, "inventory")[0]["price_per_kg"], 905.0)

        fixtures.execute(self.slave, "UPDATE inventory SET price_per_kg = 999.00, updated_at = ? "
                                     "WHERE id = 1", (now_db(),))
        sell(self.slave, "1.5")
        self.sync(self.slave, self.master)
        lost = self.conflicts("inventory")
        self.assertEqual(len(lost), 1, lost)
        self.assertEqual(float(json.loads(lost[0]["losing_row"])["price_per_kg"]), 999.0)
        self.assertAlmostEqual(stock(self.mdb), start - 5.5)
        self.assertEqual(rows(self.slave, "inventory")[0]["price_per_kg"], 905.0)

    def test_the_newer_slave_edit_wins_and_the_master_version_is_logged(self):
        fixtures.execute(self.slave, "UPDATE transactions SET notes = 'slave edit', updated_at = "
                         "'2026-11-24 16:00:00' WHERE transaction_number = 'TXN-20261124-FSFKFL'")
        fixtures.execute(self.mdb, "UPDATE transactions SET customer_name = 'Master edit', "
                         "updated_at = '2026-11-24 15:50:00' WHERE transaction_number = "
                         "'TXN-20261124-FSFKFL'")
        self.sync(self.slave, self.master)
        for db in (self.mdb, self.slave):
            self.assertEqual(fixtures.query(db, "SELECT customer_name, notes, updated_at FROM "
                                            "transactions"),
                             [("Ada", "slave edit", "2026-11-24 16:00:00")], db)
        logged = self.conflicts("transactions")
        self.assertEqual(len(logged), 1, logged)
        self.assertEqual(logged[0]["row_key"], "TXN-20261124-FSFKFL")
        self.assertIn("Master edit", logged[0]["losing_row"])

    def test_the_newer_master_edit_wins_and_the_slave_version_is_logged(self):
        fixtures.execute(self.slave, "UPDATE users SET name = 'Slave name', updated_at = "
                         "'2026-11-24 15:40:00' WHERE id = 2")
        fixtures.execute(self.mdb, "UPDATE users SET name = 'Master name', updated_at = "
                         "'2026-11-24 15:45:00' WHERE id = 2")
        self.sync(self.slave, self.master)
        for db in (self.mdb, self.slave):
            self.assertEqual(fixtures.query(db, "SELECT name, updated_at FROM users WHERE id = 2"),
                             [("Master name", "2026-11-24 15:45:00")], db)
        logged = self.conflicts("users")
        self.assertEqual(len(logged), 1, logged)
        self.assertEqual(logged[0]["origin_node"], self.node)
        self.assertIn("Slave name", logged[0]["losing_row"])
        self.assertEqual(fixtures.query(self.slave, "SELECT count(*) FROM ruxx_sync_changes"),
                         [(0,)])

    def test_a_tie_keeps_the_master_row_on_both_sides(self):
        fixtures.execute(self.slave, "UPDATE inventory_adjustments SET notes = 'slave', "
                         "updated_at = '2026-11-24 15:45:00' WHERE id = 1")
        fixtures.execute(self.mdb, "UPDATE inventory_adjustments SET notes = 'master', "
                         "updated_at = '2026-11-24 15:45:00' WHERE id = 1")
        self.sync(self.slave, self.master)
        for db in (self.mdb, self.slave):
            self.assertEqual(fixtures.query(db, "SELECT notes FROM inventory_adjustments"),
                             [("master",)], db)
        logged = self.conflicts("inventory_adjustments")
        self.assertEqual(len(logged), 1, logged)
        self.assertIn("slave", logged[0]["losing_row"])


class CompanySettingsTest(SyncTestCase):

    def test_company_settings_sync_once_and_again_with_force(self):
        mdb = self.master_db()
        master = self.start_master(mdb)
        # A depot database the app already uses (so it is not recovered): it has its own
        # default company settings row and one sale's worth of data.
        slave = fixtures.make_app_db(self.path("slave.sqlite"))
        fixtures.execute(slave, "INSERT INTO company_settings (id, company_name, created_at, "
                         "updated_at) VALUES (1, 'Depot default', '2026-11-01 08:00:00', "
                         "'2026-11-01 08:00:00')")
        self.sync(slave, master, "--job", "company-settings")
        self.assertEqual(fixtures.query(slave, "SELECT company_name, company_address FROM "
                                        "company_settings"),
                         [("Ruxxen LPG Gas Plant", "123 Gas Plant Street, City, State")])
        # The master wins: the depot's row did not overwrite the master's.
        self.assertEqual(fixtures.query(mdb, "SELECT company_name FROM company_settings"),
                         [("Ruxxen LPG Gas Plant",)])
        fixtures.execute(mdb, "UPDATE company_settings SET company_name = 'Ruxxen Gas Ltd', "
                         "updated_at = '2026-11-24 12:00:00'")
        self.sync(slave, master, "--job", "company-settings")
        self.assertEqual(fixtures.query(slave, "SELECT company_name FROM company_settings"),
                         [("Ruxxen LPG Gas Plant",)], "a second run must do nothing")
        # The run job does not touch company settings either.
        self.sync(slave, master)
        self.assertEqual(fixtures.query(slave, "SELECT company_name FROM company_settings"),
                         [("Ruxxen LPG Gas Plant",)])
        self.sync(slave, master, "--job", "company-settings", "--force")
        self.assertEqual(fixtures.query(slave, "SELECT company_name FROM company_settings"),
                         [("Ruxxen Gas Ltd",)])
        self.assertSameRows(slave, mdb, "company_settings")

    def test_a_slave_row_is_inserted_at_a_master_that_has_none(self):
        mdb = self.master_db()
        fixtures.execute(mdb, "DELETE FROM company_settings")
        master = self.start_master(mdb)
        slave = self.path("slave.sqlite")
        self.sync(slave, master)  # recovered: no company settings anywhere yet
        self.assertEqual(fixtures.query(slave, "SELECT count(*) FROM company_settings"), [(0,)])
        # The depot's admin fills in the settings page.
        fixtures.execute(slave, "INSERT INTO company_settings (company_name, company_phone, "
                         "created_at, updated_at) VALUES ('Depot Co', '+234 1', "
                         "'2026-11-24 08:00:00', '2026-11-24 08:00:00')")
        self.sync(slave, master)  # not part of the run job
        self.assertEqual(fixtures.query(mdb, "SELECT count(*) FROM company_settings"), [(0,)])
        # Recovery counted as the bootstrap: only --force syncs them again.
        self.sync(slave, master, "--job", "company-settings")
        self.assertEqual(fixtures.query(mdb, "SELECT count(*) FROM company_settings"), [(0,)])
        self.sync(slave, master, "--job", "company-settings", "--force")
        self.assertEqual(fixtures.query(mdb, "SELECT company_name, company_phone FROM "
                                        "company_settings"), [("Depot Co", "+234 1")])
        # From now on the master's row wins: a local edit is replaced on the next forced sync.
        fixtures.execute(slave, "UPDATE company_settings SET company_name = 'Local edit', "
                         "updated_at = '2026-11-24 09:00:00'")
        self.sync(slave, master, "--job", "company-settings", "--force")
        self.assertEqual(fixtures.query(mdb, "SELECT company_name FROM company_settings"),
                         [("Depot Co",)])
        self.assertEqual(fixtures.query(slave, "SELECT company_name FROM company_settings"),
                         [("Depot Co",)])


class UncapturedChangesTest(SyncTestCase):
    """Rows the app wrote while no capture trigger existed: a depot database that was in use
    before the agent was installed, and a Laravel migration that rebuilt a table (SQLite drops
    the table's triggers with it). They must still reach the master."""

    def setUp(self):
        super().setUp()
        self.mdb = self.master_db()
        self.master = self.start_master(self.mdb)

    def rebuild_table(self, db, table):
        """What Laravel's SQLite grammar does to change a column: copy, drop, rename."""
        conn = fixtures.open_db(db)
        try:
            sql = conn.execute("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?",
                               (table,)).fetchone()[0]
            indexes = [r[0] for r in conn.execute(
                "SELECT sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = ? AND sql "
                "IS NOT NULL", (table,))]
            conn.execute("PRAGMA foreign_keys = OFF")
            conn.execute("BEGIN")
            conn.execute(sql.replace('"%s"' % table, '"__temp__%s"' % table, 1))
            conn.execute('INSERT INTO "__temp__%s" SELECT * FROM "%s"' % (table, table))
            conn.execute('DROP TABLE "%s"' % table)
            conn.execute('ALTER TABLE "__temp__%s" RENAME TO "%s"' % (table, table))
            for index in indexes:
                conn.execute(index)
            conn.execute("COMMIT")
        finally:
            conn.close()

    def test_sales_made_after_a_migration_dropped_the_triggers_reach_the_master(self):
        slave = self.path("slave.sqlite")
        self.sync(slave, self.master)
        self.rebuild_table(slave, "transactions")
        self.assertEqual(fixtures.query(slave, "SELECT count(*) FROM sqlite_schema WHERE type = "
                                        "'trigger' AND tbl_name = 'transactions'"), [(0,)])
        number = sell(slave, "4")  # the app goes on selling before the agent's next run
        fixtures.execute(slave, "UPDATE transactions SET status = 'refunded', updated_at = ? "
                         "WHERE transaction_number = 'TXN-20261124-FSFKFL'", (now_db(),))
        result = self.sync(slave, self.master)
        self.assertIn("reinstalling", result.stderr)
        self.master_row(self.mdb, number)
        self.assertEqual(fixtures.query(self.mdb, "SELECT status FROM transactions WHERE "
                                        "transaction_number = 'TXN-20261124-FSFKFL'"),
                         [("refunded",)])
        self.assertAlmostEqual(stock(self.mdb), 1250.25 - 4, places=6)
        self.assertSameAsMaster(slave, self.mdb)
        # Captured again from now on; nothing is pushed twice.
        n2 = sell(slave, "1")
        self.sync(slave, self.master)
        self.master_row(self.mdb, n2)
        self.assertEqual(fixtures.query(self.mdb, "SELECT count(*) FROM transactions")[0][0], 3)

    def test_a_depot_database_in_use_before_the_agent_pushes_its_rows(self):
        slave = fixtures.make_app_db(self.path("depot.sqlite"))
        conn = fixtures.open_db(slave)
        try:
            conn.execute("INSERT INTO users (id, name, email, password, role, is_active, "
                         "created_at, updated_at) VALUES (1, 'Depot Admin', 'admin@depot.test', "
                         "?, 'admin', 1, '2026-11-01 08:00:00', '2026-11-01 08:00:00')",
                         (fixtures.PASSWORD_HASH,))
            conn.execute("INSERT INTO inventory (id, current_stock, created_at, updated_at) "
                         "VALUES (1, 300, '2026-11-01 08:00:00', '2026-11-01 08:00:00')")
            conn.execute("INSERT INTO inventory_adjustments (id, user_id, type, quantity_kg, "
                         "previous_stock, new_stock, reason, created_at, updated_at) VALUES "
                         "(1, 1, 'addition', 300, 0, 300, 'first fill', '2026-11-01 08:05:00', "
                         "'2026-11-01 08:05:00')")
        finally:
            conn.close()
        number = sell(slave, "10", cashier_id=1, at="2026-11-02 10:00:00")
        self.sync(slave, self.master)
        users = {r["email"]: r["id"] for r in rows(self.mdb, "users")}
        self.assertIn("admin@depot.test", users)
        depot_admin = users["admin@depot.test"]
        self.assertNotIn(depot_admin, (1, 2), "the master's own users keep their ids")
        self.assertEqual(self.master_row(self.mdb, number)["cashier_id"], depot_admin)
        adjustments = fixtures.query(self.mdb, "SELECT user_id FROM inventory_adjustments WHERE "
                                     "reason = 'first fill'")
        self.assertEqual(adjustments, [(depot_admin,)])
        # The depot now holds the master's rows and its own, under the master's ids.
        self.sync(slave, self.master)
        self.assertSameAsMaster(slave, self.mdb)


class WriteDuringSyncTest(SyncTestCase):

    def test_the_app_writing_during_a_sync_loses_nothing(self):
        mdb = self.master_db()
        fixtures.execute(mdb, "UPDATE inventory SET current_stock = 100000 WHERE id = 1")
        master = self.start_master(mdb)
        slave = self.path("slave.sqlite")
        self.sync(slave, master)
        # A backlog so the sync takes several batches while the app keeps selling.
        conn = fixtures.open_db(slave)
        conn.execute("PRAGMA synchronous = OFF")  # only to build the backlog fast
        rng = random.Random(7)
        sold = []
        try:
            for _ in range(1500):
                sold.append((sell(slave, "1", conn=conn, number="TXN-20261124-B%05d" % len(sold)),
                             1.0))
        finally:
            conn.close()

        stop = threading.Event()
        errors = []

        def app():
            c = fixtures.open_db(slave)
            try:
                i = 0
                while not stop.is_set():
                    kg = rng.choice((0.5, 1.0, 2.25))
                    sold.append((sell(slave, str(kg), conn=c,
                                      number="TXN-20261124-W%05d" % i), kg))
                    i += 1
                    # A busy till, not a tight loop that would starve every other writer.
                    time.sleep(0.003)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(repr(e))
            finally:
                c.close()

        writer = threading.Thread(target=app)
        writer.start()
        runs = []
        try:
            for _ in range(3):
                runs.append(run_slave(slave, master.url, "--page-rows", "200"))
        finally:
            stop.set()
            writer.join(30)
        self.assertEqual(errors, [], "the app saw an error while the agent synced")
        for r in runs:
            self.assertEqual(r.returncode, 0, describe(r))
            self.assertNotIn(KEY, r.stdout + r.stderr)
        written_during = sum(1 for n, _ in sold if "-W" in n)
        self.assertGreater(written_during, 10, "the writer did not overlap the syncs")
        self.sync(slave, master)  # the final sync
        at_master = dict(fixtures.query(
            mdb, "SELECT transaction_number, count(*) FROM transactions GROUP BY "
            "transaction_number"))
        missing = [n for n, _ in sold if n not in at_master]
        self.assertEqual(missing, [], "%d of %d sales never reached the master"
                         % (len(missing), len(sold)))
        self.assertEqual([n for n, c in at_master.items() if c != 1], [])
        self.assertEqual(len(at_master), len(sold) + 1)  # plus the seeded sale
        expected = 100000 - sum(kg for _, kg in sold)
        self.assertAlmostEqual(stock(mdb), expected, places=4)
        self.assertAlmostEqual(stock(slave), expected, places=4)
        self.assertEqual(fixtures.query(slave, "SELECT count(*) FROM ruxx_sync_changes")[0][0], 0)


if __name__ == "__main__":
    unittest.main()
