"""A master restored from an older backup: its change log is behind the cursor a slave saved.
The master refuses that cursor (422 on `cursor`); the slave must start over from a snapshot
instead of failing every run (or, worse, silently skipping changes)."""

import os
import shutil
import unittest

from support import fixtures
from support.slave_support import SlaveTestCase, add_user, rows


class MasterRestoredFromBackup(SlaveTestCase):
    def test_slave_restarts_its_pull_when_the_master_refuses_its_cursor(self):
        mdb = self.master_db()
        backup = self.path("master-backup.sqlite")
        master = self.start_master(mdb)
        slave = self.path("slave.sqlite")
        self.sync(slave, master)
        # A checkpointed copy of the master as it is now: the "backup".
        fixtures.query(mdb, "PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copyfile(mdb, backup)
        # Later master changes move the slave's saved cursor past the backup's change log.
        for i in range(5):
            add_user(mdb, "Later %d" % i, "later%d@master.test" % i)
        self.sync(slave, master)
        master.stop()
        master.kill()
        # The master database is restored from the backup, and one new change is made there.
        for suffix in ("-wal", "-shm"):
            if os.path.exists(mdb + suffix):
                os.remove(mdb + suffix)
        shutil.copyfile(backup, mdb)
        add_user(mdb, "After restore", "restored@master.test")
        restored = self.start_master(mdb)
        result = self.sync(slave, restored)
        self.assertIn("restored@master.test", {r["email"] for r in rows(slave, "users")},
                      result.stderr)


if __name__ == "__main__":
    unittest.main()
