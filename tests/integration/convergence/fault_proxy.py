"""A small HTTP-aware TCP proxy between one slave-agent run and the master, injecting one fault.

The proxy frames HTTP/1.1 messages (Content-Length or chunked bodies, keep-alive) so it can
count the exchanges of a run and hit exactly one of them:

- `pass`: every byte is forwarded both ways (a plain relay).
- `cut`: the `target`-th exchange's request reaches the master and the master answers in full,
  but only the first `fraction` of the answer's bytes (head included) reach the agent, then
  both connections are closed: the connection is cut mid-body.
- `cut_request`: the `target`-th exchange's request reaches the master only up to the first
  `fraction` of its bytes (head included, so the master is reading the body when it stops),
  then both connections are closed: the request is cut mid-body.
- `lose`: the `target`-th exchange (counting only requests whose method is `method`, e.g. POST)
  reaches the master, the proxy reads the master's complete answer (so the master has
  committed) and closes the agent's connection without sending a byte of it: a response lost
  after the commit.

- `trigger`: every byte passes, but the `target`-th exchange calls `on_trigger(stage, line)`:
  with stage "request" once its request was forwarded to the master and before its answer is
  read (the master is working on it: a kill there lands mid-request), with stage "answer" once
  its answer was forwarded to the agent (the agent is reading or applying it). The harness uses
  it to kill the master or the agent at an exact point of a run.

Exchanges are numbered from 1 across all connections of the proxy. Only the targeted exchanges
are harmed (`count` of them, so the agent's retry of the same request can be harmed too); the
others pass. `events` records what happened, for the failure report.
"""

import socket
import threading

IO_TIMEOUT = 30.0


class _Closed(Exception):
    """The peer closed the connection (or it failed) before a complete message."""

    def __init__(self, partial=b""):
        super().__init__("connection closed")
        self.partial = partial


class _Reader:
    """Buffered reads of one socket, keeping every byte read so far for the current message."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def _more(self):
        try:
            chunk = self.sock.recv(65536)
        except OSError:
            chunk = b""
        if not chunk:
            raise _Closed(self.buf)
        self.buf += chunk

    def until(self, marker, start):
        while True:
            pos = self.buf.find(marker, start)
            if pos >= 0:
                return pos
            self._more()

    def ensure(self, size):
        while len(self.buf) < size:
            self._more()

    def read_to_close(self):
        while True:
            try:
                self._more()
            except _Closed:
                return

    def take(self, size):
        out, self.buf = self.buf[:size], self.buf[size:]
        return out


def _headers(head):
    lines = head.decode("latin-1").split("\r\n")
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    return lines[0], fields


def read_message(reader, is_response, request_method=None):
    """Reads one whole HTTP message from `reader`; returns (start line, headers, raw bytes).

    Raises _Closed (with the bytes read so far) when the peer closes first."""
    end = reader.until(b"\r\n\r\n", 0) + 4
    start_line, fields = _headers(reader.buf[:end])
    size = end
    if is_response and (request_method == "HEAD" or
                        start_line.split(" ")[1:2] in (["204"], ["304"])):
        return start_line, fields, reader.take(size)
    if "chunked" in fields.get("transfer-encoding", "").lower():
        pos = end
        while True:
            line_end = reader.until(b"\r\n", pos)
            length = int(reader.buf[pos:line_end].split(b";")[0].strip() or b"0", 16)
            pos = line_end + 2
            if length == 0:
                pos = reader.until(b"\r\n\r\n", pos - 2) + 4  # trailers end with an empty line
                break
            reader.ensure(pos + length + 2)
            pos += length + 2
        size = pos
    elif "content-length" in fields:
        size = end + int(fields["content-length"])
        reader.ensure(size)
    elif is_response:
        reader.read_to_close()  # a body delimited by the end of the connection
        size = len(reader.buf)
    return start_line, fields, reader.take(size)


class FaultProxy:
    """Listens on 127.0.0.1 (a free port) and relays to `upstream_port` with one fault.

    mode: "pass", "cut", "cut_request", "lose" or "trigger"; target: the first exchange number
    to harm (1-based); count: how many matching exchanges from `target` on are harmed (2
    exhausts the agent's `--retries 2`, so the run fails and the next run must pick up the
    pieces);
    method: only count requests with this method (None: all); fraction: for "cut" and
    "cut_request", the share of the answer's (request's) bytes that is forwarded
    (0 <= fraction < 1); stage and on_trigger: for "trigger" (see above); before_answer: called
    with the request line once the master answered, before the agent gets the answer (for tests
    that must act at an exact point of a run). Use as a context manager."""

    def __init__(self, upstream_port, mode="pass", target=1, method=None, fraction=0.5,
                 before_answer=None, count=1, stage="request", on_trigger=None):
        self.stage = stage
        self.on_trigger = on_trigger
        self.upstream_port = upstream_port
        self.count = count
        self.before_answer = before_answer
        self.mode = mode
        self.target = target
        self.method = method
        self.fraction = fraction
        self.events = []
        self.fired = False
        self._count = 0
        self._lock = threading.Lock()
        self._threads = []
        self._socks = set()
        self._stop = False
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(32)
        self.port = self.sock.getsockname()[1]
        self.url = "http://127.0.0.1:%d" % self.port
        self._acceptor = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self):
        self._acceptor.start()
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._stop = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        with self._lock:
            socks = list(self._socks)
        for s in socks:
            self._close(s)
        for t in self._threads:
            t.join(5)
        self._acceptor.join(5)

    def _track(self, s):
        with self._lock:
            self._socks.add(s)

    def _close(self, s):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            s.close()
        except OSError:
            pass
        with self._lock:
            self._socks.discard(s)

    def _accept(self):
        while not self._stop:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            client.settimeout(IO_TIMEOUT)
            self._track(client)
            t = threading.Thread(target=self._serve, args=(client,), daemon=True)
            self._threads.append(t)
            t.start()

    def _decide(self, method):
        """The action for the next exchange whose request has `method`."""
        with self._lock:
            if self.method is not None and method != self.method:
                return "pass"
            self._count += 1
            if self.mode != "pass" and self.target <= self._count < self.target + self.count:
                self.fired = True
                return self.mode
            return "pass"

    def _serve(self, client):
        upstream = None
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port),
                                                timeout=IO_TIMEOUT)
        except OSError as e:
            self.events.append("upstream connect failed: %s" % e)
            self._close(client)
            return
        self._track(upstream)
        from_client = _Reader(client)
        from_master = _Reader(upstream)
        try:
            while True:
                try:
                    line, _, request = read_message(from_client, False)
                except _Closed:
                    return
                method = line.split(" ", 1)[0]
                action = self._decide(method)
                if action == "cut_request":
                    keep = min(len(request) - 1, int(len(request) * self.fraction))
                    upstream.sendall(request[:keep])
                    self.events.append("%s: request cut after %d of %d bytes"
                                       % (line, keep, len(request)))
                    return
                upstream.sendall(request)
                if action == "trigger" and self.stage == "request":
                    self.events.append("%s: %s" % (line, self.on_trigger("request", line)))
                try:
                    _, fields, answer = read_message(from_master, True, method)
                except _Closed as closed:
                    # The master went away mid-answer (restarted): the agent sees the same.
                    if closed.partial:
                        client.sendall(closed.partial)
                    self.events.append("%s: master closed mid-answer" % line)
                    return
                if action == "cut":
                    keep = min(len(answer) - 1, int(len(answer) * self.fraction))
                    client.sendall(answer[:keep])
                    self.events.append("%s: cut after %d of %d answer bytes"
                                       % (line, keep, len(answer)))
                    return
                if action == "lose":
                    self.events.append("%s: answer of %d bytes lost after the master sent it"
                                       % (line, len(answer)))
                    return
                if self.before_answer is not None:
                    self.before_answer(line)
                client.sendall(answer)
                if action == "trigger" and self.stage == "answer":
                    self.events.append("%s: %s" % (line, self.on_trigger("answer", line)))
                if fields.get("connection", "").lower() == "close":
                    return
        except OSError as e:
            self.events.append("relay error: %s" % e)
        finally:
            self._close(client)
            if upstream is not None:
                self._close(upstream)
