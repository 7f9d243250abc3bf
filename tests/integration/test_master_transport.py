"""master-server as a process and an HTTP server: start-up refusals (exit 2, one stderr line),
a fresh database, body limit, slowloris, gzip both ways, keep-alive, SIGTERM while a request
is in flight."""

import gzip
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from support import fixtures
from support.cases import MasterTestCase
from support.master import MasterServer, base_env, master_binary


def txn_rows(prefix, count, notes="x"):
    return [{"id": i + 1, "transaction_number": "TXN-20261124-%s%05d" % (prefix, i),
             "cashier_id": 2, "quantity_kg": "3.00", "price_per_kg": "850.50",
             "total_amount": "2551.50", "customer_name": "Customer %d" % i,
             "customer_phone": None, "notes": notes, "status": "completed",
             "created_at": "2026-11-24T14:29:40.000000Z",
             "updated_at": "2026-11-24T14:29:40.000000Z", "payment_type": "cash"}
            for i in range(count)]


def count_rows(db, table, where="1", params=()):
    return fixtures.query(db, 'SELECT count(*) FROM "%s" WHERE %s' % (table, where), params)[0][0]


class RefusalTest(unittest.TestCase):
    """Refusals: exit code 2 and exactly one line on stderr, nothing created."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ruxx-it-")
        self.addCleanup(self.tmp.cleanup)
        self.db = fixtures.make_app_db(os.path.join(self.tmp.name, "master.sqlite"))

    def run_master(self, args, env):
        return subprocess.run([master_binary()] + args, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=20)

    def assertRefused(self, args, env, secret=None):
        r = self.run_master(["--listen", "127.0.0.1:0"] + args, env)
        stderr = r.stderr.decode(errors="replace")
        self.assertEqual(r.returncode, 2, stderr)
        self.assertEqual(r.stdout, b"", "nothing on stdout (no listening line)")
        lines = stderr.splitlines()
        self.assertEqual(len(lines), 1, stderr)
        self.assertTrue(lines[0].strip(), stderr)
        if secret:
            self.assertNotIn(secret, stderr)
        return lines[0]

    def test_no_api_key(self):
        fresh = os.path.join(self.tmp.name, "fresh.sqlite")
        self.assertRefused(["--db", fresh], base_env())
        self.assertFalse(os.path.exists(fresh), "a refused start created the database")
        self.assertRefused(["--db", self.db], base_env(SYNC_API_KEY=""))
        self.assertRefused(["--db", self.db, "--api-key", ""], base_env())

    def test_database_in_a_directory_that_does_not_exist(self):
        self.assertRefused(["--db", os.path.join(self.tmp.name, "missing", "dir", "m.sqlite")],
                           base_env(SYNC_API_KEY="peerkey"))

    def test_database_path_that_is_a_directory(self):
        self.assertRefused(["--db", self.tmp.name], base_env(SYNC_API_KEY="peerkey"))

    def test_database_file_that_is_not_a_database(self):
        junk = os.path.join(self.tmp.name, "junk.sqlite")
        with open(junk, "wb") as f:
            f.write(b"this is not an SQLite database, just some text\n" * 200)
        with open(junk, "rb") as f:
            before = f.read()
        self.assertRefused(["--db", junk], base_env(SYNC_API_KEY="peerkey"))
        with open(junk, "rb") as f:
            self.assertEqual(f.read(), before, "the refused file was modified")

    def test_app_mode_slave_without_force(self):
        secret = "supersecret-key-123"
        fresh = os.path.join(self.tmp.name, "fresh.sqlite")
        self.assertRefused(["--db", fresh], base_env(SYNC_API_KEY=secret, APP_MODE="slave"),
                           secret=secret)
        self.assertFalse(os.path.exists(fresh))
        env_file = os.path.join(self.tmp.name, ".env")
        with open(env_file, "w") as f:
            f.write("APP_MODE=slave\nSYNC_API_KEY=%s\n" % secret)
        self.assertRefused(["--db", self.db, "--env-file", env_file], base_env(), secret=secret)

    def test_app_mode_slave_with_force_starts(self):
        server = MasterServer(self.db, args=["--force"], env={"APP_MODE": "slave"})
        with server:
            self.assertEqual(server.get("/up", key=None).status, 200)
        self.assertEqual(server.proc.returncode, 0)

    def test_zero_max_connections(self):
        line = self.assertRefused(["--db", self.db, "--max-connections", "0"],
                                  base_env(SYNC_API_KEY="peerkey"))
        self.assertIn("--max-connections", line)

    def test_bad_listen_address(self):
        self.assertRefused(["--db", self.db, "--listen", "127.0.0.1:99999"],
                           base_env(SYNC_API_KEY="peerkey"))


class FreshDatabaseTest(unittest.TestCase):

    def test_fresh_file_gets_the_app_schema_and_restart_keeps_data(self):
        with tempfile.TemporaryDirectory(prefix="ruxx-it-") as tmp:
            db = os.path.join(tmp, "new.sqlite")
            server = MasterServer(db)
            with server:
                tables = {r[0] for r in fixtures.query(
                    db, "SELECT name FROM sqlite_schema WHERE type = 'table'")}
                for t in fixtures.SYNCED_TABLES + ["sync_logs", "ruxx_sync_changes",
                                                   "ruxx_sync_conflicts"]:
                    self.assertIn(t, tables)
                # The app's own schema, column for column.
                ref = fixtures.make_app_db(os.path.join(tmp, "ref.sqlite"))
                for t in fixtures.SYNCED_TABLES:
                    self.assertEqual(
                        fixtures.query(db, 'PRAGMA table_info("%s")' % t),
                        fixtures.query(ref, 'PRAGMA table_info("%s")' % t))
                fixtures.execute(db, "INSERT INTO users (name, email, password) VALUES "
                                     "('A', 'a@x.test', 'h')")
                r = server.pull("users")
                self.assertEqual(r.json()["count"], 1)
            self.assertEqual(server.proc.returncode, 0)
            before = fixtures.snapshot(db, fixtures.SYNCED_TABLES)
            with MasterServer(db) as again:
                self.assertEqual(again.pull("users").json()["count"], 1)
            self.assertEqual(fixtures.snapshot(db, fixtures.SYNCED_TABLES), before)


class DefaultBodyLimitTest(MasterTestCase):
    """The body limit without --max-body-mib is 32 MiB (the issue's default): a push of one sale
    padded with JSON whitespace to just under it is applied, one byte over it is a 413 JSON
    answer (sent as soon as the header announces the length) that changes nothing."""

    LIMIT = 32 * 1024 * 1024

    def padded_push(self, size):
        head = ('{"table":"transactions","data":%s' % json.dumps(txn_rows("PAD", 1))).encode()
        tail = b"}"
        return head + b" " * (size - len(head) - len(tail)) + tail

    def test_a_body_just_under_32_mib_is_applied(self):
        r = self.server.post("/api/sync/push", self.padded_push(self.LIMIT - 1024))
        self.assertEqual(self.assertJsonResponse(r, 200)["synced_count"], 1)
        self.assertEqual(count_rows(self.db, "transactions", "transaction_number LIKE ?",
                                    ("TXN-20261124-PAD%",)), 1)

    def test_a_body_one_byte_over_32_mib_is_413_json(self):
        body = self.padded_push(self.LIMIT + 1)

        def send():
            # The server may answer and close before the body is sent: read what it said.
            with socket.create_connection((self.server.host, self.server.port), 30) as sock:
                sock.sendall(b"POST /api/sync/push HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             b"X-Sync-API-Key: peerkey\r\nContent-Type: application/json\r\n"
                             b"Content-Length: %d\r\n\r\n" % len(body))
                try:
                    sock.sendall(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                answer = b""
                try:
                    while chunk := sock.recv(65536):
                        answer += chunk
                except ConnectionResetError:
                    pass
                return answer
        answer = self.assertChangesNothing(send)
        head, _, payload = answer.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 413"), answer[:300])
        self.assertIn(b"application/json", head.lower())
        self.assertIn("error", json.loads(payload))
        self.assertEqual(self.server.get("/up", key=None).status, 200)


class LimitsTest(MasterTestCase):
    SERVER_ARGS = ("--max-body-mib", "1", "--header-timeout", "2")

    def test_body_over_the_limit_is_413_json(self):
        body = json.dumps({"table": "transactions",
                           "data": txn_rows("BIG", 6000, notes="n" * 200)}).encode()
        self.assertGreater(len(body), 2 * 1024 * 1024)
        r = self.assertChangesNothing(lambda: self.server.post("/api/sync/push", body))
        answer = self.assertJsonResponse(r, 413)
        self.assertIn("error", answer)
        self.assertEqual(self.server.get("/up", key=None).status, 200)

    def test_chunked_body_over_the_limit_is_413(self):
        payload = json.dumps({"table": "transactions",
                              "data": txn_rows("CHK", 6000, notes="n" * 200)}).encode()

        def chunks():
            for i in range(0, len(payload), 65536):
                yield payload[i:i + 65536]

        def send():
            conn = self.server.connection()
            try:
                conn.request("POST", "/api/sync/push", body=chunks(),
                             headers={"X-Sync-API-Key": "peerkey",
                                      "Content-Type": "application/json"},
                             encode_chunked=True)
                r = conn.getresponse()
                return r.status, r.getheader("content-type"), r.read()
            except (BrokenPipeError, ConnectionResetError):
                return None, None, b""
            finally:
                conn.close()
        status, ctype, body = self.assertChangesNothing(send)
        self.assertEqual(status, 413, body)
        self.assertTrue(ctype.startswith("application/json"))
        json.loads(body)

    def test_gzip_body_that_inflates_over_the_limit_is_413(self):
        inner = b'{"table":"transactions","data":[' + b" " * (3 * 1024 * 1024) + b"]}"
        r = self.assertChangesNothing(lambda: self.server.request(
            "POST", "/api/sync/push", body=gzip.compress(inner),
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}))
        self.assertJsonResponse(r, 413)

    def test_body_under_the_limit_is_accepted(self):
        rows = txn_rows("OK", 1500)
        body = json.dumps({"table": "transactions", "data": rows}).encode()
        self.assertLess(len(body), 1024 * 1024)
        r = self.server.post("/api/sync/push", body)
        self.assertEqual(self.assertJsonResponse(r, 200)["synced_count"], 1500)
        self.assertEqual(count_rows(self.db, "transactions", "transaction_number LIKE ?",
                                    ("TXN-20261124-OK%",)), 1500)

    def test_slowloris_is_cut_after_the_header_timeout(self):
        partials = [b"POST /api/sync/push HTTP/1.1\r\nHost: x\r\nX-Sync-API-Key: pe",
                    b"GET /api/sync/pu"]
        for partial in partials:
            with self.subTest(partial=partial):
                s = self.server.raw_socket(timeout=10)
                try:
                    start = time.monotonic()
                    s.sendall(partial)
                    # Trickle a byte a second: the deadline is for the whole header.
                    received = b""
                    closed = False
                    while time.monotonic() - start < 8:
                        try:
                            s.settimeout(1.0)
                            chunk = s.recv(4096)
                            if not chunk:
                                closed = True
                                break
                            received += chunk
                        except socket.timeout:
                            try:
                                s.sendall(b"X")
                            except (BrokenPipeError, ConnectionResetError):
                                closed = True
                                break
                        except ConnectionResetError:
                            closed = True
                            break
                    elapsed = time.monotonic() - start
                    self.assertTrue(closed, "connection still open after %.1f s" % elapsed)
                    self.assertLess(elapsed, 5.0)
                    self.assertGreater(elapsed, 1.5)
                    self.assertNotIn(b"200 OK", received)
                finally:
                    s.close()

    def test_slow_client_does_not_block_others(self):
        slow = [self.server.raw_socket() for _ in range(4)]
        try:
            for s in slow:
                s.sendall(b"GET /api/sync/pull?table=users HTTP/1.1\r\nHost: x\r\n")
            start = time.monotonic()
            r = self.server.pull("users")
            self.assertEqual(r.status, 200)
            self.assertLess(time.monotonic() - start, 1.5)
        finally:
            for s in slow:
                s.close()


class WalCheckpointTest(MasterTestCase):
    """The master's commits leave WAL checkpoints to a background thread
    (db::wal_checkpointer, unit-tested in tests/unit); here: that thread is wired in and does
    copy a push's pages into the database file while the master idles, so the WAL does not
    grow until the inline backstop (64 MiB)."""

    def test_a_big_push_reaches_the_database_file_with_no_further_request(self):
        before = os.path.getsize(self.db)
        rows = txn_rows("WAL", 6000, notes="w" * 200)
        r = self.server.post("/api/sync/push",
                             json.dumps({"table": "transactions", "data": rows}).encode())
        self.assertEqual(self.assertJsonResponse(r, 200)["synced_count"], 6000)
        # About 3 MiB of pages in the WAL (under SQLite's 1000-page autocheckpoint, so only
        # the idle rule copies them), at least 2 MiB of them new rows.
        deadline = time.monotonic() + 15
        while os.path.getsize(self.db) < before + 2 * 1024 * 1024:
            if time.monotonic() > deadline:
                self.fail("the WAL was not checkpointed: database file %d bytes, WAL %d bytes"
                          % (os.path.getsize(self.db), os.path.getsize(self.db + "-wal")))
            time.sleep(0.05)
        self.assertEqual(count_rows(self.db, "transactions", "transaction_number LIKE ?",
                                    ("TXN-20261124-WAL%",)), 6000)


class LongV1PullTest(MasterTestCase):
    """A version 1 pull longer than the server's first megabyte is streamed (chunked transfer
    coding, gzip as one member) and is still the whole table, each row once, as the database
    holds it; the connection then serves the next request."""

    ROWS = 8000

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        conn = fixtures.open_db(cls.db)
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO transactions (transaction_number, cashier_id, quantity_kg, "
            "price_per_kg, total_amount, customer_name, notes, status, created_at, updated_at, "
            "payment_type) VALUES (?, 2, 3, 850.5, 2551.5, ?, ?, 'completed', ?, ?, 'cash')",
            [("TXN-20261124-LONG%05d" % i, "Customer %d" % i, "n" * 300,
              "2026-11-24 10:00:00", "2026-11-24 %02d:00:00" % (10 + i % 2))
             for i in range(cls.ROWS)])
        conn.execute("COMMIT")
        conn.close()

    def assertWholeTable(self, response, where="1", params=()):
        self.assertEqual(response.status, 200)
        self.assertEqual(response.headers.get("transfer-encoding"), "chunked")
        self.assertNotIn("content-length", response.headers)
        answer = response.json()
        expected = fixtures.rows_as_dicts(
            self.db, "SELECT id, transaction_number, updated_at FROM transactions WHERE %s "
                     "ORDER BY id" % where, params)
        self.assertGreater(len(expected), 3000)
        self.assertEqual(answer["count"], len(expected))
        self.assertEqual([r["id"] for r in answer["data"]], [e["id"] for e in expected])
        self.assertEqual([r["transaction_number"] for r in answer["data"]],
                         [e["transaction_number"] for e in expected])
        self.assertEqual([r["updated_at"] for r in answer["data"]],
                         [fixtures.wire_iso(e["updated_at"]) for e in expected])
        return answer

    def test_whole_table_streamed_plain_and_gzip_on_one_connection(self):
        conn = self.server.connection()
        try:
            answer = self.assertWholeTable(self.server.pull("transactions", conn=conn))
            self.assertEqual(answer["table"], "transactions")
            self.assertIsNone(answer["since"])
            self.assertEqual(set(answer), {"success", "data", "count", "table", "since"})
            packed = self.server.pull("transactions", conn=conn,
                                      headers={"Accept-Encoding": "gzip"})
            self.assertEqual(packed.headers.get("content-encoding"), "gzip")
            self.assertLess(len(packed.wire_body), len(packed.body) // 5)
            self.assertEqual(self.assertWholeTable(packed), answer)
            self.assertEqual(self.server.get("/up", conn=conn).status, 200)  # kept alive
        finally:
            conn.close()

    def test_since_filters_a_streamed_answer(self):
        answer = self.assertWholeTable(
            self.server.pull("transactions", since="2026-11-24T10:00:00Z"),
            "updated_at >= ?", ("2026-11-24 11:00:00",))
        self.assertEqual(answer["since"], "2026-11-24T10:00:00Z")


class ConnectionLimitTest(MasterTestCase):
    """A flood of connections that never send a request holds at most --max-connections
    descriptors; a real request waits in the listen queue and is served once the header
    deadline has cut the flood, and the server keeps serving afterwards."""
    SERVER_ARGS = ("--max-connections", "3", "--header-timeout", "2")

    def test_a_request_waits_for_a_free_slot_and_is_served(self):
        flood = [self.server.raw_socket() for _ in range(3)]
        try:
            time.sleep(0.3)  # all three accepted: the limit is reached
            start = time.monotonic()
            r = self.server.pull("users")
            waited = time.monotonic() - start
            self.assertEqual(r.status, 200)
            self.assertGreater(waited, 1.0, "served beside three open connections")
            self.assertLess(waited, 8.0)
        finally:
            for s in flood:
                s.close()
        self.assertIn("connection limit reached", self.server.stderr_text())
        self.assertEqual(self.server.pull("users").status, 200)


class HttpFeaturesTest(MasterTestCase):

    def test_gzip_request_body_is_accepted(self):
        rows = txn_rows("GZ", 20)
        r = self.server.push("transactions", rows, gzip_body=True)
        self.assertEqual(self.assertJsonResponse(r, 200)["synced_count"], 20)
        stored = fixtures.rows_as_dicts(
            self.db, "SELECT transaction_number, customer_name, updated_at FROM transactions "
                     "WHERE transaction_number LIKE 'TXN-20261124-GZ%' ORDER BY 1")
        self.assertEqual([s["transaction_number"] for s in stored],
                         [r["transaction_number"] for r in rows])
        self.assertEqual({s["updated_at"] for s in stored}, {"2026-11-24 15:29:40"})

    def test_corrupt_gzip_body_is_refused(self):
        good = gzip.compress(json.dumps({"table": "transactions",
                                         "data": txn_rows("BADGZ", 2)}).encode())
        for body in [good[:-8], b"not gzip at all", good[:10] + b"\x00" * 20 + good[30:]]:
            with self.subTest(body=body[:12]):
                r = self.assertChangesNothing(lambda: self.server.request(
                    "POST", "/api/sync/push", body=body,
                    headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}))
                self.assertIn(r.status, (400, 422), r)
                json.loads(r.body)

    def test_gzip_response_when_accepted(self):
        conn = fixtures.open_db(self.db)
        conn.execute("BEGIN")
        for i in range(40):
            conn.execute("INSERT INTO inventory (current_stock, minimum_stock, price_per_kg, "
                         "notes, created_at, updated_at) VALUES (?, 100, 850.5, ?, "
                         "'2026-11-24 15:00:00', '2026-11-24 15:00:00')", (i, "tank %d" % i))
        conn.execute("COMMIT")
        conn.close()
        plain = self.server.pull("inventory")
        self.assertNotIn("content-encoding", plain.headers)
        self.assertGreater(len(plain.body), 1024)
        packed = self.server.pull("inventory", headers={"Accept-Encoding": "gzip"})
        self.assertEqual(packed.status, 200)
        self.assertEqual(packed.headers.get("content-encoding"), "gzip")
        self.assertIn("accept-encoding", packed.headers.get("vary", "").lower())
        self.assertLess(len(packed.wire_body), len(plain.body))
        self.assertEqual(packed.json(), plain.json())
        v2 = self.server.pull_v2("inventory", headers={"Accept-Encoding": "gzip, deflate"})
        self.assertEqual(v2.headers.get("content-encoding"), "gzip")
        self.assertEqual(v2.json()["count"], 41)
        refused = self.server.pull("inventory", headers={"Accept-Encoding": "gzip;q=0"})
        self.assertNotIn("content-encoding", refused.headers)

    def test_keep_alive(self):
        conn = self.server.connection()
        try:
            conn.connect()
            local = conn.sock.getsockname()
            exchanges = [
                ("GET", "/api/sync/pull?table=users", None, "peerkey", 200),
                ("POST", "/api/sync/push", {"table": "transactions",
                                            "data": txn_rows("KA", 2)}, "peerkey", 200),
                ("GET", "/api/sync/pull?table=users", None, "wrong", 401),
                ("POST", "/api/sync/push", {"table": "customers", "data": [{"id": 1}]},
                 "peerkey", 422),
                ("GET", "/api/sync/nothing", None, "peerkey", 404),
                ("GET", "/api/sync/push", None, "peerkey", 405),
                ("GET", "/api/sync/status", None, "peerkey", 200),
                ("GET", "/up", None, None, 200),
                ("GET", "/api/sync/pull?table=transactions", None, "peerkey", 200),
            ]
            for method, target, body, key, status in exchanges:
                with self.subTest(method=method, target=target):
                    r = self.server.request(method, target, body=body, key=key, conn=conn)
                    self.assertEqual(r.status, status, r)
                    json.loads(r.body)
                    self.assertIsNotNone(conn.sock, "the server closed the connection")
                    self.assertEqual(conn.sock.getsockname(), local, "a new connection")
        finally:
            conn.close()

    def test_sigterm_lets_the_in_flight_request_finish(self):
        server = self.fresh_server()
        body = json.dumps({"table": "transactions", "data": txn_rows("TERM", 3)}).encode()
        head = ("POST /api/sync/push HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Sync-API-Key: peerkey\r\n"
                "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body))
        s = server.raw_socket(timeout=15)
        try:
            s.sendall(head.encode() + body[:100])
            time.sleep(0.3)
            server.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            self.assertIsNone(server.proc.poll(), "exited with a request in flight")
            # No new connections are served while it drains.
            try:
                late = socket.create_connection((server.host, server.port), timeout=2)
                late.sendall(b"GET /up HTTP/1.1\r\nHost: x\r\n\r\n")
                late.settimeout(3)
                try:
                    answer = late.recv(4096)
                except (ConnectionResetError, socket.timeout):
                    answer = b""
                late.close()
                self.assertNotIn(b"200", answer[:20])
            except ConnectionRefusedError:
                pass
            s.sendall(body[100:])
            data = b""
            s.settimeout(10)
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        head_text, _, payload = data.partition(b"\r\n\r\n")
        self.assertTrue(head_text.startswith(b"HTTP/1.1 200"), data[:300])
        self.assertEqual(json.loads(payload)["synced_count"], 3)
        self.assertEqual(server.wait(15), 0, server.stderr_text())
        self.assertEqual(count_rows(server.db, "transactions", "transaction_number LIKE ?",
                                    ("TXN-20261124-TERM%",)), 3)

    def test_sigint_exits_0(self):
        server = self.fresh_server()
        self.assertEqual(server.get("/up", key=None).status, 200)
        server.send_signal(signal.SIGINT)
        self.assertEqual(server.wait(15), 0)

    def test_concurrent_requests(self):
        errors = []

        def worker(n):
            try:
                for i in range(5):
                    r = self.server.push("transactions", txn_rows("C%d_%d_" % (n, i), 5))
                    if r.status != 200:
                        errors.append(r)
                    if self.server.pull("users").status != 200:
                        errors.append("pull")
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(errors, [])
        self.assertEqual(count_rows(self.db, "transactions", "transaction_number LIKE ?",
                                    ("TXN-20261124-C%",)), 6 * 5 * 5)


if __name__ == "__main__":
    unittest.main()
