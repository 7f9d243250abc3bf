"""slave-agent end to end: a pulled user whose e-mail a different local row holds (the master
deleted a user and registered the e-mail again, or two users swapped e-mails) no longer stops
the run with exit 5 on the UNIQUE index of users.email; the depot converges in one run and keeps
its sales (docs/SYNC_DESIGN.md, "A pull meeting local work not yet pushed")."""

import unittest

from support import fixtures
from support.slave_support import LosingProxy, add_user, sell
from test_slave_sync import SyncTestCase


class PulledUniqueEmailTest(SyncTestCase):

    def setUp(self):
        super().setUp()
        self.start_synced_pair()

    def test_a_user_deleted_and_registered_again_with_the_same_email(self):
        old = add_user(self.mdb, "Temp cashier", "reused@master.test", at="2026-11-24 08:00:00")
        self.sync(self.slave, self.master)
        fixtures.execute(self.mdb, "DELETE FROM users WHERE id = ?", (old,))
        new = add_user(self.mdb, "Returning cashier", "reused@master.test",
                       at="2026-11-24 09:00:00")
        number = sell(self.slave, "3", cashier_id=2)
        self.sync(self.slave, self.master)
        self.assertEqual(fixtures.query(self.slave, "SELECT id FROM users WHERE email = ?",
                                        ("reused@master.test",)), [(new,)])
        self.assertEqual(fixtures.query(self.mdb, "SELECT count(*) FROM transactions WHERE "
                                        "transaction_number = ?", (number,)), [(1,)])
        self.assertSameAsMaster(self.slave, self.mdb)

    def test_a_depot_registers_the_masters_email_between_its_users_push_and_pull(self):
        add_user(self.mdb, "Registered at the plant", "twice@master.test",
                 at="2026-11-24 08:00:00")
        made = {}

        def between(method, path, index):
            # The master answered the run's users pull; the depot's app registers the same
            # e-mail and sells before the answer arrives.
            target = proxy.targets[-1][1]
            if method == "GET" and "table=users" in target and not made:
                made["user"] = add_user(self.slave, "Registered at the depot",
                                        "twice@master.test", at="2026-11-24 07:00:00")
                made["sale"] = sell(self.slave, "2.5", cashier_id=made["user"])
            return False

        with LosingProxy(self.master.host, self.master.port, between) as proxy:
            self.sync(self.slave, proxy.url)
        self.assertTrue(made, proxy.targets)
        master_id = fixtures.query(self.mdb, "SELECT id FROM users WHERE email = ?",
                                   ("twice@master.test",))
        self.assertEqual(len(master_id), 1)
        self.assertEqual(fixtures.query(self.slave, "SELECT id, name FROM users WHERE email = ?",
                                        ("twice@master.test",)),
                         [(master_id[0][0], "Registered at the plant")])
        # The sale is the master's user's, at both ends; the depot's older version is logged.
        for db in (self.slave, self.mdb):
            self.assertEqual(fixtures.query(db, "SELECT cashier_id FROM transactions WHERE "
                                            "transaction_number = ?", (made["sale"],)),
                             [master_id[0]])
        self.assertEqual(fixtures.query(
            self.slave, "SELECT count(*) FROM ruxx_sync_conflicts WHERE table_name = 'users' "
            "AND losing_row LIKE '%Registered at the depot%'"), [(1,)])
        self.sync(self.slave, self.master)
        self.assertSameAsMaster(self.slave, self.mdb)

    def test_two_users_swapping_emails_at_the_master(self):
        a = add_user(self.mdb, "Swap A", "swap-a@master.test", at="2026-11-24 08:00:00")
        b = add_user(self.mdb, "Swap B", "swap-b@master.test", at="2026-11-24 08:00:00")
        self.sync(self.slave, self.master)
        for user, email in ((a, "swap-tmp@master.test"), (b, "swap-a@master.test"),
                            (a, "swap-b@master.test")):
            fixtures.execute(self.mdb, "UPDATE users SET email = ?, updated_at = "
                             "'2026-11-24 09:00:00' WHERE id = ?", (email, user))
        self.sync(self.slave, self.master)
        self.assertEqual(fixtures.query(self.slave, "SELECT id, email FROM users WHERE id IN "
                                        "(?, ?) ORDER BY id", (a, b)),
                         [(a, "swap-b@master.test"), (b, "swap-a@master.test")])
        self.assertEqual(fixtures.query(self.slave, "SELECT count(*) FROM ruxx_sync_conflicts"),
                         [(0,)])
        self.assertSameAsMaster(self.slave, self.mdb)


if __name__ == "__main__":
    unittest.main()
