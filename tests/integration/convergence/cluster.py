"""The processes of one schedule: a master-server on a fixed loopback port and three slaves.

- free_port(): a port outside the kernel's ephemeral range, so that neither our own client
  sockets nor other tests' port-0 servers take it while the master is down for a restart.
- MasterProcess: start / stop(SIGTERM) / kill(SIGKILL) / restart on the SAME port (slaves keep
  their URL), keeping the stderr of every incarnation.
- AgentRun: one `slave-agent --once` process (stdout/stderr to files, never a pipe that could
  fill), which the harness may SIGKILL at any moment.
"""

import os
import random
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))

from support import slave_support  # noqa: E402
from support.master import base_env  # noqa: E402

KEY = slave_support.KEY
AGENT_TIMEOUT = 60
AGENT_ARGS = ("--retries", "2", "--timeout", "5")


def master_binary():
    return slave_support.master_binary()


def slave_binary():
    return slave_support.slave_binary()


def _ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low, high = (int(x) for x in f.read().split())
            return low, high
    except (OSError, ValueError):
        return 32768, 60999


def free_port():
    """A loopback port that is free now and outside the ephemeral range."""
    low, high = _ephemeral_range()
    picker = random.SystemRandom()  # not the schedule's generator: ports are not part of it
    for _ in range(200):
        port = picker.randint(20000, 32000)
        if low <= port <= high:
            continue
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise RuntimeError("no free port found")


class MasterProcess:
    """master-server --db DB --listen 127.0.0.1:PORT with the test key and a clean environment."""

    def __init__(self, db, port, workdir):
        self.db = db
        self.port = port
        self.workdir = workdir
        self.proc = None
        self.incarnation = 0
        self.stderr_path = None
        self.logs = []  # (incarnation, how it ended, stderr tail)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def command(self):
        return [master_binary(), "--db", self.db, "--listen", "127.0.0.1:%d" % self.port]

    def start(self, attempts=50):
        """Starts the server and waits for its `listening on` line. The port may still be
        held for a moment after a kill: retried for a few seconds."""
        last = ""
        for _ in range(attempts):
            self.incarnation += 1
            self.stderr_path = os.path.join(self.workdir, "master-%d.stderr" % self.incarnation)
            err = open(self.stderr_path, "wb")
            env = base_env(SYNC_API_KEY=KEY)
            self.proc = subprocess.Popen(self.command(), env=env, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.PIPE, stderr=err)
            err.close()
            line = self._first_line(15.0)
            if line.startswith("listening on "):
                # stdout is otherwise unused; a reader thread is not needed because the
                # server prints only this line, but keep the pipe from ever filling.
                self._drain()
                return self
            self.proc.wait(10)
            last = self._stderr_tail()
            self.logs.append((self.incarnation, "failed to start (%r)" % self.proc.returncode,
                              last))
            self.proc.stdout.close()
            self.proc = None
            time.sleep(0.1)
        raise RuntimeError("master-server did not start on port %d: %s" % (self.port, last))

    def _first_line(self, timeout):
        """The first stdout line ('' when the process exits or stays silent for `timeout`)."""
        import select

        deadline = time.monotonic() + timeout
        data = b""
        fd = self.proc.stdout.fileno()
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0:
                self.proc.kill()
                break
            ready, _, _ = select.select([fd], [], [], min(left, 0.2))
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                data += chunk
        return data.split(b"\n", 1)[0].decode(errors="replace").strip()

    def _drain(self):
        import threading

        proc = self.proc

        def drain():
            try:
                while proc.stdout.read(4096):
                    pass
            except (OSError, ValueError):
                pass

        threading.Thread(target=drain, daemon=True).start()

    def _stderr_tail(self, size=6000):
        try:
            with open(self.stderr_path, "rb") as f:
                data = f.read()
            return data[-size:].decode(errors="replace")
        except OSError:
            return ""

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=20, sent=False):
        """Signals the server (unless `sent`: the caller already did) and waits; returns its
        exit code (None if it was not running)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None and not sent:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait(10)
            self.logs.append((self.incarnation, "did not stop on %s" % sig, self._stderr_tail()))
            raise RuntimeError("master-server did not exit %ds after %s" % (timeout, sig))
        self.logs.append((self.incarnation, "signal %s -> exit %r" % (sig, code),
                          self._stderr_tail(2000)))
        self._close_stdout()
        self.proc = None
        return code

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._close_stdout()
        self.proc = None

    def _close_stdout(self):
        if self.proc is not None and self.proc.stdout is not None:
            try:
                self.proc.stdout.close()
            except OSError:
                pass

    def restart(self, sig, sent=False):
        """Stops with `sig` (SIGTERM must exit 0) and starts again on the same port; returns
        the exit code of the stopped incarnation."""
        code = self.stop(sig, sent=sent)
        self.start()
        return code

    def signal(self, sig):
        """Sends `sig` now, without waiting (restart(sig, sent=True) waits and starts again)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)


class AgentRun:
    """One `slave-agent --once [extra]` process for `db` against `url`."""

    def __init__(self, db, url, node_id, workdir, label, extra=()):
        self.db = db
        self.url = url
        self.out_path = os.path.join(workdir, "%s.stdout" % label)
        self.err_path = os.path.join(workdir, "%s.stderr" % label)
        self.command = [slave_binary(), "--db", db, "--master-url", url, "--once"]
        self.command += list(AGENT_ARGS) + list(extra)
        self.env = base_env(APP_MODE="slave", SYNC_API_KEY=KEY, SYNC_NODE_ID=node_id)
        self.proc = None
        self.started = None
        self.code = None
        self.killed = False

    def start(self):
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(self.command, env=self.env, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=err)
        self.started = time.monotonic()
        return self

    def kill9(self, wait=True):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.killed = True
        return self.wait() if wait else None

    def wait(self, timeout=AGENT_TIMEOUT):
        """Waits for the exit; a run that hangs is killed and reported as code 'hung'."""
        try:
            self.code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
            self.code = "hung"
        return self.code

    def output(self, size=4000):
        parts = []
        for path in (self.out_path, self.err_path):
            try:
                with open(path, "rb") as f:
                    parts.append(f.read()[-size:].decode(errors="replace"))
            except OSError:
                parts.append("")
        return "--- stdout\n%s\n--- stderr\n%s" % tuple(parts)
