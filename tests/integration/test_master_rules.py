"""The master's sync rules (DESIGN.md sections 2 and 4) through its HTTP API, one test each:
last writer wins with the conflict log, ids made unique across slaves, counter deltas, deletes
in the pull stream, idempotent batches, change capture of the app's own writes, cursor paging."""

import json
import threading
import time
import unittest
import uuid

from support import fixtures
from support.cases import MasterTestCase

ISO = "%Y-%m-%dT%H:%M:%S.000000Z"


def txn_row(number, updated_at, notes="from the app", created_at=None, id_=900):
    """A transactions row in wire form (timestamps ISO UTC)."""
    return {"id": id_, "transaction_number": number, "cashier_id": 2, "quantity_kg": "3.00",
            "price_per_kg": "850.50", "total_amount": "2551.50", "customer_name": "Rule",
            "customer_phone": None, "notes": notes, "status": "completed",
            "created_at": created_at or "2026-11-24T14:00:00.000000Z", "updated_at": updated_at,
            "payment_type": "cash"}


def new_batch():
    return "batch-" + uuid.uuid4().hex


class RulesTest(MasterTestCase):

    # --- helpers --------------------------------------------------------------------------------

    def app_insert(self, table, row):
        """Writes a row straight into the master database, as the Laravel app does (the
        database numbers it); returns its id."""
        conn = fixtures.open_db(self.db)
        try:
            fixtures.insert_row(conn, table, {k: v for k, v in row.items() if k != "id"})
            return conn.execute("SELECT last_insert_rowid()").fetchone()[0]
        finally:
            conn.close()

    def push_v2(self, table, rows, ops, node, batch=None, deleted=None, base=None, deltas=None):
        meta = []
        for i, op in enumerate(ops):
            m = {"op": op, "base_updated_at": base[i] if base else None}
            if deltas and deltas[i]:
                m["deltas"] = deltas[i]
            meta.append(m)
        body = {"table": table, "data": rows, "node_id": node, "batch_id": batch or new_batch(),
                "meta": meta}
        if deleted is not None:
            body["deleted"] = deleted
        return self.server.post("/api/sync/push", body)

    def txn(self, number):
        rows = fixtures.rows_as_dicts(self.db, "SELECT * FROM transactions WHERE "
                                               "transaction_number = ?", (number,))
        return rows[0] if rows else None

    def conflicts(self, table, key):
        return fixtures.rows_as_dicts(self.db, "SELECT * FROM ruxx_sync_conflicts WHERE "
                                               "table_name = ? AND row_key = ? ORDER BY id",
                                      (table, key))

    def drain(self, table, cursor="", limit=1000, node="rules-reader"):
        """Pulls pages until has_more is false; returns (rows, deleted keys, final cursor)."""
        rows, deleted = [], []
        for _ in range(1000):
            body = self.assertJsonResponse(self.server.pull_v2(table, cursor, limit, node), 200)
            self.assertEqual(body["protocol"], 2)
            self.assertEqual(body["count"], len(body["data"]))
            rows += body["data"]
            deleted += body["deleted"]
            cursor = body["cursor"]
            if not body["has_more"]:
                return rows, deleted, cursor
        self.fail("has_more never became false")

    def one_result(self, response):
        body = self.assertJsonResponse(response, 200)
        self.assertEqual(len(body["results"]), 1, body)
        result = body["results"][0]
        self.assertEqual(set(result) - {"reason"}, {"key", "status", "id"}, result)
        return body, result

    # --- last writer wins -------------------------------------------------------------------------

    def test_lww_tie_keeps_the_master_row_and_logs_the_pushers_version(self):
        number = "TXN-20261124-TIE001"
        self.app_insert("transactions", txn_row(number, "2026-11-24T14:10:00.000000Z",
                                                notes="master version"))
        before = self.txn(number)
        pushed = txn_row(number, "2026-11-24T14:10:00.000000Z", notes="slave version")
        body, result = self.one_result(self.push_v2(
            "transactions", [pushed], ["update"], "slave-tie",
            base=["2026-11-24T14:00:00.000000Z"]))
        self.assertEqual(result["status"], "conflict")
        self.assertEqual(result["key"], number)
        self.assertIn("reason", result)
        self.assertEqual(body["conflicts"], 1)
        self.assertEqual(self.txn(number), before)
        logged = self.conflicts("transactions", number)
        self.assertEqual(len(logged), 1, logged)
        self.assertEqual(logged[0]["origin_node"], "slave-tie")
        self.assertTrue(logged[0]["reason"])
        self.assertEqual(json.loads(logged[0]["losing_row"])["notes"], "slave version")
        self.assertEqual(json.loads(logged[0]["winning_row"])["notes"], "master version")

    def test_older_update_loses_and_is_logged(self):
        number = "TXN-20261124-OLD001"
        self.app_insert("transactions", txn_row(number, "2026-11-24T14:20:00.000000Z",
                                                notes="master version"))
        before = self.txn(number)
        pushed = txn_row(number, "2026-11-24T14:05:00.000000Z", notes="stale slave version")
        body, result = self.one_result(self.push_v2("transactions", [pushed], ["update"],
                                                    "slave-old"))
        self.assertEqual(result["status"], "conflict")
        self.assertEqual(self.txn(number), before)
        logged = self.conflicts("transactions", number)
        self.assertEqual(len(logged), 1)
        self.assertEqual(logged[0]["origin_node"], "slave-old")
        self.assertEqual(json.loads(logged[0]["losing_row"])["notes"], "stale slave version")
        # The same through version 1 (a PHP slave): also refused and logged.
        pushed["notes"] = "stale php version"
        r = self.server.push("transactions", [pushed])
        self.assertEqual(self.assertJsonResponse(r, 200)["synced_count"], 1)
        self.assertEqual(self.txn(number), before)
        self.assertEqual(len(self.conflicts("transactions", number)), 2)

    def test_newer_update_wins(self):
        number = "TXN-20261124-NEW001"
        self.app_insert("transactions", txn_row(number, "2026-11-24T14:20:00.000000Z",
                                                notes="master version"))
        pushed = txn_row(number, "2026-11-24T15:00:00.000000Z", notes="newer slave version")
        pushed["status"] = "refunded"
        body, result = self.one_result(self.push_v2(
            "transactions", [pushed], ["update"], "slave-new",
            base=["2026-11-24T14:20:00.000000Z"]))
        self.assertEqual(result["status"], "applied")
        self.assertEqual(body["conflicts"], 0)
        got = self.txn(number)
        self.assertEqual((got["notes"], got["status"], got["updated_at"]),
                         ("newer slave version", "refunded", "2026-11-24 16:00:00"))
        self.assertEqual(self.conflicts("transactions", number), [])

    # --- ids made unique ---------------------------------------------------------------------------

    def test_two_slaves_inserting_the_same_local_user_id_get_two_rows(self):
        def user(email, name):
            return {"id": 50, "name": name, "email": email, "password": fixtures.PASSWORD_HASH,
                    "role": "cashier", "is_active": True,
                    "created_at": "2026-11-24T14:31:08.000000Z",
                    "updated_at": "2026-11-24T14:31:08.000000Z"}
        body_a, a = self.one_result(self.push_v2(
            "users", [user("a50@slave.test", "Depot A cashier")], ["insert"], "slave-a"))
        self.assertEqual((a["status"], a["id"]), ("applied", 50))
        body_b, b = self.one_result(self.push_v2(
            "users", [user("b50@slave.test", "Depot B cashier")], ["insert"], "slave-b"))
        self.assertEqual(b["status"], "reassigned")
        self.assertEqual(b["key"], "50")
        self.assertNotEqual(b["id"], 50)
        rows = {r["email"]: r for r in fixtures.rows_as_dicts(
            self.db, "SELECT id, email, name FROM users WHERE email LIKE '_50@slave.test'")}
        self.assertEqual(rows["a50@slave.test"]["id"], 50)
        self.assertEqual(rows["a50@slave.test"]["name"], "Depot A cashier")
        self.assertEqual(rows["b50@slave.test"]["id"], b["id"])
        self.assertEqual(rows["b50@slave.test"]["name"], "Depot B cashier")
        # Slave B sends its row again (a new batch, before it renumbered): no third row.
        _, again = self.one_result(self.push_v2(
            "users", [user("b50@slave.test", "Depot B cashier")], ["insert"], "slave-b"))
        self.assertEqual(again["id"], b["id"])
        self.assertEqual(fixtures.query(self.db, "SELECT count(*) FROM users WHERE email LIKE "
                                                 "'_50@slave.test'")[0][0], 2)

    # --- counters ---------------------------------------------------------------------------------

    def test_concurrent_inventory_deltas_are_all_added(self):
        row = {"current_stock": 1000, "minimum_stock": 100, "price_per_kg": 850.5,
               "notes": "tank for deltas", "created_at": "2026-11-24T14:00:00.000000Z",
               "updated_at": "2026-11-24T14:00:00.000000Z"}
        inv_id = self.app_insert("inventory", row)
        wire = dict(row, id=inv_id, current_stock="1000.00", minimum_stock="100.00",
                    price_per_kg="850.50")
        rounds = 15
        errors = []

        def slave(node, delta):
            try:
                for _ in range(rounds):
                    r = self.push_v2("inventory", [wire], ["update"], node,
                                     deltas=[{"current_stock": delta}],
                                     base=["2026-11-24T14:00:00.000000Z"])
                    if r.status != 200 or r.json()["results"][0]["status"] != "applied":
                        errors.append(r)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
        threads = [threading.Thread(target=slave, args=("depot-a", "-3.10")),
                   threading.Thread(target=slave, args=("depot-b", "-5.25"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        stock = fixtures.query(self.db, "SELECT current_stock FROM inventory WHERE id = ?",
                               (inv_id,))[0][0]
        self.assertAlmostEqual(stock, 1000 - rounds * 3.10 - rounds * 5.25, places=9)
        pulled = [r for r in self.server.pull("inventory").json()["data"] if r["id"] == inv_id]
        self.assertEqual(pulled[0]["current_stock"], "874.75")
        self.assertEqual(self.conflicts("inventory", str(inv_id)), [])

    # --- deletes ----------------------------------------------------------------------------------

    def test_v2_delete_removes_the_row_and_travels_in_the_pull_stream(self):
        number = "TXN-20261124-DEL001"
        self.app_insert("transactions", txn_row(number, "2026-11-24T14:10:00.000000Z"))
        adj_id = self.app_insert("inventory_adjustments", {
            "user_id": 1, "type": "loss", "quantity_kg": "1.00", "previous_stock": "10.00",
            "new_stock": "9.00", "reason": "to delete", "notes": None,
            "created_at": "2026-11-24T14:10:00.000000Z",
            "updated_at": "2026-11-24T14:10:00.000000Z"})
        rows, _, cursor = self.drain("transactions")
        self.assertIn(number, [r["transaction_number"] for r in rows])
        _, _, adj_cursor = self.drain("inventory_adjustments")

        r = self.push_v2("transactions", [], [], "slave-del",
                         deleted=[{"key": number,
                                   "base_updated_at": "2026-11-24T14:10:00.000000Z"}])
        body = self.assertJsonResponse(r, 200)
        self.assertEqual(body["deleted"], [{"key": number, "status": "deleted"}])
        self.assertIsNone(self.txn(number))
        rows, deleted, _ = self.drain("transactions", cursor)
        self.assertEqual(deleted, [number])
        self.assertNotIn(number, [r["transaction_number"] for r in rows])

        r = self.push_v2("inventory_adjustments", [], [], "slave-del",
                         deleted=[{"key": str(adj_id), "base_updated_at": None}])
        self.assertEqual(self.assertJsonResponse(r, 200)["deleted"][0]["status"], "deleted")
        self.assertEqual(fixtures.query(self.db, "SELECT count(*) FROM inventory_adjustments "
                                                 "WHERE id = ?", (adj_id,))[0][0], 0)
        _, deleted, _ = self.drain("inventory_adjustments", adj_cursor)
        self.assertEqual(deleted, [str(adj_id)])
        # Deleting again is harmless.
        r = self.push_v2("transactions", [], [], "slave-del", deleted=[{"key": number}])
        self.assertEqual(self.assertJsonResponse(r, 200)["deleted"][0]["status"], "unchanged")

    def test_an_offline_edit_does_not_bring_back_a_deleted_row(self):
        # Deletes propagate, also to slaves that were offline: their later edit of the row
        # loses (logged) instead of re-creating it, for transactions as for id tables.
        number = "TXN-20261124-GONE01"
        self.app_insert("transactions", txn_row(number, "2026-11-24T14:10:00.000000Z"))
        adj_id = self.app_insert("inventory_adjustments", {
            "user_id": 1, "type": "loss", "quantity_kg": "1.00", "previous_stock": "10.00",
            "new_stock": "9.00", "reason": "gone", "notes": None,
            "created_at": "2026-11-24T14:10:00.000000Z",
            "updated_at": "2026-11-24T14:10:00.000000Z"})
        fixtures.execute(self.db, "DELETE FROM transactions WHERE transaction_number = ?",
                         (number,))
        fixtures.execute(self.db, "DELETE FROM inventory_adjustments WHERE id = ?", (adj_id,))
        edited = txn_row(number, "2026-11-24T18:00:00.000000Z", notes="edited offline")
        _, result = self.one_result(self.push_v2(
            "transactions", [edited], ["update"], "slave-offline",
            base=["2026-11-24T14:10:00.000000Z"]))
        self.assertEqual(result["status"], "conflict")
        self.assertIsNone(self.txn(number))
        self.assertEqual(len(self.conflicts("transactions", number)), 1)
        adj = {"id": adj_id, "user_id": 1, "type": "loss", "quantity_kg": "1.00",
               "previous_stock": "10.00", "new_stock": "9.00", "reason": "gone",
               "notes": "edited offline", "created_at": "2026-11-24T14:10:00.000000Z",
               "updated_at": "2026-11-24T18:00:00.000000Z"}
        _, result = self.one_result(self.push_v2(
            "inventory_adjustments", [adj], ["update"], "slave-offline",
            base=["2026-11-24T14:10:00.000000Z"]))
        self.assertEqual(result["status"], "conflict")
        self.assertEqual(fixtures.query(self.db, "SELECT count(*) FROM inventory_adjustments "
                                                 "WHERE reason = 'gone'")[0][0], 0)

    def test_a_delete_made_by_the_app_reaches_the_pull_stream(self):
        number = "TXN-20261124-APPDEL"
        self.app_insert("transactions", txn_row(number, "2026-11-24T14:10:00.000000Z"))
        _, _, cursor = self.drain("transactions")
        fixtures.execute(self.db, "DELETE FROM transactions WHERE transaction_number = ?",
                         (number,))
        _, deleted, _ = self.drain("transactions", cursor)
        self.assertEqual(deleted, [number])

    # --- idempotent batches -----------------------------------------------------------------------

    def test_retried_batch_is_applied_once(self):
        inv_id = self.app_insert("inventory", {
            "current_stock": 200, "minimum_stock": 10, "price_per_kg": 900, "notes": "retry",
            "created_at": "2026-11-24T14:00:00.000000Z",
            "updated_at": "2026-11-24T14:00:00.000000Z"})
        wire = {"id": inv_id, "current_stock": "193.00", "minimum_stock": "10.00",
                "price_per_kg": "900.00", "notes": "retry",
                "created_at": "2026-11-24T14:00:00.000000Z",
                "updated_at": "2026-11-24T14:00:00.000000Z"}
        batch = new_batch()
        first = self.assertJsonResponse(self.push_v2(
            "inventory", [wire], ["update"], "slave-retry", batch=batch,
            deltas=[{"current_stock": "-7.00"}]), 200)
        self.assertNotIn("replayed", first)
        self.assertEqual(first["batch_id"], batch)
        state = fixtures.snapshot(self.db, fixtures.SYNCED_TABLES + ["ruxx_sync_changes"])
        second = self.assertJsonResponse(self.push_v2(
            "inventory", [wire], ["update"], "slave-retry", batch=batch,
            deltas=[{"current_stock": "-7.00"}]), 200)
        self.assertIs(second.get("replayed"), True)
        self.assertEqual(second["results"], first["results"])
        self.assertEqual(fixtures.snapshot(self.db, fixtures.SYNCED_TABLES +
                                           ["ruxx_sync_changes"]), state)
        self.assertEqual(fixtures.query(self.db, "SELECT current_stock FROM inventory WHERE "
                                                 "id = ?", (inv_id,))[0][0], 193)

        number = "TXN-20261124-RETRY1"
        batch = new_batch()
        rows = [txn_row(number, "2026-11-24T14:40:00.000000Z", id_=7)]
        first = self.assertJsonResponse(self.push_v2("transactions", rows, ["insert"],
                                                     "slave-retry", batch=batch), 200)
        second = self.assertJsonResponse(self.push_v2("transactions", rows, ["insert"],
                                                      "slave-retry", batch=batch), 200)
        self.assertIs(second.get("replayed"), True)
        self.assertEqual(second["results"], first["results"])
        self.assertEqual(fixtures.query(self.db, "SELECT count(*) FROM transactions WHERE "
                                                 "transaction_number = ?", (number,))[0][0], 1)
        # The same batch id from another node is another batch.
        other = self.assertJsonResponse(self.push_v2(
            "inventory", [wire], ["update"], "slave-other", batch=batch,
            deltas=[{"current_stock": "-1.00"}]), 200)
        self.assertNotIn("replayed", other)
        self.assertEqual(fixtures.query(self.db, "SELECT current_stock FROM inventory WHERE "
                                                 "id = ?", (inv_id,))[0][0], 192)

    def test_delete_after_a_concurrent_master_edit_keeps_the_master_version(self):
        number = "TXN-20261124-DELCON"
        self.app_insert("transactions", txn_row(number, "2026-11-24T14:10:00.000000Z"))
        fixtures.execute(self.db, "UPDATE transactions SET notes = 'edited at the master', "
                                  "updated_at = '2026-11-24 15:30:00' WHERE "
                                  "transaction_number = ?", (number,))
        r = self.push_v2("transactions", [], [], "slave-delcon",
                         deleted=[{"key": number,
                                   "base_updated_at": "2026-11-24T14:10:00.000000Z"}])
        self.assertJsonResponse(r, 200)
        self.assertIsNone(self.txn(number))
        logged = self.conflicts("transactions", number)
        self.assertEqual(len(logged), 1)
        self.assertEqual(json.loads(logged[0]["losing_row"])["notes"], "edited at the master")

    # --- version 1 (PHP slaves) -------------------------------------------------------------------

    def test_v1_update_keeps_columns_the_php_slave_never_sends(self):
        fixtures.execute(self.db, "UPDATE users SET remember_token = 'keep-me' WHERE id = 2")
        users = fixtures.query(self.db, "SELECT count(*) FROM users")[0][0]
        user = dict(fixtures.pull_capture_rows("users")[1], name="Renamed on the depot",
                    updated_at="2026-11-24T15:00:00.000000Z")
        r = self.server.push("users", [user])
        self.assertEqual(self.assertJsonResponse(r, 200)["synced_count"], 1)
        got = fixtures.rows_as_dicts(self.db, "SELECT * FROM users WHERE id = 2")[0]
        self.assertEqual(got["name"], "Renamed on the depot")
        self.assertEqual(got["updated_at"], "2026-11-24 16:00:00")
        self.assertEqual(got["password"], fixtures.PASSWORD_HASH)
        self.assertEqual(got["remember_token"], "keep-me")
        self.assertEqual(fixtures.query(self.db, "SELECT count(*) FROM users")[0][0], users)

    def test_v1_inventory_push_of_a_master_tank_is_the_same_row(self):
        # A PHP slave stores pulled rows with its own created_at (slave_sync_run4: SLAVEB
        # pulled with created_at 14:28:49Z, pushed back with 14:31:11Z). Its edit of the
        # master's tank loses (master wins) and is logged; it never becomes a second tank.
        tanks = fixtures.snapshot(self.db, ["inventory"])["inventory"]
        tank = dict(fixtures.pull_capture_rows("inventory")[0], current_stock="1244.25",
                    created_at="2026-11-24T14:31:11.000000Z",
                    updated_at="2026-11-24T14:35:00.000000Z")
        r = self.server.push("inventory", [tank])
        self.assertEqual(self.assertJsonResponse(r, 200)["synced_count"], 1)
        self.assertEqual(fixtures.snapshot(self.db, ["inventory"])["inventory"], tanks)
        logged = self.conflicts("inventory", "1")
        self.assertEqual(len(logged), 1)
        self.assertEqual(json.loads(logged[0]["losing_row"])["current_stock"], "1244.25")

    def test_v1_id_collision_on_an_id_table_never_overwrites(self):
        master_row = fixtures.rows_as_dicts(self.db,
                                            "SELECT * FROM inventory_adjustments WHERE id = 1")[0]
        count = fixtures.query(self.db, "SELECT count(*) FROM inventory_adjustments")[0][0]
        other = {"id": 1, "user_id": 2, "type": "loss", "quantity_kg": "4.00",
                 "previous_stock": "40.00", "new_stock": "36.00", "reason": "depot B leak",
                 "notes": None, "created_at": "2026-11-24T14:31:00.000000Z",
                 "updated_at": "2026-11-24T14:31:00.000000Z"}
        r = self.server.push("inventory_adjustments", [other])
        self.assertEqual(self.assertJsonResponse(r, 200)["synced_count"], 1)
        self.assertEqual(fixtures.rows_as_dicts(
            self.db, "SELECT * FROM inventory_adjustments WHERE id = 1")[0], master_row)
        stored = fixtures.rows_as_dicts(self.db, "SELECT * FROM inventory_adjustments WHERE "
                                                 "reason = 'depot B leak'")
        self.assertEqual(len(stored), 1)
        self.assertNotEqual(stored[0]["id"], 1)
        self.assertEqual(stored[0]["created_at"], "2026-11-24 15:31:00")
        self.assertEqual(fixtures.query(self.db, "SELECT count(*) FROM inventory_adjustments")
                         [0][0], count + 1)
        # The same push again: recognised, no third row.
        self.assertJsonResponse(self.server.push("inventory_adjustments", [other]), 200)
        self.assertEqual(fixtures.query(self.db, "SELECT count(*) FROM inventory_adjustments")
                         [0][0], count + 1)

    def test_v2_pull_carries_the_password_but_never_remember_token(self):
        fixtures.execute(self.db, "UPDATE users SET remember_token = 'secret' WHERE id = 1")
        rows, _, _ = self.drain("users")
        self.assertTrue(rows)
        for row in rows:
            self.assertIn("password", row)
            self.assertNotIn("remember_token", row)
        admin = [r for r in rows if r["id"] == 1][0]
        self.assertEqual(admin["password"], fixtures.PASSWORD_HASH)
        settings, _, _ = self.drain("company_settings")
        for row in settings:
            self.assertNotIn("smtp_password", row)
        for row in self.server.pull("users").json()["data"]:
            self.assertFalse({"password", "remember_token"} & set(row))

    def test_a_push_waits_for_the_apps_write_lock(self):
        conn = fixtures.open_db(self.db)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE inventory SET notes = 'app holds the lock' WHERE id = 1")
        result = {}

        def push():
            result["r"] = self.server.push("transactions", [
                txn_row("TXN-20261124-LOCKED", "2026-11-24T14:45:00.000000Z")])
        t = threading.Thread(target=push)
        t.start()
        t.join(1.5)
        self.assertTrue(t.is_alive(), "the push did not wait for the lock")
        conn.execute("COMMIT")
        conn.close()
        t.join(30)
        self.assertEqual(self.assertJsonResponse(result["r"], 200)["synced_count"], 1)
        self.assertIsNotNone(self.txn("TXN-20261124-LOCKED"))

    # --- change capture ---------------------------------------------------------------------------

    def test_app_writes_reach_the_next_pull_even_with_an_old_updated_at(self):
        _, _, cursor = self.drain("transactions")
        number = "TXN-20261124-DIRECT"
        self.app_insert("transactions", txn_row(number, "2026-11-24T14:50:00.000000Z",
                                                notes="written by the app"))
        rows, _, cursor = self.drain("transactions", cursor)
        self.assertEqual([r["transaction_number"] for r in rows], [number])
        self.assertEqual(rows[0]["notes"], "written by the app")
        self.assertEqual(rows[0]["updated_at"], "2026-11-24T14:50:00.000000Z")
        # An update with an updated_at far in the past (a late row, a clock behind): the
        # cursor is a change sequence, not a clock, so the row still travels.
        fixtures.execute(self.db, "UPDATE transactions SET notes = 'late', updated_at = "
                                  "'2020-01-01 00:00:00' WHERE transaction_number = 'TXN-2026"
                                  "1124-FSFKFL'")
        rows, _, cursor = self.drain("transactions", cursor)
        self.assertEqual([(r["transaction_number"], r["notes"], r["updated_at"]) for r in rows],
                         [("TXN-20261124-FSFKFL", "late", "2019-12-31T23:00:00.000000Z")])
        # Nothing new: an empty page and the same cursor.
        rows, deleted, again = self.drain("transactions", cursor)
        self.assertEqual((rows, deleted, again), ([], [], cursor))


class MigrationRebuildTest(MasterTestCase):
    """A Laravel migration that changes a column rebuilds the table in SQLite and drops its
    capture triggers while the master keeps running. The server's watch notices within its
    interval, reinstalls them and logs the table's rows, so the writes made meanwhile reach a
    reader that had already followed the change log."""

    SERVER_ARGS = ("--capture-check-seconds", "1")
    drain = RulesTest.drain

    def test_writes_made_while_a_migration_dropped_the_triggers_still_reach_the_slaves(self):
        # A user the app adds (captured), which the app deletes again during the migration.
        fixtures.execute(self.db, "INSERT INTO users (id, name, email, password, created_at, "
                                  "updated_at) VALUES (77, 'Temp', 'temp@x', 'h', "
                                  "'2026-11-24 10:00:00', '2026-11-24 10:00:00')")
        rows, _, cursor = self.drain("users")
        self.assertIn(77, [r["id"] for r in rows])
        conn = fixtures.open_db(self.db)
        try:
            conn.execute("PRAGMA foreign_keys = OFF")
            sql = conn.execute("SELECT sql FROM sqlite_schema WHERE name = 'users'").fetchone()[0]
            conn.execute("BEGIN")
            conn.execute("CREATE TABLE __temp__users AS SELECT * FROM users")
            conn.execute("DROP TABLE users")
            conn.execute(sql)
            conn.execute("INSERT INTO users SELECT * FROM __temp__users")
            conn.execute("DROP TABLE __temp__users")
            conn.execute("CREATE UNIQUE INDEX users_email_unique ON users (email)")
            conn.execute("UPDATE users SET name = 'Renamed during the migration' WHERE id = 1")
            conn.execute("DELETE FROM users WHERE id = 77")
            conn.execute("COMMIT")
        finally:
            conn.close()
        deadline = time.monotonic() + 20
        rows, deleted = [], []
        while time.monotonic() < deadline:
            page, gone, next_cursor = self.drain("users", cursor)
            rows += page
            deleted += gone
            cursor = next_cursor
            if any(r["id"] == 1 and r["name"] == "Renamed during the migration" for r in rows):
                break
            time.sleep(0.2)
        self.assertTrue(any(r["id"] == 1 and r["name"] == "Renamed during the migration"
                            for r in rows), rows)
        # The delete made meanwhile travels too, in the same repair.
        self.assertNotIn(77, [r["id"] for r in rows])
        self.assertIn("77", deleted)  # a user's identity is its id
        triggers = fixtures.query(self.db, "SELECT name FROM sqlite_schema WHERE type = "
                                           "'trigger' AND tbl_name = 'users' ORDER BY name")
        self.assertEqual([t[0] for t in triggers],
                         ["ruxx_sync_users_ad", "ruxx_sync_users_ai", "ruxx_sync_users_au"])
        self.assertIn("Change capture triggers were missing", self.server.stderr_text())
        # Captured again as usual.
        fixtures.execute(self.db, "UPDATE users SET name = 'After the repair' WHERE id = 1")
        page, _, _ = self.drain("users", cursor)
        self.assertEqual([(r["id"], r["name"]) for r in page], [(1, "After the repair")])


class ReplacedMasterTest(MasterTestCase):

    def test_a_cursor_this_master_never_issued_is_refused(self):
        # A slave's cursor from before the master database was replaced (restored from an
        # older backup, a new server): following it would skip every change made until the
        # sequence catches up. It is refused, so the slave starts over instead.
        fixtures.execute(self.db, "UPDATE users SET name = name || ''")
        seq = fixtures.query(self.db, "SELECT max(seq) FROM ruxx_sync_changes")[0][0]
        self.assertEqual(seq, 2)
        for cursor in ["c%d" % (seq + 1), "c999999", "s999999-0", "s%d-1" % (seq + 5)]:
            with self.subTest(cursor=cursor):
                r = self.assertChangesNothing(
                    lambda: self.server.pull_v2("users", cursor, 100, "slave-old-cursor"))
                self.assertValidationFailed(r, "cursor")
        for cursor in ["c%d" % seq, "c0", "s%d-0" % seq]:
            with self.subTest(cursor=cursor):
                self.assertJsonResponse(self.server.pull_v2("users", cursor, 100), 200)


class EmptyMasterTest(MasterTestCase):
    SEED = False

    def test_company_settings_inserted_only_when_the_master_has_none(self):
        php = fixtures.capture("push_company_settings.txt")
        first = json.loads(php["request_body"])["data"][0]
        r = self.server.push("company_settings", [first])
        self.assertEqual(self.assertJsonResponse(r, 200)["synced_count"], 1)
        rows = fixtures.rows_as_dicts(self.db, "SELECT * FROM company_settings")
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["company_name"], "Ruxxen Slave Depot")
        self.assertEqual(rows[0]["updated_at"], "2026-11-24 15:29:40")
        second = json.loads(php["request_body"])["data"][1]
        r = self.server.push("company_settings", [second])
        self.assertJsonResponse(r, 200)
        self.assertEqual(fixtures.rows_as_dicts(self.db, "SELECT * FROM company_settings"),
                         rows)
        logged = fixtures.rows_as_dicts(self.db, "SELECT * FROM ruxx_sync_conflicts")
        self.assertEqual([json.loads(c["losing_row"])["company_name"] for c in logged],
                         ["Ruxxen Slave Depot 2"])


class PagingTest(MasterTestCase):
    SEED = False

    def insert_inventory(self, first, count):
        conn = fixtures.open_db(self.db)
        try:
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO inventory (id, current_stock, minimum_stock, price_per_kg, notes, "
                "created_at, updated_at) VALUES (?, ?, 100, 850.5, ?, '2026-11-24 15:00:00', "
                "'2026-11-24 15:00:00')",
                [(i, i, "tank %d" % i) for i in range(first, first + count)])
            conn.execute("COMMIT")
        finally:
            conn.close()

    def pages(self, cursor, limit):
        out = []
        for _ in range(100):
            body = self.assertJsonResponse(
                self.server.pull_v2("inventory", cursor, limit, "pager"), 200)
            out.append(body)
            cursor = body["cursor"]
            if not body["has_more"]:
                return out
        self.fail("has_more never became false")

    def test_paging_2500_rows_by_1000(self):
        self.insert_inventory(1, 2500)
        # From the start (empty cursor): a snapshot of the table, page by page.
        pages = self.pages("", 1000)
        self.assertEqual([len(p["data"]) for p in pages], [1000, 1000, 500])
        self.assertEqual([p["has_more"] for p in pages], [True, True, False])
        ids = [r["id"] for p in pages for r in p["data"]]
        self.assertEqual(sorted(ids), list(range(1, 2501)))
        self.assertEqual(len(set(ids)), 2500)
        for p in pages:
            self.assertEqual(p["count"], len(p["data"]))
            self.assertEqual(p["protocol"], 2)
            self.assertIsInstance(p["cursor"], str)
            self.assertTrue(p["cursor"])
        cursor = pages[-1]["cursor"]
        # From a cursor: the change stream, page by page.
        self.insert_inventory(10001, 2500)
        pages = self.pages(cursor, 1000)
        self.assertEqual([len(p["data"]) for p in pages], [1000, 1000, 500])
        self.assertEqual([p["has_more"] for p in pages], [True, True, False])
        ids = [r["id"] for p in pages for r in p["data"]]
        self.assertEqual(sorted(ids), list(range(10001, 12501)))
        # Rows changed between pages come once, with their latest values.
        cursor = pages[-1]["cursor"]
        fixtures.execute(self.db, "UPDATE inventory SET notes = 'changed' WHERE id <= 1500")
        first = self.assertJsonResponse(
            self.server.pull_v2("inventory", cursor, 1000, "pager"), 200)
        fixtures.execute(self.db, "UPDATE inventory SET notes = 'changed twice' WHERE id <= 10")
        rest = self.pages(first["cursor"], 1000)
        seen = [r["id"] for r in first["data"]] + [r["id"] for p in rest for r in p["data"]]
        self.assertEqual(sorted(set(seen)), list(range(1, 1501)))
        latest = {r["id"]: r["notes"] for p in [first] + rest for r in p["data"]}
        self.assertEqual(latest[5], "changed twice")


if __name__ == "__main__":
    unittest.main()
