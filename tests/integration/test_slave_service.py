"""slave-agent as a service (no --once) and its `status` and `schedule` commands (DESIGN.md
section 5): the service syncs at start, keeps the lock while it runs, and exits 0 within a few
seconds of SIGTERM/SIGINT; `schedule` prints `JOB YYYY-MM-DD HH:MM` lines in APP_TIMEZONE;
`status` lists the five tables with their last sync and pending changes."""

import re
import signal
import subprocess
import time
import unittest
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from support import fixtures
from support.slave_support import (KEY, SlaveTestCase, describe, run_slave, sell,
                                   start_slave_service, stock)

LINE = re.compile(r"^(run|company-settings) (\d{4}-\d{2}-\d{2} \d{2}:\d{2})$")


def wait_for(predicate, timeout, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


class ServiceTest(SlaveTestCase):

    def setUp(self):
        super().setUp()
        self.start_synced_pair()

    def start_service(self, *args):
        proc = start_slave_service(self.slave, self.master.url, "--schedule-run", "* * * * *",
                                   *args)

        def cleanup():
            if proc.poll() is None:
                proc.kill()
            proc.communicate(timeout=10)
        self.addCleanup(cleanup)
        return proc

    def stop_service(self, proc, signum=signal.SIGTERM, within=5.0):
        proc.send_signal(signum)
        start = time.monotonic()
        try:
            out, err = proc.communicate(timeout=within + 10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            self.fail("the service did not stop after signal %d:\n%s" % (signum, err[-3000:]))
        elapsed = time.monotonic() - start
        self.assertEqual(proc.returncode, 0, err[-3000:])
        self.assertLess(elapsed, within, "took %.1fs to stop" % elapsed)
        self.assertNotIn(KEY, out + err, "the API key leaked")
        return out, err

    def master_has(self, number):
        return fixtures.query(self.mdb, "SELECT count(*) FROM transactions WHERE "
                              "transaction_number = ?", (number,))[0][0] == 1

    def test_the_service_syncs_at_start_and_stops_on_sigterm(self):
        number = sell(self.slave, "3")
        proc = self.start_service()
        self.assertTrue(wait_for(lambda: self.master_has(number) or proc.poll() is not None, 20),
                        "the sale did not reach the master")
        self.assertIsNone(proc.poll(), "the service exited on its own")
        self.assertTrue(self.master_has(number))
        # A --once run beside the service either finds the lock held (6) or syncs between two
        # service runs (0); it never fails on the database.
        r = run_slave(self.slave, self.master.url)
        self.assertIn(r.returncode, (0, 6), describe(r))
        out, err = self.stop_service(proc)
        self.assertIn("started as a service", err)

    def test_sigterm_during_a_long_sync_stops_promptly_and_loses_nothing(self):
        conn = fixtures.open_db(self.slave)
        conn.execute("PRAGMA synchronous = OFF")
        try:
            numbers = [sell(self.slave, "0.5", conn=conn, number="TXN-20261124-T%05d" % i)
                       for i in range(4000)]
        finally:
            conn.close()
        proc = self.start_service("--page-rows", "100")
        self.assertTrue(wait_for(lambda: proc.poll() is not None or fixtures.query(
            self.mdb, "SELECT count(*) FROM transactions")[0][0] > 1, 20, step=0.02))
        self.stop_service(proc)
        # Whatever the service had done, the next run finishes the job: every sale once.
        self.sync(self.slave, self.master)
        at_master = dict(fixtures.query(self.mdb, "SELECT transaction_number, count(*) FROM "
                                        "transactions GROUP BY transaction_number"))
        self.assertEqual([n for n in numbers if at_master.get(n) != 1], [])
        self.assertAlmostEqual(stock(self.mdb), 1250.25 - 2000, places=4)
        self.assertAlmostEqual(stock(self.slave), 1250.25 - 2000, places=4)

    def test_sigint_also_stops_the_service(self):
        proc = self.start_service()
        self.assertTrue(wait_for(
            lambda: proc.poll() is not None or fixtures.query(
                self.slave, "SELECT count(*) FROM sync_logs")[0][0] > 0, 20))
        time.sleep(0.3)
        self.stop_service(proc, signal.SIGINT)

    def test_a_master_down_at_start_does_not_stop_the_service(self):
        proc = start_slave_service(self.slave, "http://127.0.0.1:1", "--schedule-run",
                                   "* * * * *", "--retries", "1")
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        time.sleep(1.5)
        self.assertIsNone(proc.poll(), "the service must keep waiting for the next slot")
        self.stop_service(proc)


class CaptureWatchTest(SlaveTestCase):
    """A depot app migration that rebuilds a table (Laravel's way of changing a column on
    SQLite) drops its capture triggers. Between two scheduled runs the service puts them back
    within --capture-check-seconds, so a sale deleted right after the migration still reaches
    the master as a delete (the run's own check would come too late for it)."""

    stop_service = ServiceTest.stop_service
    master_has = ServiceTest.master_has

    def setUp(self):
        super().setUp()
        self.start_synced_pair()

    def rebuild(self, table):
        conn = fixtures.open_db(self.slave)
        try:
            conn.execute("PRAGMA foreign_keys = OFF")
            sql = conn.execute("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?",
                               (table,)).fetchone()[0]
            indexes = [r[0] for r in conn.execute(
                "SELECT sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = ? AND sql "
                "IS NOT NULL", (table,))]
            conn.execute("BEGIN")
            conn.execute('CREATE TABLE "__temp__%s" AS SELECT * FROM "%s"' % (table, table))
            conn.execute('DROP TABLE "%s"' % table)
            conn.execute(sql)
            conn.execute('INSERT INTO "%s" SELECT * FROM "__temp__%s"' % (table, table))
            conn.execute('DROP TABLE "__temp__%s"' % table)
            for index in indexes:
                conn.execute(index)
            conn.execute("COMMIT")
        finally:
            conn.close()

    def triggers(self, table):
        return [r[0] for r in fixtures.query(
            self.slave, "SELECT name FROM sqlite_schema WHERE type = 'trigger' AND tbl_name = ? "
                        "ORDER BY name", (table,))]

    def test_a_delete_right_after_a_migration_reaches_the_master(self):
        number = fixtures.query(self.slave, "SELECT transaction_number FROM transactions "
                                            "ORDER BY id LIMIT 1")[0][0]
        self.assertTrue(self.master_has(number))
        synced = lambda: fixtures.query(self.slave, "SELECT group_concat(table_name || "
                                                    "last_synced_at) FROM sync_logs")[0][0]
        before = synced()
        time.sleep(1.1)  # so the service's start-up sync leaves other timestamps
        # No scheduled run during the test (1 January at midnight): only the watch can act.
        proc = start_slave_service(self.slave, self.master.url, "--schedule-run", "0 0 1 1 *",
                                   "--capture-check-seconds", "1")
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        self.assertTrue(wait_for(lambda: proc.poll() is not None or synced() != before, 20))
        self.assertIsNone(proc.poll(), "the service exited on its own")
        time.sleep(0.5)  # the start-up run's last step
        captured = self.triggers("transactions")
        self.rebuild("transactions")
        self.assertEqual(self.triggers("transactions"), [])
        self.assertTrue(wait_for(lambda: self.triggers("transactions") == captured, 10),
                        "the triggers did not come back between runs")
        fixtures.execute(self.slave, "DELETE FROM transactions WHERE transaction_number = ?",
                         (number,))
        _, err = self.stop_service(proc)
        self.assertIn("Change capture triggers were missing", err)
        self.sync(self.slave, self.master)
        self.assertFalse(self.master_has(number), "the delete did not reach the master")


class CommandsTest(SlaveTestCase):

    def test_schedule_prints_the_next_fire_times_in_the_app_zone(self):
        for zone in ("Africa/Lagos", "America/New_York"):
            with self.subTest(zone=zone):
                r = run_slave(None, None, "schedule", "--count", "3", once=False,
                              env={"APP_TIMEZONE": zone})
                self.assertEqual(r.returncode, 0, describe(r))
                lines = r.stdout.splitlines()
                self.assertEqual(len(lines), 6, r.stdout)
                parsed = []
                for line in lines:
                    m = LINE.match(line)
                    self.assertIsNotNone(m, "bad line %r" % line)
                    parsed.append((m.group(1), datetime.strptime(m.group(2), "%Y-%m-%d %H:%M")))
                now = datetime.now(ZoneInfo(zone)).replace(tzinfo=None, second=0, microsecond=0)
                runs = [t for job, t in parsed if job == "run"]
                settings = [t for job, t in parsed if job == "company-settings"]
                self.assertEqual(len(runs), 3)
                self.assertEqual(len(settings), 3)
                self.assertTrue(all(t.minute % 15 == 0 for t in runs), runs)
                self.assertEqual([b - a for a, b in zip(runs, runs[1:])],
                                 [timedelta(minutes=15)] * 2)
                self.assertGreater(runs[0], now - timedelta(minutes=1))
                self.assertLessEqual(runs[0], now + timedelta(minutes=15))
                self.assertTrue(all((t.hour, t.minute) == (0, 0) for t in settings), settings)
                self.assertEqual([(b - a).days for a, b in zip(settings, settings[1:])], [1, 1])
                self.assertGreater(settings[0], now - timedelta(minutes=1))
                self.assertLessEqual(settings[0], now + timedelta(days=1))

    def test_schedule_follows_the_schedule_flags(self):
        r = run_slave(None, None, "schedule", "--count", "2", "--schedule-run", "30 6 * * *",
                      "--schedule-company-settings", "@hourly", once=False)
        self.assertEqual(r.returncode, 0, describe(r))
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 4, r.stdout)
        self.assertTrue(all(LINE.match(line) for line in lines), lines)
        self.assertTrue(lines[0].endswith(" 06:30") and lines[1].endswith(" 06:30"), lines)
        self.assertTrue(lines[2].endswith(":00") and lines[3].endswith(":00"), lines)
        bad = run_slave(None, None, "schedule", "--schedule-run", "61 * * * *", once=False)
        self.assertEqual(bad.returncode, 2, describe(bad))

    def test_status_lists_the_five_tables_with_pending_changes(self):
        mdb = self.master_db()
        master = self.start_master(mdb)
        slave = self.path("slave.sqlite")
        self.sync(slave, master)
        sell(slave, "2")
        sell(slave, "3")
        r = run_slave(slave, None, "status", once=False)
        self.assertEqual(r.returncode, 0, describe(r))
        rows = {}
        for line in r.stdout.splitlines():
            parts = line.split()
            if parts and parts[0] in fixtures.SYNCED_TABLES:
                rows[parts[0]] = parts
        self.assertEqual(sorted(rows), sorted(fixtures.SYNCED_TABLES), r.stdout)
        self.assertEqual(rows["transactions"][-1], "2", r.stdout)
        self.assertEqual(rows["inventory"][-1], "1", r.stdout)
        self.assertEqual(rows["users"][-1], "0", r.stdout)
        self.assertNotIn("never", " ".join(rows["transactions"]), r.stdout)
        # Status only reads: the pending changes are still there and still go out.
        self.sync(slave, master)
        r = run_slave(slave, None, "status", once=False)
        self.assertEqual(r.returncode, 0, describe(r))
        for line in r.stdout.splitlines():
            parts = line.split()
            if parts and parts[0] in fixtures.SYNCED_TABLES:
                self.assertEqual(parts[-1], "0", line)


if __name__ == "__main__":
    unittest.main()
