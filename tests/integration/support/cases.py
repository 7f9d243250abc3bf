"""unittest base class: one temporary app database and one running master-server per test
class (or per test with fresh_server()), plus assertions shared by the test files."""

import os
import shutil
import tempfile
import unittest

from . import fixtures
from .master import MasterServer


class MasterTestCase(unittest.TestCase):
    """setUpClass: temp dir, app-schema database seeded with the PHP master's rows (unless
    SEED is False), master-server started with SERVER_ARGS. tearDownClass stops it with SIGTERM
    and checks it exits 0."""

    SEED = True
    SERVER_ARGS = ()

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ruxx-it-")
        cls.db = cls.new_db("master.sqlite", seed=cls.SEED)
        cls.server = MasterServer(cls.db, args=cls.SERVER_ARGS).start()

    @classmethod
    def tearDownClass(cls):
        try:
            code = cls.server.stop()
            if code != 0:
                raise AssertionError("master-server exited %r; stderr:\n%s"
                                     % (code, cls.server.stderr_text()))
        finally:
            cls.server.kill()
            shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def new_db(cls, name, seed=True):
        path = fixtures.make_app_db(os.path.join(cls.tmp, name))
        if seed:
            fixtures.seed_php_master(path)
        return path

    def fresh_server(self, args=(), env=None, seed=True, name=None):
        """A second server on its own fresh database; stopped (exit 0 checked) at cleanup."""
        db = self.new_db(name or "%s.sqlite" % self.id().rsplit(".", 1)[-1], seed=seed)
        server = MasterServer(db, args=args, env=env).start()

        def stop():
            try:
                code = server.stop()
                self.assertEqual(code, 0, server.stderr_text())
            finally:
                server.kill()
        self.addCleanup(stop)
        return server

    # --- assertions ---------------------------------------------------------------------------

    def assertJsonResponse(self, response, status):
        self.assertEqual(response.status, status, response.body[:2000])
        self.assertTrue(response.headers.get("content-type", "").startswith("application/json"),
                        response.headers)
        return response.json()

    def assertValidationFailed(self, response, *fields):
        """422 {"error":"Validation failed","errors":{...}} naming each of `fields`."""
        body = self.assertJsonResponse(response, 422)
        self.assertEqual(body.get("error"), "Validation failed", body)
        self.assertIsInstance(body.get("errors"), dict, body)
        for field in fields:
            self.assertIn(field, body["errors"], body)
            self.assertIsInstance(body["errors"][field], list)
            self.assertTrue(all(isinstance(m, str) and m for m in body["errors"][field]), body)
        return body

    def assertChangesNothing(self, action, db=None):
        """Runs `action` and checks that every table of the database is exactly as before.
        Returns what `action` returned."""
        db = db or self.db
        before = fixtures.snapshot(db)
        result = action()
        after = fixtures.snapshot(db)
        self.assertEqual(sorted(before), sorted(after), "tables appeared or disappeared")
        for table in before:
            self.assertEqual(before[table], after[table], "table %s changed" % table)
        return result
