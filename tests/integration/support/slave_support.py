"""Run the real slave-agent against the real master-server (see docs/TESTING.md, "slave").

- slave_binary() / master_binary(): the binaries under test (RUXX_SLAVE_AGENT and
  RUXX_MASTER_SERVER, set by ctest; else the newest build found in the repository).
- start_master(db): a MasterServer (support.master) with the long test key KEY.
- run_slave(db, master_url, ...): one slave-agent invocation with a clean environment; returns
  a CompletedProcess (text stdout/stderr) and never hangs past its timeout.
- sell(), add_user(): writes to a slave (or master) file with sqlite3, exactly as the Laravel
  app does them (timestamps in Africa/Lagos db text, the sale and the stock decrement in one
  transaction).
- closed_port(), ErrorServer, TruncatingServer, SilentServer: fake masters for the failure
  paths; LosingProxy: a real master whose answers to chosen requests are lost on the way back;
  FakePhpMaster: a version-1-only master shaped like the PHP module's captures.
"""

import http.server
import json
import os
import random
import socket
import sqlite3
import string
import subprocess
import threading
import unittest
import urllib.parse
from datetime import datetime, timezone

from . import fixtures
from . import master as master_mod
from .master import MasterServer, base_env

# Long enough that the log redactor can mask it everywhere (DESIGN.md section 5).
KEY = "slave-test-key-7f3a9c2e51"

_REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
_BUILD_DIRS = ("build-stest", "build", "build-mtest")
SLAVE_TIMEOUT = 60


def _newest(relative):
    found = []
    for build in _BUILD_DIRS:
        candidate = os.path.join(_REPO, build, relative)
        if os.access(candidate, os.X_OK):
            found.append((os.path.getmtime(candidate), candidate))
    return max(found)[1] if found else None


def slave_binary():
    """Path of the slave-agent binary under test."""
    path = os.environ.get("RUXX_SLAVE_AGENT") or _newest(os.path.join("slave-agent", "slave-agent"))
    if not path:
        raise RuntimeError("set RUXX_SLAVE_AGENT to the slave-agent binary")
    return path


def master_binary():
    """Path of the master-server binary under test."""
    path = os.environ.get("RUXX_MASTER_SERVER") or _newest(
        os.path.join("master-server", "master-server"))
    if not path:
        return master_mod.master_binary()
    return path


class Master(MasterServer):
    """MasterServer with the binary chosen by master_binary() above and the key KEY."""

    def __init__(self, db, args=(), env=None, key=KEY):
        super().__init__(db, args=args, env=env, key=key)

    def command(self):
        return [master_binary(), "--db", self.db, "--listen", "127.0.0.1:0"] + self.args

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)


def start_master(db, **kw):
    return Master(db, **kw).start()


def run_slave(db, master_url, *args, key=KEY, env=None, once=True, timeout=SLAVE_TIMEOUT,
              app_mode="slave"):
    """Runs `slave-agent --db db --master-url master_url [--once] args...` and returns the
    CompletedProcess. `env` adds environment names (None values remove them); `key` None leaves
    SYNC_API_KEY out; `app_mode` None leaves APP_MODE out."""
    extra = {"APP_MODE": app_mode, "SYNC_API_KEY": key}
    extra.update(env or {})
    command = [slave_binary()]
    if db is not None:
        command += ["--db", db]
    if master_url is not None:
        command += ["--master-url", master_url]
    if once:
        command.append("--once")
    command += list(args)
    return subprocess.run(command, env=base_env(**extra), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout)


def start_slave_service(db, master_url, *args, key=KEY, env=None):
    """Starts slave-agent as a service (no --once); returns the Popen (stdout/stderr to pipes)."""
    extra = {"APP_MODE": "slave", "SYNC_API_KEY": key}
    extra.update(env or {})
    command = [slave_binary(), "--db", db, "--master-url", master_url] + list(args)
    return subprocess.Popen(command, env=base_env(**extra), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def describe(result):
    """A failure message for a CompletedProcess."""
    return "exit %r\n--- stdout\n%s\n--- stderr\n%s" % (result.returncode, result.stdout[-4000:],
                                                        result.stderr[-6000:])


# --- app-like writes ----------------------------------------------------------------------------

def now_db():
    """The current time as the app stores it (Africa/Lagos, 'YYYY-MM-DD HH:MM:SS')."""
    return datetime.now(fixtures.APP_ZONE).strftime("%Y-%m-%d %H:%M:%S")


def txn_number(rng=random):
    day = datetime.now(fixtures.APP_ZONE).strftime("%Y%m%d")
    return "TXN-%s-%s" % (day, "".join(rng.choice(string.ascii_uppercase + string.digits)
                                       for _ in range(6)))


def sell(db, kg, price="850.50", cashier_id=2, inventory_id=1, number=None, customer="Walk-in",
         conn=None, at=None):
    """A sale as the app makes it: one transaction row and the stock decrement of the inventory
    row, in one SQLite transaction. Returns the transaction_number."""
    number = number or txn_number()
    stamp = at or now_db()
    total = "%.2f" % (float(kg) * float(price))
    own = conn is None
    c = conn or fixtures.open_db(db)
    try:
        c.execute("BEGIN IMMEDIATE")
        c.execute(
            "INSERT INTO transactions (transaction_number, cashier_id, quantity_kg, price_per_kg, "
            "total_amount, customer_name, customer_phone, notes, status, created_at, updated_at, "
            "payment_type) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, 'completed', ?, ?, 'cash')",
            (number, cashier_id, kg, price, total, customer, stamp, stamp))
        if inventory_id is not None:
            c.execute("UPDATE inventory SET current_stock = current_stock - ?, updated_at = ? "
                      "WHERE id = ?", (kg, stamp, inventory_id))
        c.execute("COMMIT")
    except BaseException:
        if c.in_transaction:
            c.execute("ROLLBACK")
        raise
    finally:
        if own:
            c.close()
    return number


def add_user(db, name, email, role="cashier", at=None):
    """Inserts a users row as the app does (bcrypt password, timestamps); returns its id."""
    stamp = at or now_db()
    conn = fixtures.open_db(db)
    try:
        cur = conn.execute(
            "INSERT INTO users (name, email, email_verified_at, password, role, is_active, "
            "remember_token, created_at, updated_at) VALUES (?, ?, NULL, ?, ?, 1, NULL, ?, ?)",
            (name, email, fixtures.PASSWORD_HASH, role, stamp, stamp))
        return cur.lastrowid
    finally:
        conn.close()


def rows(db, table, order="id"):
    """Every row of `table` as a dict, ordered by `order`."""
    return fixtures.rows_as_dicts(db, 'SELECT * FROM "%s" ORDER BY %s' % (table, order))


def stock(db, inventory_id=1):
    value = fixtures.query(db, "SELECT current_stock FROM inventory WHERE id = ?",
                           (inventory_id,))
    return value[0][0] if value else None


def comparable(db, table, key):
    """{identity: row without `id` (for tables whose id the master may reassign) and without
    remember_token} for comparing a slave's rows with the master's."""
    out = {}
    for row in rows(db, table):
        row = dict(row)
        row.pop("remember_token", None)
        out[row[key]] = row
    return out


# --- fake masters -----------------------------------------------------------------------------

def closed_port():
    """A loopback port nobody listens on (bound, then closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class _Quiet(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass


class ErrorServer:
    """An HTTP server answering every request with `status` and a JSON body; counts requests."""

    def __init__(self, status=500):
        outer = self
        self.requests = 0

        class Handler(_Quiet):
            def _answer(self):
                outer.requests += 1
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                body = b'{"error":"Server Error"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_HEAD = _answer

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class TruncatingServer:
    """A socket server that reads a request, sends headers promising Content-Length 1000, then
    10 bytes, and closes the connection. Counts connections."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.connections = 0
        self._stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        while not self._stop:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            try:
                client.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = client.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                client.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                               b"Content-Length: 1000\r\n\r\n" + b'{"success"')
            except OSError:
                pass
            finally:
                try:
                    client.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                client.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class SilentServer:
    """Accepts connections and never answers (a master that hangs)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.clients = []
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self.clients.append(client)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for c in self.clients:
            c.close()


def _read_request(sock):
    """One HTTP request with a Content-Length body (or none) from `sock`: (head, body), or
    None when the peer closed first."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        body += chunk
    return head, body


class LosingProxy:
    """A proxy in front of a real master that forwards every request, one per connection, and
    throws away the master's answer to the requests `lose(method, target, index)` picks (index:
    how many requests with that method and path came before): the master applied the request,
    the slave never hears of it. Counts requests per (method, path) and keeps every (method,
    target) in `targets`, in order."""

    def __init__(self, host, port, lose):
        self.upstream = (host, port)
        self.lose = lose
        self.seen = {}
        self.targets = []
        self.lost = []
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client):
        try:
            client.settimeout(30)
            request = _read_request(client)
            if request is None:
                return
            head, body = request
            lines = head.split(b"\r\n")
            method, target, _ = lines[0].decode("latin-1").split(" ", 2)
            path = target.split("?", 1)[0]
            with self.lock:
                index = self.seen.get((method, path), 0)
                self.seen[(method, path)] = index + 1
                self.targets.append((method, target))
            kept = [l for l in lines[1:] if not l.lower().startswith(b"connection:")]
            upstream_head = b"\r\n".join([lines[0]] + kept + [b"Connection: close"])
            up = socket.create_connection(self.upstream, timeout=30)
            try:
                up.sendall(upstream_head + b"\r\n\r\n" + body)
                answer = b""
                while True:
                    chunk = up.recv(65536)
                    if not chunk:
                        break
                    answer += chunk
            finally:
                up.close()
            if self.lose(method, path, index):
                with self.lock:
                    self.lost.append((method, target))
                return  # the answer is lost on the way back
            client.sendall(answer)
        except OSError:
            pass
        finally:
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            client.close()

    def count(self, method, path):
        with self.lock:
            return self.seen.get((method, path), 0)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


class FakePhpMaster:
    """A version-1-only master shaped like the PHP module (fixtures/wire): GET
    /api/sync/status is an HTML 404, pull answers every row whose Lagos `updated_at` text is >=
    `since` (compared as text, as PHP does), push answers `synced_count` and creates every row
    anew (its own id and time stamps; a known transaction_number is a 500), as the captures show.
    `tables` maps a table to its wire rows (the pull_nosince captures by default); every request
    is recorded in `requests` as (method, target, parsed JSON body or None)."""

    def __init__(self, tables=None, key=KEY):
        outer = self
        self.tables = {t: [dict(r) for r in fixtures.pull_capture_rows(t)]
                       for t in fixtures.SYNCED_TABLES} if tables is None else tables
        self.requests = []
        self.lock = threading.Lock()

        class Handler(_Quiet):
            protocol_version = "HTTP/1.1"

            def _send(self, status, body, content_type="application/json"):
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)
                self.close_connection = True

            def do_GET(self):
                with outer.lock:
                    outer.requests.append(("GET", self.path, None))
                if self.headers.get("X-Sync-API-Key") != key:
                    return self._send(401, {"error": "Unauthorized",
                                            "message": "Invalid or missing API key"})
                url = urllib.parse.urlsplit(self.path)
                if url.path != "/api/sync/pull":
                    return self._send(404, b"<!DOCTYPE html><title>Not Found</title>",
                                      "text/html; charset=UTF-8")
                q = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
                table = q.get("table")
                if table not in outer.tables:
                    return self._send(422, {"error": "Validation failed",
                                            "errors": {"table": ["The selected table is invalid."]}})
                since = q.get("since") or None
                with outer.lock:
                    data = [r for r in outer.tables[table]
                            if since is None or fixtures.lagos_db_text(r["updated_at"]) >= since]
                self._send(200, {"success": True, "data": data, "count": len(data),
                                 "table": table, "since": since})

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                with outer.lock:
                    outer.requests.append(("POST", self.path, body))
                if self.headers.get("X-Sync-API-Key") != key:
                    return self._send(401, {"error": "Unauthorized",
                                            "message": "Invalid or missing API key"})
                if self.path != "/api/sync/push":
                    return self._send(404, b"<!DOCTYPE html><title>Not Found</title>",
                                      "text/html; charset=UTF-8")
                table = body.get("table")
                stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000000Z")
                with outer.lock:
                    rows_ = outer.tables.setdefault(table, [])
                    numbers = {r.get("transaction_number") for r in rows_}
                    if table == "transactions" and any(
                            r.get("transaction_number") in numbers for r in body.get("data", [])):
                        return self._send(500, {"message": "Server Error"})
                    for row in body.get("data", []):
                        # As the PHP master: every pushed row is created anew under the
                        # master's next id and its own time stamps.
                        row = dict(row, id=max([r["id"] for r in rows_] + [0]) + 1,
                                   created_at=stamp, updated_at=stamp)
                        rows_.append(row)
                self._send(200, {"success": True,
                                 "message": "Successfully synced %s data" % table,
                                 "synced_count": len(body.get("data", []))})

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def pushes(self, table=None):
        with self.lock:
            return [b for m, _, b in self.requests
                    if m == "POST" and (table is None or b.get("table") == table)]

    def pulls(self, table):
        with self.lock:
            out = []
            for m, target, _ in self.requests:
                url = urllib.parse.urlsplit(target)
                q = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
                if m == "GET" and url.path == "/api/sync/pull" and q.get("table") == table:
                    out.append(q)
            return out

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


class SlaveTestCase(unittest.TestCase):
    """A temporary directory per test (removed at cleanup) and helpers to make databases."""

    def setUp(self):
        import tempfile
        import shutil
        self.tmp = tempfile.mkdtemp(prefix="ruxx-slave-it-")
        self.addCleanup(shutil.rmtree, self.tmp, True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def master_db(self, name="master.sqlite", seed=True):
        db = fixtures.make_app_db(self.path(name))
        if seed:
            fixtures.seed_php_master(db)
        return db

    def start_master(self, db, **kw):
        """A running master on `db`, stopped at cleanup (exit 0 checked)."""
        server = start_master(db, **kw)

        def stop():
            try:
                code = server.stop()
                self.assertEqual(code, 0, server.stderr_text())
            finally:
                server.kill()
        self.addCleanup(stop)
        return server

    def start_php_master(self, **kw):
        """A running FakePhpMaster, stopped at cleanup."""
        php = FakePhpMaster(**kw)
        php.__enter__()
        self.addCleanup(php.__exit__, None, None, None)
        return php

    def start_synced_pair(self):
        """self.mdb (seeded) with a running self.master, and self.slave recovered from it by one
        run."""
        self.mdb = self.master_db()
        self.master = self.start_master(self.mdb)
        self.slave = self.path("slave.sqlite")
        self.sync(self.slave, self.master)

    def sync(self, db, master, *args, expect=0, **kw):
        """One `--once` run that must exit `expect`; returns the CompletedProcess."""
        url = master if isinstance(master, str) else master.url
        result = run_slave(db, url, *args, **kw)
        self.assertEqual(result.returncode, expect, describe(result))
        self.assertNotIn(KEY, result.stdout + result.stderr, "the API key leaked")
        return result
