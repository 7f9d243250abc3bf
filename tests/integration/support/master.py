"""Start the real master-server on a loopback port and talk HTTP to it.

The binary comes from RUXX_MASTER_SERVER (set by ctest, see tests/integration/CMakeLists.txt),
or from the usual build directories when the tests are run by hand. Every server gets a clean
environment (no APP_MODE, SYNC_API_KEY or DB_DATABASE leaking in from the caller's shell).
"""

import glob
import gzip
import http.client
import json
import os
import select
import signal
import socket
import subprocess
import tempfile
import threading
import time

API_KEY = "peerkey"
LISTEN_TIMEOUT = 15.0
STOP_TIMEOUT = 20.0

_REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def master_binary():
    """Path of the master-server binary under test."""
    path = os.environ.get("RUXX_MASTER_SERVER")
    if path:
        return path
    # By hand: the most recently built binary of any build directory of the checkout.
    candidates = [path for path in glob.glob(os.path.join(_REPO, "build*", "master-server",
                                                          "master-server"))
                  if os.access(path, os.X_OK)]
    if candidates:
        return max(candidates, key=os.path.getmtime)
    raise RuntimeError("set RUXX_MASTER_SERVER to the master-server binary")


def base_env(**extra):
    """A minimal environment for the server: PATH, the app time zone, and `extra`.

    A value of None in `extra` leaves that name out."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "APP_TIMEZONE": "Africa/Lagos"}
    for name, value in extra.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


class Response:
    """One HTTP answer: status, headers (lower-case names), raw body (decoded from gzip when
    the server compressed it; `wire_body` keeps what came over the wire)."""

    def __init__(self, status, headers, wire_body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers}
        self.wire_body = wire_body
        if self.headers.get("content-encoding", "").lower() == "gzip":
            self.body = gzip.decompress(wire_body)
        else:
            self.body = wire_body

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "Response(%d, %r)" % (self.status, self.body[:300])


class MasterServer:
    """The master-server process. Use as a context manager, or call start() and stop().

    `db` is the SQLite file, `args` extra command-line flags, `env` extra environment
    (SYNC_API_KEY defaults to API_KEY; pass SYNC_API_KEY=None to leave it out)."""

    def __init__(self, db, args=(), env=None, key=API_KEY):
        self.db = db
        self.args = list(args)
        self.key = key
        extra = {"SYNC_API_KEY": key}
        extra.update(env or {})
        self.env = base_env(**extra)
        self.proc = None
        self.host = None
        self.port = None
        self._stderr = tempfile.TemporaryFile()
        self._stderr_final = ""
        self._drainer = None
        self._stdout_lines = []

    def command(self):
        return [master_binary(), "--db", self.db, "--listen", "127.0.0.1:0"] + self.args

    def start(self):
        self.proc = subprocess.Popen(self.command(), env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self._stderr)
        deadline = time.monotonic() + LISTEN_TIMEOUT
        buffered = b""
        while b"\n" not in buffered:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.kill()
                raise RuntimeError("master-server did not print its listening line; stderr:\n"
                                   + self.stderr_text())
            ready, _, _ = select.select([self.proc.stdout], [], [], min(left, 0.2))
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    continue
                buffered += chunk
        line, _, rest = buffered.partition(b"\n")
        text = line.decode().strip()
        if not text.startswith("listening on "):
            self.kill()
            raise RuntimeError("unexpected first stdout line: %r" % text)
        address = text[len("listening on "):]
        host, _, port = address.rpartition(":")
        self.host, self.port = host.strip("[]"), int(port)
        self._stdout_lines.append(text)
        # Keep draining stdout so the server can never block on a full pipe.
        self._drainer = threading.Thread(target=self._drain, args=(rest,), daemon=True)
        self._drainer.start()
        return self

    def _drain(self, rest):
        data = rest
        while True:
            chunk = self.proc.stdout.read(4096)
            if not chunk:
                break
            data += chunk
        self._stdout_lines.extend(data.decode(errors="replace").splitlines())

    def stderr_text(self):
        if self._stderr.closed:
            return self._stderr_final
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")

    def send_signal(self, signum=signal.SIGTERM):
        self.proc.send_signal(signum)

    def wait(self, timeout=STOP_TIMEOUT):
        code = self.proc.wait(timeout)
        self.release()
        return code

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, then wait; returns the exit code (kills and fails after `timeout`)."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        self.release()
        return code

    def kill(self):
        """SIGKILL if still running, then release()."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.release()

    def release(self):
        """After the process has exited: closes the pipes, keeping stderr's text."""
        if self.proc is None or self.proc.poll() is None or self._stderr.closed:
            return
        if self._drainer is not None:
            self._drainer.join(5)
        if self.proc.stdout:
            self.proc.stdout.close()
        self._stderr_final = self.stderr_text()
        self._stderr.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        try:
            self.stop()
        finally:
            self.kill()

    # --- HTTP -------------------------------------------------------------------------------

    def connection(self, timeout=30):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, target, body=None, headers=None, key="default", conn=None,
                gzip_body=False):
        """Sends one request and returns a Response. `body` may be bytes, str or a JSON-able
        object; `key` is the API key header ("default": the server's key, None: no header).
        Uses `conn` when given (keep-alive), else a fresh connection closed afterwards."""
        h = {}
        if key == "default":
            key = self.key
        if key is not None:
            h["X-Sync-API-Key"] = key
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode("utf-8")
        if body is not None:
            h["Content-Type"] = "application/json"
            if gzip_body:
                body = gzip.compress(body)
                h["Content-Encoding"] = "gzip"
        h.update(headers or {})
        own = conn is None
        c = conn or self.connection()
        try:
            c.request(method, target, body=body, headers=h)
            r = c.getresponse()
            return Response(r.status, r.getheaders(), r.read())
        finally:
            if own:
                c.close()

    def get(self, target, **kw):
        return self.request("GET", target, **kw)

    def post(self, target, body, **kw):
        return self.request("POST", target, body=body, **kw)

    def push(self, table, data, **fields):
        """POST /api/sync/push with {"table", "data", **fields}; `headers`, `key`, `conn`,
        `gzip_body` are passed to request()."""
        kw = {k: fields.pop(k) for k in ("headers", "key", "conn", "gzip_body") if k in fields}
        body = {"table": table, "data": data}
        body.update(fields)
        return self.post("/api/sync/push", body, **kw)

    def pull(self, table, since=None, **kw):
        from urllib.parse import urlencode
        q = {"table": table}
        if since is not None:
            q["since"] = since
        return self.get("/api/sync/pull?" + urlencode(q), **kw)

    def pull_v2(self, table, cursor="", limit=None, node_id="node-test", **kw):
        from urllib.parse import urlencode
        q = {"table": table, "cursor": cursor}
        if limit is not None:
            q["limit"] = str(limit)
        headers = dict(kw.pop("headers", {}))
        if node_id:
            headers["X-Sync-Node-Id"] = node_id
        return self.get("/api/sync/pull?" + urlencode(q), headers=headers, **kw)

    def raw_socket(self, timeout=10):
        s = socket.create_connection((self.host, self.port), timeout=timeout)
        return s


def raw_exchange(host, port, request_bytes, timeout=15):
    """Sends `request_bytes` on a new connection, reads until the server closes it or a full
    Content-Length body arrived, and returns a Response."""
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        s.sendall(request_bytes)
        data = b""
        while True:
            head_end = data.find(b"\r\n\r\n")
            if head_end >= 0:
                head = data[:head_end].decode("latin-1").split("\r\n")
                headers = [tuple(x.strip() for x in line.split(":", 1)) for line in head[1:]]
                length = None
                for name, value in headers:
                    if name.lower() == "content-length":
                        length = int(value)
                if length is not None and len(data) - head_end - 4 >= length:
                    status = int(head[0].split()[1])
                    body = data[head_end + 4: head_end + 4 + length]
                    return Response(status, headers, body)
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        raise AssertionError("connection closed before a complete answer: %r" % data[:500])
    finally:
        s.close()
