"""slave-agent failure paths and their exit codes (DESIGN.md section 5): master down (3, quickly),
wrong key (4), a master answering 500 (3), a connection cut mid-body (3), a corrupted database
(recovered, old file moved aside, 0), the lock held by another run (6), an unparseable .env,
a bad cron expression, APP_MODE not slave, a missing key (2). A failed run never touches the
local data."""

import fcntl
import glob
import os
import sqlite3
import re
import time
import unittest

from support import fixtures
from support.slave_support import (KEY, ErrorServer, LosingProxy, SilentServer, SlaveTestCase,
                                   TruncatingServer, closed_port, describe, run_slave, sell,
                                   stock)

FAST = ("--retries", "2", "--timeout", "5")


def aside(db):
    """The files a recovery moved `db` to (without their -wal/-shm sidecars)."""
    return [p for p in glob.glob(db + ".damaged-*") if re.fullmatch(r".*\.damaged-[0-9-]+", p)]


class FailureTestCase(SlaveTestCase):

    def run_expect(self, code, db, url, *args, max_seconds=None, **kw):
        start = time.monotonic()
        result = run_slave(db, url, *args, **kw)
        elapsed = time.monotonic() - start
        self.assertEqual(result.returncode, code, describe(result))
        self.assertNotIn(KEY, result.stdout + result.stderr, "the API key leaked")
        if max_seconds is not None:
            self.assertLess(elapsed, max_seconds, "took %.1fs" % elapsed)
        if code != 0:
            self.assertTrue(result.stderr.strip(), "a failure must say why on stderr")
        return result

    def synced_slave(self, master, name="slave.sqlite"):
        db = self.path(name)
        self.sync(db, master)
        return db


class MasterFailureTest(FailureTestCase):
    """Each case starts from a synced slave with one pending sale, which must stay pending."""

    def setUp(self):
        super().setUp()
        self.mdb = self.master_db()
        self.master = self.start_master(self.mdb)
        self.slave = self.synced_slave(self.master)
        sell(self.slave, "2")
        self.before = fixtures.snapshot(self.slave, fixtures.SYNCED_TABLES + ["ruxx_sync_changes"])

    def assertSlaveUnchanged(self):
        after = fixtures.snapshot(self.slave, fixtures.SYNCED_TABLES + ["ruxx_sync_changes"])
        self.assertEqual(after, self.before)

    def test_master_down_is_3_without_hanging(self):
        url = "http://127.0.0.1:%d" % closed_port()
        self.run_expect(3, self.slave, url, *FAST, max_seconds=20)
        self.assertSlaveUnchanged()
        # The pending sale goes out once the master is back.
        self.sync(self.slave, self.master)
        self.assertEqual(fixtures.query(self.mdb, "SELECT count(*) FROM transactions")[0][0], 2)

    def test_unroutable_host_name_is_3(self):
        self.run_expect(3, self.slave, "http://no-such-host.invalid:8080", *FAST, max_seconds=30)
        self.assertSlaveUnchanged()

    def test_wrong_key_is_4(self):
        r = self.run_expect(4, self.slave, self.master.url, *FAST, key="wrong-key-but-long-enough",
                            max_seconds=20)
        self.assertIn("401", r.stderr)
        self.assertSlaveUnchanged()
        self.assertEqual(fixtures.query(self.mdb, "SELECT count(*) FROM transactions")[0][0], 1)

    def test_a_master_answering_500_is_3_after_the_retries(self):
        with ErrorServer(500) as server:
            self.run_expect(3, self.slave, server.url, *FAST, max_seconds=30)
            self.assertGreaterEqual(server.requests, 2, "a 5xx is retried")
            self.assertLessEqual(server.requests, 10)
        self.assertSlaveUnchanged()

    def test_a_master_answering_404_to_everything_is_rejected(self):
        # A URL pointing at some other web server: not our master.
        with ErrorServer(404) as server:
            self.run_expect(4, self.slave, server.url, *FAST, max_seconds=30)
        self.assertSlaveUnchanged()

    def test_a_connection_cut_mid_body_is_3(self):
        with TruncatingServer() as server:
            self.run_expect(3, self.slave, server.url, *FAST, max_seconds=30)
            self.assertGreaterEqual(server.connections, 1)
        self.assertSlaveUnchanged()
        self.sync(self.slave, self.master)
        self.assertEqual(fixtures.query(self.mdb, "SELECT count(*) FROM transactions")[0][0], 2)

    def test_a_master_that_never_answers_times_out_with_3(self):
        with SilentServer() as server:
            self.run_expect(3, self.slave, server.url, "--retries", "2", "--timeout", "2",
                            max_seconds=25)
        self.assertSlaveUnchanged()

    def assertSaleCountedOnce(self):
        self.assertEqual(fixtures.query(self.mdb, "SELECT count(*) FROM transactions")[0][0], 2)
        self.assertAlmostEqual(stock(self.mdb), 1250.25 - 2, places=6)
        self.assertAlmostEqual(stock(self.slave), 1250.25 - 2, places=6)
        self.assertEqual(fixtures.query(self.slave, "SELECT count(*) FROM ruxx_sync_changes"),
                         [(0,)])

    def test_push_answers_lost_on_the_way_back_are_retried_and_applied_once(self):
        # Every first attempt of a push reaches the master, which applies it; its answer is lost.
        with LosingProxy(self.master.host, self.master.port,
                         lambda method, path, i: method == "POST" and i % 2 == 0) as proxy:
            self.run_expect(0, self.slave, proxy.url, *FAST)
            self.assertGreaterEqual(len(proxy.lost), 2, proxy.seen)
        self.assertSaleCountedOnce()
        self.sync(self.slave, self.master)
        self.assertSaleCountedOnce()

    def test_a_batch_whose_answers_were_all_lost_is_applied_once_by_a_later_run(self):
        with LosingProxy(self.master.host, self.master.port,
                         lambda method, path, i: method == "POST") as proxy:
            self.run_expect(3, self.slave, proxy.url, *FAST, max_seconds=30)
            self.assertGreaterEqual(len(proxy.lost), 1)
        # The master applied the batch; the slave still has it in its outbox and resends it.
        self.sync(self.slave, self.master)
        self.assertSaleCountedOnce()

    def test_a_fresh_slave_with_the_master_down_keeps_nothing_half_made(self):
        fresh = self.path("fresh.sqlite")
        self.run_expect(3, fresh, "http://127.0.0.1:%d" % closed_port(), *FAST, max_seconds=20)
        self.assertFalse(os.path.exists(fresh + ".recovering"))
        self.assertEqual(aside(fresh), [])
        # The next run with the master up recovers it.
        self.sync(fresh, self.master)
        self.assertEqual(fixtures.query(fresh, "SELECT count(*) FROM users")[0][0], 2)


class DatabaseFailureTest(FailureTestCase):

    def setUp(self):
        super().setUp()
        self.mdb = self.master_db()
        self.master = self.start_master(self.mdb)

    def corrupt(self, db, offset, length):
        with open(db, "r+b") as f:
            f.seek(offset)
            f.write(bytes((i * 37 + 11) % 256 for i in range(length)))

    def check_recovered(self, db):
        self.assertEqual(len(aside(db)), 1, os.listdir(self.tmp))
        self.assertEqual(fixtures.query(db, "PRAGMA quick_check"), [("ok",)])
        for table in ("users", "inventory", "transactions", "inventory_adjustments"):
            self.assertEqual(fixtures.snapshot(db, [table]), fixtures.snapshot(self.mdb, [table]),
                             table)
        self.assertAlmostEqual(stock(db), stock(self.mdb))

    def test_pages_overwritten_in_the_middle_are_recovered(self):
        db = self.synced_slave(self.master)
        # A checkpointed file: every table's b-tree page is in the main file.
        fixtures.execute(db, "PRAGMA wal_checkpoint(TRUNCATE)")
        size = os.path.getsize(db)
        self.assertGreater(size, 8 * 4096)
        original = open(db, "rb").read()
        self.corrupt(db, 4096, size - 2 * 4096)  # every page but the first and the last
        self.run_expect(0, db, self.master.url, *FAST)
        self.check_recovered(db)
        moved = aside(db)[0]
        self.assertEqual(open(moved, "rb").read()[:4096], original[:4096],
                         "the damaged file is kept as it was, not deleted")

    def test_a_destroyed_header_is_recovered(self):
        db = self.synced_slave(self.master)
        fixtures.execute(db, "PRAGMA wal_checkpoint(TRUNCATE)")
        self.corrupt(db, 0, 100)
        self.run_expect(0, db, self.master.url, *FAST)
        self.check_recovered(db)

    def test_a_corrupted_file_with_the_master_down_is_left_in_place(self):
        db = self.synced_slave(self.master)
        fixtures.execute(db, "PRAGMA wal_checkpoint(TRUNCATE)")
        self.corrupt(db, 0, 100)
        damaged = open(db, "rb").read()
        self.run_expect(3, db, "http://127.0.0.1:%d" % closed_port(), *FAST, max_seconds=20)
        self.assertEqual(open(db, "rb").read(), damaged, "the old state is not replaced")
        self.assertEqual(aside(db), [])

    def test_a_master_row_breaking_a_check_constraint_fails_the_recovery_and_replaces_nothing(self):
        # The recovery fills its file with CHECK constraints off (they cost an ephemeral table
        # per row) and relies on the quick_check that follows to evaluate them: a row that
        # breaks one must still stop the recovery before the file replaces anything.
        db = self.synced_slave(self.master)
        fixtures.execute(db, "PRAGMA wal_checkpoint(TRUNCATE)")
        self.corrupt(db, 0, 100)
        damaged = open(db, "rb").read()
        con = sqlite3.connect(self.mdb)
        con.execute("PRAGMA ignore_check_constraints = ON")
        con.execute("UPDATE transactions SET status = 'stolen' WHERE id = 1")
        con.commit()
        con.close()
        r = self.run_expect(5, db, self.master.url, *FAST)
        self.assertIn("quick_check", r.stdout + r.stderr)
        self.assertEqual(open(db, "rb").read(), damaged, "the damaged file stays where it was")
        self.assertEqual(aside(db), [])
        self.assertFalse(os.path.exists(db + ".recovering"))

    def test_the_lock_held_by_another_run_is_6(self):
        db = self.synced_slave(self.master)
        sell(db, "1")
        with open(db + ".sync-lock", "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self.run_expect(6, db, self.master.url, *FAST, max_seconds=10)
            self.run_expect(6, db, self.master.url, "--recover", *FAST, max_seconds=10)
        self.assertEqual(fixtures.query(self.mdb, "SELECT count(*) FROM transactions")[0][0], 1)
        # Released: the next run goes through and pushes the sale.
        self.sync(db, self.master)
        self.assertEqual(fixtures.query(self.mdb, "SELECT count(*) FROM transactions")[0][0], 2)

    def test_recover_rebuilds_a_healthy_database_from_the_master(self):
        db = self.synced_slave(self.master)
        fixtures.execute(self.mdb, "UPDATE users SET name = 'Changed' WHERE id = 2")
        fixtures.execute(db, "DELETE FROM inventory_adjustments")  # app-side damage
        self.run_expect(0, db, self.master.url, "--recover", *FAST, once=False)
        self.assertEqual(len(aside(db)), 1)
        self.assertEqual(fixtures.query(db, "SELECT name FROM users WHERE id = 2"), [("Changed",)])
        self.assertEqual(fixtures.snapshot(db, ["inventory_adjustments"]),
                         fixtures.snapshot(self.mdb, ["inventory_adjustments"]))


class ConfigurationFailureTest(FailureTestCase):
    """Refused before any work: exit 2, nothing created."""

    def setUp(self):
        super().setUp()
        self.db = self.path("slave.sqlite")
        self.url = "http://127.0.0.1:%d" % closed_port()

    def assertNothingCreated(self):
        self.assertEqual(sorted(os.listdir(self.tmp)), sorted(self.allowed))

    allowed = ()

    def test_an_unparseable_env_file_is_2(self):
        env_file = self.path("bad.env")
        with open(env_file, "w") as f:
            f.write('APP_MODE=slave\nSYNC_API_KEY="unterminated-secret-value\nMASTER_URL=x\n')
        self.allowed = ["bad.env"]
        r = self.run_expect(2, self.db, self.url, "--env-file", env_file, max_seconds=10)
        self.assertNotIn("unterminated-secret-value", r.stderr + r.stdout)
        self.assertNothingCreated()

    def test_a_missing_env_file_is_2(self):
        self.run_expect(2, self.db, self.url, "--env-file", self.path("nope.env"), max_seconds=10)
        self.assertNothingCreated()

    def test_a_bad_cron_expression_is_2(self):
        r = self.run_expect(2, self.db, self.url, "--schedule-run", "61 * * * *", max_seconds=10)
        self.assertIn("61", r.stderr)
        self.run_expect(2, self.db, self.url, "--schedule-company-settings", "0 0 * *",
                        max_seconds=10)
        self.run_expect(2, self.db, self.url, "--schedule-run", "61 * * * *", once=False,
                        max_seconds=10)
        self.assertNothingCreated()

    def test_app_mode_not_slave_is_2_unless_forced(self):
        for mode in ("master", "local", None):
            with self.subTest(mode=mode):
                r = self.run_expect(2, self.db, self.url, app_mode=mode, max_seconds=10)
                self.assertIn("APP_MODE", r.stderr)
        self.assertNothingCreated()
        # --force goes on to the sync itself (here: the master is down, 3).
        self.run_expect(3, self.db, self.url, "--force", *FAST, app_mode="master",
                        max_seconds=20)

    def test_app_mode_from_the_env_file_and_flags_over_the_environment(self):
        env_file = self.path("app.env")
        with open(env_file, "w") as f:
            f.write("APP_MODE=master\n")
        self.allowed = ["app.env"]
        self.run_expect(2, self.db, self.url, "--env-file", env_file, app_mode=None,
                        max_seconds=10)
        self.assertNothingCreated()

    def test_a_missing_key_or_master_or_database_is_2(self):
        self.run_expect(2, self.db, self.url, key=None, max_seconds=10)
        self.run_expect(2, self.db, None, max_seconds=10)
        self.run_expect(2, None, self.url, max_seconds=10)
        self.assertNothingCreated()

    def test_bad_flags_are_2(self):
        self.run_expect(2, self.db, self.url, "--job", "everything", max_seconds=10)
        self.run_expect(2, self.db, self.url, "--no-such-flag", max_seconds=10)
        self.run_expect(2, self.db, self.url, "frobnicate", max_seconds=10)
        self.run_expect(2, self.db, "ftp://127.0.0.1/", *FAST, max_seconds=10)
        self.assertNothingCreated()


if __name__ == "__main__":
    unittest.main()
