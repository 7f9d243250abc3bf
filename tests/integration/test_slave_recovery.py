"""slave-agent recovery never loses a local sale (DESIGN.md section 5 "Recovery",
docs/SYNC_DESIGN.md "Recovery"): before a readable database is rebuilt its pending changes are
pushed (and a failed push replaces nothing); a sale the app makes while the recovery downloads
survives, also through the connection the app held open all along; the service retries the
recovery with a backoff that SIGTERM interrupts; `status` works on a fresh app database."""

import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from support import fixtures
from support.master import base_env
from support.slave_support import (KEY, LosingProxy, SlaveTestCase, _read_request, closed_port,
                                   describe, run_slave, sell, slave_binary, stock)
from support.slave_support import Master, master_binary
from test_slave_service import wait_for

FAST = ("--retries", "2", "--timeout", "5")


def numbers(db):
    return {n for (n,) in fixtures.query(db, "SELECT transaction_number FROM transactions")}


def read(path):
    with open(path) as f:
        return f.read()


class SlowProxy(LosingProxy):
    """A real master behind a proxy that holds every pull answer back `delay` seconds (a slow
    link), so a recovery takes long enough for the app to write meanwhile."""

    def __init__(self, master, delay):
        def slow(method, path, index):
            if path == "/api/sync/pull":
                time.sleep(delay)
            return False
        super().__init__(master.host, master.port, slow)


class PushRefusingProxy(LosingProxy):
    """A real master behind a proxy that answers every push with 503 without forwarding it (the
    master is reachable for reads but cannot take writes); other requests go through."""

    def __init__(self, master):
        super().__init__(master.host, master.port, lambda *a: False)

    def _handle(self, client):
        client.settimeout(30)
        try:
            head = client.recv(8, socket.MSG_PEEK)
        except OSError:
            client.close()
            return
        if not head.startswith(b"POST"):
            return super()._handle(client)
        try:
            _read_request(client)
            body = b'{"error":"Service Unavailable"}'
            client.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json"
                           b"\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
        except OSError:
            pass
        finally:
            client.close()


class FixedPortMaster(Master):
    """A master listening on a port chosen beforehand (the service already dials it)."""

    def __init__(self, db, port):
        super().__init__(db)
        self.fixed_port = port

    def command(self):
        return [master_binary(), "--db", self.db, "--listen",
                "127.0.0.1:%d" % self.fixed_port] + self.args


class RecoveryTestCase(SlaveTestCase):

    def setUp(self):
        super().setUp()
        self.mdb = self.master_db()
        self.master = self.start_master(self.mdb)
        self.slave = self.path("slave.sqlite")
        self.sync(self.slave, self.master)

    def assertPending(self, db, count):
        self.assertEqual(fixtures.query(db, "SELECT count(*) FROM ruxx_sync_changes")[0][0], count)


class PushBeforeRecoveryTest(RecoveryTestCase):

    def test_recover_pushes_the_unsynced_sales_first(self):
        start = stock(self.mdb)
        sold = {sell(self.slave, "2"), sell(self.slave, "3")}
        result = run_slave(self.slave, self.master.url, "--recover", *FAST, once=False)
        self.assertEqual(result.returncode, 0, describe(result))
        self.assertLessEqual(sold, numbers(self.mdb), "the sales reached the master")
        self.assertLessEqual(sold, numbers(self.slave), "and are in the recovered file")
        self.assertAlmostEqual(float(stock(self.mdb)), float(start) - 5)
        self.assertAlmostEqual(float(stock(self.slave)), float(stock(self.mdb)))
        self.assertPending(self.slave, 0)

    def test_a_dropped_table_is_recovered_without_losing_sales_or_master_rows(self):
        # A broken migration dropped inventory: --force finds the table missing and recovers.
        # The sale is pushed first; inventory's pending entries (rows that are gone) are not
        # sent as deletes of the master's tanks.
        tanks = fixtures.snapshot(self.mdb, ["inventory"])
        sold = sell(self.slave, "4")
        fixtures.execute(self.slave, "DROP TABLE inventory")
        result = run_slave(self.slave, self.master.url, "--force", *FAST)
        self.assertEqual(result.returncode, 0, describe(result))
        self.assertIn("needs recovery", result.stderr)
        self.assertIn(sold, numbers(self.mdb))
        self.assertIn(sold, numbers(self.slave))
        self.assertEqual(len(fixtures.query(self.mdb, "SELECT id FROM inventory")),
                         len(tanks["inventory"]), "no tank was deleted at the master")
        self.assertEqual(fixtures.snapshot(self.slave, ["inventory"]),
                         fixtures.snapshot(self.mdb, ["inventory"]))

    def test_a_push_that_fails_replaces_nothing(self):
        sold = sell(self.slave, "2")
        before = fixtures.snapshot(self.slave, fixtures.SYNCED_TABLES + ["ruxx_sync_changes"])
        with PushRefusingProxy(self.master) as proxy:
            result = run_slave(self.slave, proxy.url, "--recover", *FAST, once=False)
        self.assertEqual(result.returncode, 3, describe(result))
        self.assertEqual(fixtures.snapshot(self.slave,
                                           fixtures.SYNCED_TABLES + ["ruxx_sync_changes"]),
                         before, "the old database is untouched, the sale still pending")
        self.assertNotIn(sold, numbers(self.mdb))
        self.assertFalse(os.path.exists(self.slave + ".recovering"))
        # With the master back, the next recovery pushes it.
        result = run_slave(self.slave, self.master.url, "--recover", *FAST, once=False)
        self.assertEqual(result.returncode, 0, describe(result))
        self.assertIn(sold, numbers(self.mdb))
        self.assertIn(sold, numbers(self.slave))


    def test_a_row_the_master_refuses_stops_the_recovery_after_pushing_the_rest(self):
        # Two rows the master refuses (422 naming them): a cashier edited by hand to an
        # is_active that is no boolean, and a sale written by hand without updated_at. A
        # readable file is replaced only once nothing local is unsent, so the recovery cannot
        # finish; it still pushes every other pending row, then stops and replaces nothing.
        fixtures.execute(self.slave, "UPDATE users SET is_active = 'maybe', updated_at = "
                         "'2026-12-04 10:00:00' WHERE id = 2")
        sold_before = sell(self.slave, "2")
        fixtures.execute(self.slave, "INSERT INTO transactions (transaction_number, cashier_id, "
                         "quantity_kg, price_per_kg, total_amount, status, created_at, "
                         "updated_at) VALUES ('TXN-BY-HAND', 2, 1, 850.50, 850.50, 'completed', "
                         "'2026-12-04 10:00:00', NULL)")
        sold_after = sell(self.slave, "3")
        result = run_slave(self.slave, self.master.url, "--recover", *FAST, once=False)
        self.assertEqual(result.returncode, 4, describe(result))
        self.assertRegex(result.stderr, r"recovery stopped before replacing anything: the "
                         r"master refused pending users, transactions rows")
        self.assertRegex(result.stderr, r"refused a transactions row.*\"id\":\d+.*updated_at")
        # The depot's other sales reached the master, once; the refused ones did not.
        count = "SELECT count(*) FROM transactions WHERE transaction_number = ?"
        for number, stored in ((sold_before, 1), (sold_after, 1), ("TXN-BY-HAND", 0)):
            self.assertEqual(fixtures.query(self.mdb, count, (number,)), [(stored,)], number)
        # Nothing was replaced or moved aside; the refused rows are still here and pending.
        self.assertEqual(fixtures.query(self.slave, "SELECT is_active FROM users WHERE id = 2"),
                         [("maybe",)])
        for number in (sold_before, sold_after, "TXN-BY-HAND"):
            self.assertEqual(fixtures.query(self.slave, count, (number,)), [(1,)], number)
        pending = fixtures.query(self.slave, "SELECT table_name, count(*) FROM ruxx_sync_changes "
                                 "GROUP BY table_name ORDER BY table_name")
        self.assertEqual(pending, [("transactions", 1), ("users", 1)])
        leftovers = [n for n in os.listdir(os.path.dirname(self.slave))
                     if n.startswith("slave.sqlite.") and n != "slave.sqlite.sync-lock"]
        self.assertEqual(leftovers, [], "no .recovering file and no copy set aside")
        # Corrected at the depot, the next recovery pushes them, once, and finishes.
        fixtures.execute(self.slave, "UPDATE users SET is_active = 1 WHERE id = 2")
        fixtures.execute(self.slave, "UPDATE transactions SET updated_at = created_at WHERE "
                         "transaction_number = 'TXN-BY-HAND'")
        result = run_slave(self.slave, self.master.url, "--recover", *FAST, once=False)
        self.assertEqual(result.returncode, 0, describe(result))
        for number in (sold_before, sold_after, "TXN-BY-HAND"):
            self.assertEqual(fixtures.query(self.mdb, count, (number,)), [(1,)], number)
            self.assertEqual(fixtures.query(self.slave, count, (number,)), [(1,)], number)
        rows = ["users", "inventory", "transactions", "inventory_adjustments"]
        self.assertEqual(fixtures.snapshot(self.slave, rows), fixtures.snapshot(self.mdb, rows))
        self.assertPending(self.slave, 0)


class WritesDuringRecoveryTest(RecoveryTestCase):

    def test_a_sale_made_during_a_slow_recovery_survives(self):
        fixtures.execute(self.mdb, "UPDATE users SET name = 'Renamed' WHERE id = 2")
        # The app keeps its connection open across the recovery, as PHP-FPM workers do.
        app = fixtures.open_db(self.slave)
        self.addCleanup(app.close)
        with SlowProxy(self.master, 0.6) as proxy:
            agent = subprocess.Popen(
                [slave_binary(), "--db", self.slave, "--master-url", proxy.url, "--recover",
                 *FAST], env=base_env(APP_MODE="slave", SYNC_API_KEY=KEY),
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True)
            self.assertTrue(wait_for(lambda: proxy.count("GET", "/api/sync/pull") >= 2, 30),
                            "the recovery did not start downloading")
            during = sell(self.slave, "1.5", conn=app)
            out, err = agent.communicate(timeout=120)
        self.assertEqual(agent.returncode, 0, err[-4000:])
        self.assertIn(during, numbers(self.mdb), "the sale reached the master")
        self.assertIn(during, numbers(self.slave), "the sale is in the live file")
        # The app's open connection sees the recovered state, not a file moved aside.
        names = app.execute("SELECT name FROM users WHERE id = 2").fetchall()
        self.assertEqual(names, [("Renamed",)])
        got = {n for (n,) in app.execute("SELECT transaction_number FROM transactions")}
        self.assertIn(during, got)
        self.assertPending(self.slave, 0)
        self.assertEqual(len([p for p in os.listdir(self.tmp) if ".damaged-" in p
                              and not p.endswith(("-wal", "-shm"))]), 1,
                         "a copy of the old state is kept")


class ServiceRetryTest(SlaveTestCase):

    def start_service(self, db, url, *args):
        log = tempfile.NamedTemporaryFile(dir=self.tmp, suffix=".log", delete=False)
        proc = subprocess.Popen(
            [slave_binary(), "--db", db, "--master-url", url, "--retries", "1", "--timeout", "5",
             *args], env=base_env(APP_MODE="slave", SYNC_API_KEY=KEY),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)

        def cleanup():
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
            log.close()
        self.addCleanup(cleanup)
        return proc, log.name

    def stop(self, proc, within):
        start = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=within + 10)
        self.assertEqual(proc.returncode, 0)
        self.assertLess(time.monotonic() - start, within)

    def test_the_service_retries_the_recovery_until_the_master_answers(self):
        mdb = self.master_db()
        slave = fixtures.make_app_db(self.path("slave.sqlite"))  # migrated, no rows: recover
        port = closed_port()
        proc, log = self.start_service(slave, "http://127.0.0.1:%d" % port)
        self.assertTrue(wait_for(lambda: "retrying" in read(log), 20), read(log))
        master = FixedPortMaster(mdb, port).start()
        self.addCleanup(master.kill)
        self.assertTrue(wait_for(lambda: fixtures.query(slave, "SELECT count(*) FROM users")[0][0]
                                 > 0, 40), read(log))
        self.stop(proc, 5)
        self.assertEqual(fixtures.snapshot(slave, ["users", "inventory"]),
                         fixtures.snapshot(mdb, ["users", "inventory"]))

    def test_sigterm_interrupts_the_backoff(self):
        slave = fixtures.make_app_db(self.path("slave.sqlite"))
        proc, log = self.start_service(slave, "http://127.0.0.1:%d" % closed_port())
        self.assertTrue(wait_for(lambda: "retrying" in read(log), 20), read(log))
        self.stop(proc, 3)


class StatusTest(SlaveTestCase):

    def test_status_on_a_fresh_app_database_is_0(self):
        db = fixtures.make_app_db(self.path("fresh.sqlite"))
        result = run_slave(db, None, "status", once=False)
        self.assertEqual(result.returncode, 0, describe(result))
        self.assertIn("transactions", result.stdout)
        self.assertIn("never", result.stdout)


if __name__ == "__main__":
    unittest.main()
