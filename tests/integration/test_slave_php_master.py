"""slave-agent against a version-1 (PHP module) master (DESIGN.md sections 1 and 3): during
the roll-out a C++ slave talks to the PHP master, which has no /api/sync/status, no cursors and
no batches. The fake master here answers in the shapes of fixtures/wire/; the slave must
recover from it, push plain {"table","data"} bodies and pull by `since` in the database's
own text format (which the PHP master compares as text)."""

import re
import unittest

from support import fixtures
from support.slave_support import SlaveTestCase, now_db, rows, sell, stock

DB_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
WIRE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


class PhpMasterTest(SlaveTestCase):

    def setUp(self):
        super().setUp()
        self.php = self.start_php_master()
        self.slave = self.path("slave.sqlite")

    def test_a_fresh_slave_recovers_from_the_php_master(self):
        self.sync(self.slave, self.php.url, "--job", "all")
        for table in ("users", "inventory", "transactions", "inventory_adjustments",
                      "company_settings"):
            expected = fixtures.pull_capture_rows(table)
            local = {r["id"]: r for r in rows(self.slave, table)}
            self.assertEqual(sorted(local), sorted(r["id"] for r in expected), table)
            for row in expected:
                for column, value in row.items():
                    have = local[row["id"]][column]
                    if column.endswith("_at") and value is not None:
                        value = fixtures.lagos_db_text(value)
                    elif isinstance(value, bool):
                        value = int(value)
                    elif isinstance(value, str) and re.fullmatch(r"-?\d+\.\d+", value):
                        value = float(value)
                        have = float(have)
                    self.assertEqual(have, value, "%s.%s of row %s" % (table, column, row["id"]))
        # The slave keeps the password column (NOT NULL) although the PHP master hides it.
        self.assertEqual(fixtures.query(self.slave, "SELECT count(*) FROM users WHERE password "
                                        "IS NULL"), [(0,)])
        self.assertEqual(self.php.pushes(), [], "a fresh slave has nothing to push")

    def test_a_sale_is_pushed_as_a_version_1_body_and_pulls_use_the_db_format(self):
        self.sync(self.slave, self.php.url)
        first_sync = now_db()
        number = sell(self.slave, "3", at="2026-11-24 16:10:00")
        self.last_result = self.sync(self.slave, self.php.url)
        pushed = self.php.pushes("transactions")
        self.assertEqual(len(pushed), 1, self.php.requests)
        body = pushed[0]
        self.assertEqual(set(body), {"table", "data"}, "version 1 bodies carry nothing else")
        self.assertEqual(len(body["data"]), 1)
        row = body["data"][0]
        self.assertEqual(row["transaction_number"], number)
        self.assertEqual(set(row), {r[1] for r in fixtures.query(
            self.slave, "PRAGMA table_info(transactions)")})
        self.assertRegex(row["created_at"], WIRE_TIME)
        self.assertEqual(fixtures.lagos_db_text(row["created_at"]), "2026-11-24 16:10:00")
        self.assertEqual(float(row["quantity_kg"]), 3.0)
        # Inventory is never pushed to a version 1 master: it would store the row as a new tank
        # (push_inventory_repeat.txt) and cannot add deltas. The drop is logged, not silent.
        self.assertEqual(self.php.pushes("inventory"), [])
        self.assertIn("cannot be sent", self.last_result.stderr)
        # The second run pulled by `since` in the database's own format, at or before the last
        # sync; inventory (a full replace) without one.
        for table in ("users", "transactions", "inventory_adjustments"):
            last = self.php.pulls(table)[-1]
            self.assertIn("since", last, table)
            self.assertRegex(last["since"], DB_TEXT)
            self.assertLessEqual(last["since"], first_sync)
        self.assertNotIn("since", self.php.pulls("inventory")[-1])
        # Master wins: the master's stock replaces the local one.
        self.assertAlmostEqual(stock(self.slave), 1250.25, places=6)
        # Pushed once: a third run has nothing to push.
        before = len(self.php.pushes())
        self.sync(self.slave, self.php.url)
        self.assertEqual(len(self.php.pushes()), before)

    def test_a_master_row_changed_at_the_php_master_reaches_the_slave(self):
        self.sync(self.slave, self.php.url)
        with self.php.lock:
            user = self.php.tables["users"][1]
            user["name"] = "Renamed on PHP"
            user["updated_at"] = fixtures.wire_iso(now_db())
        self.sync(self.slave, self.php.url)
        self.assertEqual(fixtures.query(self.slave, "SELECT name FROM users WHERE id = 2"),
                         [("Renamed on PHP",)])


if __name__ == "__main__":
    unittest.main()
