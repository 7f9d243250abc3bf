"""slave-agent during a roll-out (DESIGN.md sections 3-5): masters whose clock or schema differs
from the slave's, a master that answers as the PHP module after it spoke version 2, and a master
that refuses one table's data. Each case starts the real slave-agent (and the real master-server
where version 2 is needed) on loopback ports against temporary SQLite files."""

import unittest
from datetime import datetime, timedelta

from support import fixtures
from support.slave_support import SlaveTestCase, sell, stock


def lagos_db_text(delta=timedelta(0)):
    return (datetime.now(fixtures.APP_ZONE) + delta).strftime("%Y-%m-%d %H:%M:%S")


class PhpMasterRollOutTest(SlaveTestCase):
    """Against a version 1 (PHP) master."""

    def setUp(self):
        super().setUp()
        self.php = self.start_php_master()
        self.slave = self.path("slave.sqlite")

    def test_a_row_stamped_by_a_master_whose_clock_is_behind_is_not_missed(self):
        self.sync(self.slave, self.php.url)
        # The master's clock is an hour behind the slave's: a row it changes now carries an
        # updated_at an hour before the slave's "now" (equally: a row written at the master
        # while the slave pulled, stamped before the pull's start on the slave's clock).
        stamp = lagos_db_text(-timedelta(hours=1))
        with self.php.lock:
            user = self.php.tables["users"][1]
            user["name"] = "Renamed behind the slave's clock"
            user["updated_at"] = fixtures.wire_iso(stamp)
        self.sync(self.slave, self.php.url)
        self.assertEqual(fixtures.query(self.slave, "SELECT name FROM users WHERE id = 2"),
                         [("Renamed behind the slave's clock",)])
        since = self.php.pulls("users")[-1].get("since")
        self.assertIsNotNone(since, "an incremental pull after the first")
        self.assertLessEqual(since, stamp)
        # The next pull starts from that row (less the overlap), not from the slave's clock.
        self.sync(self.slave, self.php.url)
        since = self.php.pulls("users")[-1]["since"]
        self.assertLessEqual(since, stamp)
        self.assertGreater(since, fixtures.lagos_db_text(
            max(r["updated_at"] for r in fixtures.pull_capture_rows("users"))))

    def test_a_row_stamped_in_the_future_does_not_hide_later_rows(self):
        self.sync(self.slave, self.php.url)
        # A depot whose clock ran a day ahead pushed a row; the PHP master kept its updated_at.
        with self.php.lock:
            future = self.php.tables["users"][0]
            future["name"] = "From the future"
            future["updated_at"] = fixtures.wire_iso(lagos_db_text(timedelta(days=1)))
        self.sync(self.slave, self.php.url)
        # A row the master changes afterwards, stamped by its own (right) clock.
        with self.php.lock:
            later = self.php.tables["users"][1]
            later["name"] = "Changed after"
            later["updated_at"] = fixtures.wire_iso(lagos_db_text())
        self.sync(self.slave, self.php.url)
        names = dict(fixtures.query(self.slave, "SELECT id, name FROM users WHERE id IN (?, ?)",
                                    (future["id"], later["id"])))
        self.assertEqual(names, {future["id"]: "From the future", later["id"]: "Changed after"})

    def test_pulled_columns_unknown_here_are_dropped_with_one_warning(self):
        # The PHP master migrated first: its users rows carry a column the slave lacks.
        with self.php.lock:
            for row in self.php.tables["users"]:
                row["nickname"] = "nick"
        result = self.sync(self.slave, self.php.url)
        self.assertEqual(len(fixtures.query(self.slave, "SELECT id FROM users")),
                         len(self.php.tables["users"]))
        warnings = [l for l in result.stderr.splitlines() if "does not have" in l]
        self.assertEqual(len(warnings), 1, result.stderr)
        self.assertIn("users", warnings[0])
        self.assertIn("nickname", warnings[0])


class MasterRollOutTest(SlaveTestCase):
    """Against the real C++ master."""

    def test_a_master_that_answers_as_version_1_after_version_2_stops_the_run(self):
        self.start_synced_pair()  # the master spoke version 2 to this slave
        start = stock(self.mdb)
        number = sell(self.slave, "7")
        php = self.start_php_master()  # an old PHP node behind the same URL
        result = self.sync(self.slave, php.url, expect=4)
        self.assertIn("protocol version 1", result.stderr)
        self.assertEqual(php.pushes(), [], "nothing is sent to the old node")
        # The sale and the stock delta are still pending, and reach the master next run.
        self.assertEqual(fixtures.query(self.slave, "SELECT count(*) FROM ruxx_sync_changes "
                                        "WHERE table_name = 'transactions'"), [(1,)])
        self.assertEqual(fixtures.query(self.slave, "SELECT count(*) FROM "
                                        "ruxx_sync_counter_deltas WHERE table_name = 'inventory'"),
                         [(1,)])
        self.sync(self.slave, self.master)
        self.assertEqual(fixtures.query(self.mdb, "SELECT count(*) FROM transactions WHERE "
                                        "transaction_number = ?", (number,)), [(1,)])
        self.assertAlmostEqual(stock(self.mdb), start - 7, places=6)
        self.assertAlmostEqual(stock(self.slave), start - 7, places=6)

    def test_a_recovery_from_a_version_1_node_after_version_2_keeps_the_pending_changes(self):
        self.start_synced_pair()
        sell(self.slave, "4")
        php = self.start_php_master()
        result = self.sync(self.slave, php.url, "--recover", expect=4)
        self.assertIn("protocol version 1", result.stderr)
        self.assertEqual(php.pushes(), [], "nothing is sent to the old node")
        self.assertEqual(fixtures.query(self.slave, "SELECT count(*) FROM "
                                        "ruxx_sync_counter_deltas WHERE table_name = 'inventory'"),
                         [(1,)])
        self.assertEqual(fixtures.query(self.slave, "SELECT count(*) FROM ruxx_sync_changes "
                                        "WHERE table_name = 'transactions'"), [(1,)])

    def test_a_refused_table_does_not_stop_the_others(self):
        self.start_synced_pair()
        # A users row the master refuses (422: not a boolean) ahead of a sale in table order.
        fixtures.execute(self.slave, "UPDATE users SET is_active = 'maybe', updated_at = ? "
                         "WHERE id = 2", (lagos_db_text(),))
        number = sell(self.slave, "3")
        result = self.sync(self.slave, self.master, expect=4)
        self.assertRegex(result.stderr, r"refused the data of users \(")
        self.assertEqual(fixtures.query(self.mdb, "SELECT count(*) FROM transactions WHERE "
                                        "transaction_number = ?", (number,)), [(1,)])
        # The refused row stays pending and is refused again; the sale is not sent twice.
        self.assertEqual(fixtures.query(self.slave, "SELECT count(*) FROM ruxx_sync_changes "
                                        "WHERE table_name = 'users'"), [(1,)])
        self.sync(self.slave, self.master, expect=4)
        self.assertEqual(fixtures.query(self.mdb, "SELECT count(*) FROM transactions WHERE "
                                        "transaction_number = ?", (number,)), [(1,)])

    def test_a_refused_sale_does_not_hold_back_the_sales_after_it(self):
        self.start_synced_pair()
        before = sell(self.slave, "5")
        # Written by hand, without updated_at: the master refuses it (422, data.<i>.updated_at).
        fixtures.execute(self.slave, "INSERT INTO transactions (transaction_number, cashier_id, "
                         "quantity_kg, price_per_kg, total_amount, status, created_at, "
                         "updated_at) VALUES ('TXN-BY-HAND', 2, 1, 850.50, 850.50, 'completed', "
                         "?, NULL)", (lagos_db_text(),))
        after = sell(self.slave, "6")
        at_master = sell(self.mdb, "2")
        result = self.sync(self.slave, self.master, expect=4)
        self.assertRegex(result.stderr, r"refused a transactions row.*updated_at")
        self.assertRegex(result.stderr, r"refused the data of transactions")
        # The rest of the table was pushed, and pulled: the master's own sale is here already.
        self.assertRegex(result.stdout, r"(?m)^transactions\s+2\s")
        self.assertEqual(fixtures.query(self.slave, "SELECT count(*) FROM transactions WHERE "
                                        "transaction_number = ?", (at_master,)), [(1,)])
        count = "SELECT count(*) FROM transactions WHERE transaction_number = ?"
        for number, stored in ((before, 1), (after, 1), ("TXN-BY-HAND", 0)):
            self.assertEqual(fixtures.query(self.mdb, count, (number,)), [(stored,)], number)
        pending = ("SELECT t.transaction_number, c.op FROM ruxx_sync_changes c JOIN transactions "
                   "t ON t.id = c.row_id WHERE c.table_name = 'transactions'")
        self.assertEqual(fixtures.query(self.slave, pending), [("TXN-BY-HAND", "insert")])
        # Refused again next run, first in the queue; nothing is sent twice.
        self.sync(self.slave, self.master, expect=4)
        for number in (before, after):
            self.assertEqual(fixtures.query(self.mdb, count, (number,)), [(1,)], number)
        # Fixed at the depot, it goes through, once.
        fixtures.execute(self.slave, "UPDATE transactions SET updated_at = ? WHERE "
                         "transaction_number = 'TXN-BY-HAND'", (lagos_db_text(),))
        self.sync(self.slave, self.master)
        for number in (before, after, "TXN-BY-HAND"):
            self.assertEqual(fixtures.query(self.mdb, count, (number,)), [(1,)], number)
        self.assertEqual(fixtures.query(self.slave, pending), [])

    def test_pulled_columns_unknown_here_are_dropped_from_a_version_2_master(self):
        self.mdb = self.master_db()
        fixtures.execute(self.mdb, "ALTER TABLE users ADD COLUMN nickname varchar")
        self.master = self.start_master(self.mdb)
        self.slave = self.path("slave.sqlite")
        self.sync(self.slave, self.master)  # recovery from the master
        fixtures.execute(self.mdb, "UPDATE users SET name = 'Renamed', nickname = 'nick', "
                         "updated_at = ? WHERE id = 2", (lagos_db_text(),))
        result = self.sync(self.slave, self.master, "--page-rows", "1")
        self.assertEqual(fixtures.query(self.slave, "SELECT name FROM users WHERE id = 2"),
                         [("Renamed",)])
        warnings = [l for l in result.stderr.splitlines() if "does not have" in l]
        self.assertEqual(len(warnings), 1, result.stderr)
        self.assertIn("nickname", warnings[0])


if __name__ == "__main__":
    unittest.main()
