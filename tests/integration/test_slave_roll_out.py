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
