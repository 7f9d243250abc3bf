"""slave-agent end to end: a pulled user whose e-mail a different local row holds (the master
deleted a user and registered the e-mail again, or two users swapped e-mails) no longer stops
the run with exit 5 on the UNIQUE index of users.email; the depot converges in one run and keeps
its sales (docs/SYNC_DESIGN.md, "A pull meeting local work not yet pushed")."""

import unittest

from support import fixtures
from support.slave_support import add_user, sell
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
