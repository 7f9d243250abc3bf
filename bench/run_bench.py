#!/usr/bin/env python3
"""Benchmark driver for ruxx-sync (docs/PERFORMANCE.md).

Builds nothing itself: build first with
    cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release
    cmake --build build-bench -j2 --target master-server slave-agent ruxx_bench_db
then run e.g.
    python3 bench/run_bench.py --build-dir build-bench --work /tmp/ruxx-bench --runs 5

Scenarios (--only 1,2,...):
  1  master: pull of N transactions in one v1 request (curl, no compression), and the same rows
     through v2 pages of 5000 (one keep-alive connection); peak RSS (VmHWM) of a fresh master.
  2  master: push of 10k transaction rows as one v1 request, and as 20 v2 batches of 500
     (one keep-alive connection), into a copy of the 100k-row master database.
  3  master: small pulls (GET /api/sync/pull?table=inventory) with wrk -t2 -c16 -d10s.
  4  slave: full recovery of 1M transactions (slave-agent --once on a missing database) against
     a bare prepared INSERT of the same rows (ruxx_bench_db bare-insert), alternated per run.
  5  slave: incremental sync (slave-agent --once) after 100 rows changed at the slave and 100 at
     the master, with 1M-row and with 10k-row tables; cold: fresh file copies and a freshly
     started master for every run. The sizes take turns run for run.
  6  the same in steady state: one master per size keeps running over the same files, each run
     edits 100 new rows on each side and syncs them with a fresh slave-agent --once; 2 x --runs
     runs per size, the sizes taking turns run for run.

Every figure is measured here; the PHP figures printed beside them are the reference values from
the issues. Everything runs on 127.0.0.1 only; each request loop is bounded.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
import urllib.parse

KEY = "benchkey"
FUTURE = "2030-06-01 12:00:00"  # updated_at of benchmark edits: newer than every seeded row


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def remove_db(path):
    for suffix in ("", "-wal", "-shm", "-journal", ".recovering", ".recovering-wal",
                   ".recovering-shm", ".lock"):
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            pass


def copy_db(src, dst):
    remove_db(dst)
    shutil.copyfile(src, dst)
    for suffix in ("-wal",):
        if os.path.exists(src + suffix):
            shutil.copyfile(src + suffix, dst + suffix)


def median(values):
    return statistics.median(values)


class Master:
    """A master-server on 127.0.0.1 with a free port; logs go to a file."""

    def __init__(self, exe, db, log_path, threads=2):
        env = dict(os.environ, SYNC_API_KEY=KEY, APP_MODE="master")
        env.pop("DB_DATABASE", None)
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(
            [exe, "--db", db, "--listen", "127.0.0.1:0", "--threads", str(threads)],
            stdout=subprocess.PIPE, stderr=self.log, env=env)
        line = self.proc.stdout.readline().decode()
        m = re.match(r"listening on (\S+):(\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError("master-server did not start: %r (see %s)" % (line, log_path))
        self.port = int(m.group(2))

    def url(self, path=""):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def hwm_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return -1

    def cpu_seconds(self):
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def reset_hwm(self):
        # Linux: writing 5 to clear_refs resets the peak RSS to the current RSS.
        with open("/proc/%d/clear_refs" % self.proc.pid, "w") as f:
            f.write("5")

    def stop(self):
        hwm = self.hwm_kib()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            log("master-server %d did not stop within 60 s; killing it" % self.proc.pid)
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        return hwm


def run_timed(cmd, env=None, stdout_path=None, stderr_path=None):
    """Runs cmd; returns (seconds, exit code, peak RSS KiB, stdout text, CPU seconds)."""
    out = open(stdout_path, "wb") if stdout_path else subprocess.PIPE
    err = open(stderr_path, "ab") if stderr_path else subprocess.DEVNULL
    # The peak RSS comes from GNU time: wait4's ru_maxrss would also count the pages of this
    # (large) Python process that the child shares between fork and exec.
    rss_file = "/tmp/ruxx-bench-maxrss.%d" % os.getpid()
    if os.access("/usr/bin/time", os.X_OK):
        cmd = ["/usr/bin/time", "-f", "%M", "-o", rss_file] + cmd
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
    text = b""
    if out is subprocess.PIPE:
        text = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if stdout_path:
        out.close()
        with open(stdout_path, "rb") as f:
            text = f.read()
    if stderr_path:
        err.close()
    maxrss = usage.ru_maxrss
    if cmd[0] == "/usr/bin/time":
        with open(rss_file) as f:
            maxrss = int(f.read().split()[-1])
        os.remove(rss_file)
    return (seconds, proc.returncode, maxrss, text.decode(errors="replace"),
            usage.ru_utime + usage.ru_stime)


def curl(url, out_path, data_path=None, compressed=False):
    cmd = ["curl", "-sS", "--max-time", "300", "-o", out_path,
           "-w", "%{http_code} %{time_total} %{size_download}",
           "-H", "X-Sync-API-Key: " + KEY]
    if compressed:
        cmd.append("--compressed")
    if data_path:
        cmd += ["-H", "Content-Type: application/json", "--data-binary", "@" + data_path]
    cmd.append(url)
    text = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split()
    code, seconds, size = int(text[0]), float(text[1]), int(float(text[2]))
    if code != 200:
        with open(out_path, "rb") as f:
            raise RuntimeError("HTTP %d from %s: %s" % (code, url, f.read(300)))
    return seconds, size


def rows_in(db, table="transactions"):
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT count(*) FROM %s" % table).fetchone()[0]
    finally:
        con.close()


class Bench:
    def __init__(self, args):
        self.args = args
        self.work = os.path.abspath(args.work)
        os.makedirs(self.work, exist_ok=True)
        b = os.path.abspath(args.build_dir)
        self.master_exe = os.path.join(b, "master-server", "master-server")
        self.slave_exe = os.path.join(b, "slave-agent", "slave-agent")
        self.db_exe = os.path.join(b, "bench", "ruxx_bench_db")
        for exe in (self.master_exe, self.slave_exe, self.db_exe):
            if not os.access(exe, os.X_OK):
                sys.exit("missing %s: build master-server slave-agent ruxx_bench_db" % exe)
        self.results = {}
        self.upgraded_seeds = set()
        self.master_log = os.path.join(self.work, "master.log")
        self.slave_log = os.path.join(self.work, "slave.log")

    def path(self, name):
        return os.path.join(self.work, name)

    def record(self, key, samples, unit, **extra):
        entry = {"samples": samples, "median": median(samples), "min": min(samples),
                 "max": max(samples), "unit": unit,
                 "loadavg_1min_at_end": os.getloadavg()[0]}
        entry.update(extra)
        self.results[key] = entry
        log("  %-40s median %.4g %s  (min %.4g, max %.4g, n=%d, load %.1f)" %
            (key, entry["median"], unit, entry["min"], entry["max"], len(samples),
             entry["loadavg_1min_at_end"]))

    # --- data -----------------------------------------------------------------------------
    def master_db(self, transactions):
        """A seeded master database with its bookkeeping tables and triggers (cached)."""
        name = self.path("master_%d.db" % transactions)
        ready = name + ".ready"
        if os.path.exists(ready):
            return self.upgraded(name, "master")
        remove_db(name)
        log("seeding %s with %d transactions" % (name, transactions))
        subprocess.run([self.db_exe, "seed", name, "--users", "20", "--transactions",
                        str(transactions), "--inventory", "1"], check=True)
        Master(self.master_exe, name, self.master_log).stop()  # creates sync tables, triggers
        open(ready, "w").close()
        return name

    def upgraded(self, name, role):
        """A cached seed, brought once per run of this driver to the build's bookkeeping schema
        and triggers: a seed made by an older build would otherwise be migrated inside every
        timed run on a fresh copy of it."""
        if name not in self.upgraded_seeds:
            subprocess.run([self.db_exe, "upgrade", name, "--role", role], check=True,
                           stdout=subprocess.DEVNULL)
            self.upgraded_seeds.add(name)
        return name

    def slave_env(self):
        env = dict(os.environ, SYNC_API_KEY=KEY, APP_MODE="slave", SYNC_NODE_ID="bench-slave")
        env.pop("DB_DATABASE", None)
        env.pop("MASTER_URL", None)
        return env

    def run_slave(self, master, db):
        return run_timed([self.slave_exe, "--once", "--db", db, "--master-url", master.url()],
                         env=self.slave_env(), stderr_path=self.slave_log)

    def slave_db(self, transactions):
        """A slave database recovered from master_<n>.db (cached)."""
        name = self.path("slave_%d.db" % transactions)
        ready = name + ".ready"
        if os.path.exists(ready):
            return self.upgraded(name, "slave")
        mdb = self.master_db(transactions)
        remove_db(name)
        m = Master(self.master_exe, mdb, self.master_log)
        try:
            seconds, code, _, out, _ = self.run_slave(m, name)
        finally:
            m.stop()
        if code != 0 or rows_in(name) != transactions:
            sys.exit("recovery of %s failed (exit %d): %s" % (name, code, out))
        open(ready, "w").close()
        return name

    # --- 1: big pulls ---------------------------------------------------------------------
    def pull_v2_pages(self, port, limit):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        cursor, rows, pages = "", 0, 0
        start = time.perf_counter()
        while pages < 100000:
            q = urllib.parse.urlencode({"table": "transactions", "cursor": cursor, "limit": limit})
            conn.request("GET", "/api/sync/pull?" + q,
                         headers={"X-Sync-API-Key": KEY, "X-Sync-Node-Id": "bench-puller"})
            r = conn.getresponse()
            body = r.read()
            if r.status != 200:
                raise RuntimeError("pull page: HTTP %d %s" % (r.status, body[:300]))
            rows += int(re.search(rb'"count":(\d+)', body).group(1))
            cursor = re.search(rb'"cursor":"([^"]*)"', body).group(1).decode()
            pages += 1
            if b'"has_more":true' not in body:
                break
        seconds = time.perf_counter() - start
        conn.close()
        return seconds, rows, pages

    def scenario_pull(self):
        n = self.args.pull_rows
        db = self.master_db(n)
        out = self.path("pull_v1.json")
        url = "/api/sync/pull?table=transactions"
        for compressed in (False, True):
            label = "gzip" if compressed else "identity"
            times, hwms, cpus, size = [], [], [], 0
            for i in range(self.args.warmup + self.args.runs):
                m = Master(self.master_exe, db, self.master_log)
                try:
                    cpu = m.cpu_seconds()
                    seconds, size = curl(m.url(url), out, compressed=compressed)
                    cpu = m.cpu_seconds() - cpu
                finally:
                    hwm = m.stop()
                if not compressed and i == 0:
                    with open(out) as f:
                        count = json.load(f)["count"]
                    if count != n:
                        raise RuntimeError("v1 pull returned %d rows, expected %d" % (count, n))
                if i >= self.args.warmup:
                    times.append(seconds)
                    hwms.append(hwm / 1024)
                    cpus.append(cpu)
            self.record("1.pull_v1_%s_seconds" % label, times, "s", bytes=size, rows=n)
            self.record("1.pull_v1_%s_master_cpu_seconds" % label, cpus, "s")
            self.record("1.pull_v1_%s_master_hwm" % label, hwms, "MiB")
        # Steady state: the peak RSS of one master after several v1 pulls in a row (freed
        # memory that the allocator keeps counts here, unlike on a fresh process).
        hwms = []
        for i in range(self.args.runs):
            m = Master(self.master_exe, db, self.master_log)
            try:
                for _ in range(5):
                    curl(m.url(url), out)
            finally:
                hwms.append(m.stop() / 1024)
        self.record("1.pull_v1_identity_master_hwm_after_5_pulls", hwms, "MiB")
        times, hwms = [], []
        for i in range(self.args.warmup + self.args.runs):
            m = Master(self.master_exe, db, self.master_log)
            try:
                seconds, rows, pages = self.pull_v2_pages(m.port, 5000)
            finally:
                hwm = m.stop()
            if rows != n:
                raise RuntimeError("v2 pages returned %d rows, expected %d" % (rows, n))
            if i >= self.args.warmup:
                times.append(seconds)
                hwms.append(hwm / 1024)
        self.record("1.pull_v2_pages5000_seconds", times, "s", rows=n, pages=pages)
        self.record("1.pull_v2_pages5000_master_hwm", hwms, "MiB")

    # --- 2: pushes ------------------------------------------------------------------------
    def push_bodies(self, rows, batch):
        d = self.path("push")
        os.makedirs(d, exist_ok=True)

        def row(k):
            day = k // 1000
            suffix = ""
            v = k
            for _ in range(6):
                suffix = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"[v % 36] + suffix
                v //= 36
            ts = "2030-01-%02dT%02d:%02d:%02d.000000Z" % (1 + day % 28, 8 + (k % 600) // 60,
                                                          k % 60, (k * 7) % 60)
            number = "TXN-203001%02d-%s" % (1 + day % 28, suffix)
            qty = 1 + (k % 400) / 10
            return {"id": 500000 + k, "transaction_number": number,
                    "cashier_id": 1 + k % 20, "quantity_kg": "%.2f" % qty,
                    "price_per_kg": "850.50", "total_amount": "%.2f" % (qty * 850.5),
                    "customer_name": "Walk-in %d" % (k % 97), "customer_phone": None,
                    "notes": "pushed by the benchmark" if k % 5 == 0 else None,
                    "status": "completed", "created_at": ts, "updated_at": ts,
                    "payment_type": ("cash", "card", "transfer")[k % 3]}

        data = [row(k) for k in range(rows)]
        v1 = os.path.join(d, "v1_%d.json" % rows)
        with open(v1, "w") as f:
            json.dump({"table": "transactions", "data": data}, f, separators=(",", ":"))
        v2 = []
        for i in range(0, rows, batch):
            part = data[i:i + batch]
            body = {"table": "transactions", "data": part, "meta": [{"op": "insert"}] * len(part),
                    "deleted": [], "node_id": "bench-pusher", "batch_id": "bench-%06d" % i}
            v2.append(json.dumps(body, separators=(",", ":")).encode())
        return v1, v2

    def post_sequence(self, port, bodies):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        synced = 0
        start = time.perf_counter()
        for body in bodies:
            conn.request("POST", "/api/sync/push", body=body,
                         headers={"X-Sync-API-Key": KEY, "Content-Type": "application/json"})
            r = conn.getresponse()
            answer = r.read()
            if r.status != 200:
                raise RuntimeError("push: HTTP %d %s" % (r.status, answer[:300]))
            synced += json.loads(answer)["synced_count"]
        seconds = time.perf_counter() - start
        conn.close()
        return seconds, synced

    def scenario_push(self):
        rows = self.args.push_rows
        base = self.master_db(self.args.pull_rows)
        before = rows_in(base)
        v1, v2 = self.push_bodies(rows, 500)
        run_db = self.path("push_run.db")
        samples = {"v1": [], "v2": []}
        hwms = {"v1": [], "v2": []}
        for i in range(self.args.warmup + self.args.runs):
            for kind in (("v1", "v2") if i % 2 == 0 else ("v2", "v1")):
                copy_db(base, run_db)
                os.sync()
                m = Master(self.master_exe, run_db, self.master_log)
                try:
                    if kind == "v1":
                        seconds, _ = curl(m.url("/api/sync/push"), self.path("push_answer.json"),
                                          data_path=v1)
                        synced = json.load(open(self.path("push_answer.json")))["synced_count"]
                    else:
                        seconds, synced = self.post_sequence(m.port, v2)
                finally:
                    hwm = m.stop()
                if synced != rows or rows_in(run_db) != before + rows:
                    raise RuntimeError("push %s stored %d rows of %d" % (kind, synced, rows))
                if i >= self.args.warmup:
                    samples[kind].append(seconds)
                    hwms[kind].append(hwm / 1024)
        self.record("2.push_v1_one_request_seconds", samples["v1"], "s", rows=rows)
        self.record("2.push_v2_batches500_seconds", samples["v2"], "s", rows=rows, batches=len(v2))
        self.record("2.push_v1_master_hwm", hwms["v1"], "MiB")
        self.record("2.push_v2_master_hwm", hwms["v2"], "MiB")

    # --- 3: wrk ---------------------------------------------------------------------------
    def scenario_wrk(self):
        db = self.master_db(self.args.pull_rows)
        script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wrk_pull.lua")
        m = Master(self.master_exe, db, self.master_log)
        rates, errors = [], []
        try:
            curl(m.url("/api/sync/pull?table=inventory"), self.path("inventory.json"))
            for i in range(self.args.warmup + self.args.runs):
                out = subprocess.run(
                    ["wrk", "-t2", "-c16", "-d%ds" % self.args.wrk_seconds, "-s", script,
                     m.url("/api/sync/pull?table=inventory")],
                    check=True, capture_output=True, text=True,
                    env=dict(os.environ, SYNC_API_KEY=KEY)).stdout
                rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
                bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
                sock = re.search(r"Socket errors: (.*)", out)
                if i >= self.args.warmup:
                    rates.append(rate)
                    errors.append(int(bad.group(1)) if bad else 0)
                if sock:
                    log("  wrk: socket errors: " + sock.group(1))
        finally:
            hwm = m.stop()
        self.record("3.wrk_pull_inventory_rps", rates, "req/s", non_2xx=errors,
                    master_hwm_mib=hwm / 1024)

    # --- 4: recovery ----------------------------------------------------------------------
    def scenario_recovery(self):
        n = self.args.recovery_rows
        mdb = self.master_db(n)
        bare_db = self.path("bare.db")
        slave = self.path("recovered.db")
        bare_t, rec_t, ratios, rss, master_hwm, bare_inner = [], [], [], [], [], []
        cpus = {"bare": [], "slave": [], "master": []}
        m = Master(self.master_exe, mdb, self.master_log)
        try:
            for i in range(self.args.warmup + self.args.runs):
                got = {}
                for kind in (("bare", "rec") if i % 2 == 0 else ("rec", "bare")):
                    if kind == "bare":
                        remove_db(bare_db)
                        cmd = [self.db_exe, "bare-insert", mdb, bare_db]
                        s, code, _, out, cpu = run_timed(cmd + self.args.bare_args.split())
                        if code != 0:
                            raise RuntimeError("bare-insert failed: " + out)
                        got["bare"] = s
                        got["bare_cpu"] = cpu
                        inner = re.search(r"insert_seconds=([\d.e-]+)", out).group(1)
                        got["bare_inner"] = float(inner)
                    else:
                        remove_db(slave)
                        m.reset_hwm()
                        mcpu = m.cpu_seconds()
                        s, code, maxrss, out, cpu = self.run_slave(m, slave)
                        got["master_cpu"] = m.cpu_seconds() - mcpu
                        got["rec_cpu"] = cpu
                        if code != 0:
                            raise RuntimeError("recovery failed (exit %d), see %s" %
                                               (code, self.slave_log))
                        got["rec"] = s
                        got["rss"] = maxrss / 1024
                        got["mhwm"] = m.hwm_kib() / 1024
                count = rows_in(slave)
                if count != n:
                    raise RuntimeError("recovered %d transactions, expected %d" % (count, n))
                log("  run %d: bare %.2f s, recovery %.2f s, ratio %.3f, slave RSS %.1f MiB" %
                    (i, got["bare"], got["rec"], got["rec"] / got["bare"], got["rss"]))
                if i >= self.args.warmup:
                    bare_t.append(got["bare"])
                    bare_inner.append(got["bare_inner"])
                    rec_t.append(got["rec"])
                    ratios.append(got["rec"] / got["bare"])
                    rss.append(got["rss"])
                    master_hwm.append(got["mhwm"])
                    cpus["bare"].append(got["bare_cpu"])
                    cpus["slave"].append(got["rec_cpu"])
                    cpus["master"].append(got["master_cpu"])
        finally:
            m.stop()
        self.record("4.bare_insert_process_seconds", bare_t, "s", rows=n,
                    bare_args=self.args.bare_args)
        self.record("4.bare_insert_loop_seconds", bare_inner, "s")
        self.record("4.recovery_seconds", rec_t, "s", rows=n)
        self.record("4.recovery_over_bare_ratio", ratios, "x")
        self.record("4.slave_peak_rss", rss, "MiB")
        self.record("4.master_hwm_during_recovery", master_hwm, "MiB")
        self.record("4.bare_insert_cpu_seconds", cpus["bare"], "s")
        self.record("4.recovery_slave_cpu_seconds", cpus["slave"], "s")
        self.record("4.recovery_master_cpu_seconds", cpus["master"], "s")

    # --- 5: incremental -------------------------------------------------------------------
    @staticmethod
    def edit(db, ids, text):
        """What the Laravel app would do: set `notes` and a newer `updated_at` on rows `ids`."""
        con = sqlite3.connect(db)
        try:
            con.executemany("UPDATE transactions SET notes = ?, updated_at = ? WHERE id = ?",
                            [(text, FUTURE, i) for i in ids])
            con.commit()
        finally:
            con.close()

    def sync_once_checked(self, m, srun, master_text):
        """slave-agent --once against `m`; checks the summary and that the slave holds the
        master's 100 edits marked `master_text`. Returns (seconds, peak RSS KiB, table seconds)."""
        s, code, maxrss, out, cpu = self.run_slave(m, srun)
        if code != 0:
            raise RuntimeError("incremental sync failed (exit %d), see %s" % (code, self.slave_log))
        # The agent's own per-table durations (push + pull of each table, in ms): the sync
        # work without process start, health check and connection set-up.
        table_ms = sum(int(t) for t in re.findall(
            r"^[a-z_]+\s+\d+\s+\d+\s+\d+\s+\d+\s+\d+\s+(\d+)\s*$", out, re.M))
        line = re.search(r"^transactions\s+(\d+)\s+(\d+)\s+(\d+)", out, re.M)
        if not line or int(line.group(1)) != 100 or int(line.group(3)) < 100:
            raise RuntimeError("unexpected summary: " + out)
        con = sqlite3.connect(srun)
        got = con.execute("SELECT count(*) FROM transactions WHERE notes = ?",
                          (master_text,)).fetchone()[0]
        con.close()
        if got != 100:
            raise RuntimeError("the slave holds %d of the master's 100 edits" % got)
        return s, maxrss, table_ms / 1000

    @staticmethod
    def edited_ids(n, run, side):
        """100 ids spread over the table; the slave's and the master's interleave, and every
        run picks rows no earlier run touched (so each edit wins by its newer updated_at)."""
        step = max(1, n // 200)
        return [1 + k * step + run for k in range(side, 200, 2)][:100]

    def cold_run(self, n, i):
        """One cold run: fresh copies of both files and a freshly started master.
        Returns (seconds, peak RSS MiB, quick_check seconds, table seconds)."""
        mdb, sdb = self.master_db(n), self.slave_db(n)
        mrun, srun = self.path("inc_master_%d.db" % n), self.path("inc_slave_%d.db" % n)
        copy_db(mdb, mrun)
        copy_db(sdb, srun)
        self.edit(srun, self.edited_ids(n, 0, 0), "slave edit %d" % i)
        self.edit(mrun, self.edited_ids(n, 0, 1), "master edit %d" % i)
        # What the agent's start-up health check costs by itself on this file.
        con = sqlite3.connect(srun)
        t0 = time.perf_counter()
        con.execute("PRAGMA quick_check").fetchall()
        check_s = time.perf_counter() - t0
        con.close()
        # Write the fresh copies back before timing, so the sync's commits do not queue
        # behind the write-back of half a gigabyte of copied files.
        os.sync()
        m = Master(self.master_exe, mrun, self.master_log)
        try:
            s, maxrss, table_s = self.sync_once_checked(m, srun, "master edit %d" % i)
        finally:
            m.stop()
        return s, maxrss / 1024, check_s, table_s

    # The machine's speed drifts by tens of percent within minutes, so both sizes are measured
    # run for run (big, small, big, small, ...) and the ratio is also given as the median of
    # the pairwise ratios: each pair met the same machine.
    def scenario_incremental(self):
        """Cold: fresh copies of both files and a freshly started master for every run."""
        big, small = self.args.recovery_rows, self.args.small_rows
        runs = {big: ([], [], [], []), small: ([], [], [], [])}
        for i in range(self.args.warmup + self.args.runs):
            for n in (big, small):
                measured = self.cold_run(n, i)
                if i >= self.args.warmup:
                    for column, value in zip(runs[n], measured):
                        column.append(value)
        (t_big, rss_big, check_big, tables_big), (t_small, _, check_small, tables_small) = (
            runs[big], runs[small])
        self.record("5.incremental_%d_table_sync_seconds" % big, tables_big, "s")
        self.record("5.incremental_%d_table_sync_seconds" % small, tables_small, "s")
        self.record("5.incremental_%d_seconds" % big, t_big, "s")
        self.record("5.incremental_%d_seconds" % small, t_small, "s")
        self.record("5.incremental_ratio", [median(t_big) / median(t_small)], "x")
        self.record("5.incremental_pairwise_ratio", [b / s for b, s in zip(t_big, t_small)], "x")
        self.record("5.incremental_%d_slave_rss" % big, rss_big, "MiB")
        self.record("5.quick_check_%d_seconds" % big, check_big, "s")
        self.record("5.quick_check_%d_seconds" % small, check_small, "s")

    def scenario_steady(self):
        """Steady state, as in production: a master keeps running over the same files while
        the app edits 100 new rows on each side and a fresh slave-agent --once syncs them. One
        master per size, both running; the sizes take turns run for run."""
        big, small = self.args.recovery_rows, self.args.small_rows
        masters, files = {}, {}
        try:
            for n in (big, small):
                mrun = self.path("steady_master_%d.db" % n)
                srun = self.path("steady_slave_%d.db" % n)
                copy_db(self.master_db(n), mrun)
                copy_db(self.slave_db(n), srun)
                files[n] = (mrun, srun)
            os.sync()
            for n in (big, small):
                masters[n] = Master(self.master_exe, files[n][0], self.master_log)
            times = {big: [], small: []}
            tables = {big: [], small: []}
            for i in range(self.args.warmup + 2 * self.args.runs):
                for n in (big, small):
                    mrun, srun = files[n]
                    self.edit(srun, self.edited_ids(n, i + 1, 0), "slave steady %d" % i)
                    self.edit(mrun, self.edited_ids(n, i + 1, 1), "master steady %d" % i)
                    s, _, table_s = self.sync_once_checked(masters[n], srun,
                                                           "master steady %d" % i)
                    if i >= self.args.warmup:
                        times[n].append(s)
                        tables[n].append(table_s)
        finally:
            for m in masters.values():
                m.stop()
        self.record("6.steady_%d_seconds" % big, times[big], "s")
        self.record("6.steady_%d_seconds" % small, times[small], "s")
        self.record("6.steady_%d_table_sync_seconds" % big, tables[big], "s")
        self.record("6.steady_%d_table_sync_seconds" % small, tables[small], "s")
        self.record("6.steady_ratio", [median(times[big]) / median(times[small])], "x")
        self.record("6.steady_pairwise_ratio", [b / s for b, s in zip(times[big], times[small])],
                    "x")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build-dir", default="build-bench")
    p.add_argument("--work", default="/tmp/ruxx-bench")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--only", default="1,2,3,4,5,6")
    p.add_argument("--pull-rows", type=int, default=100000)
    p.add_argument("--push-rows", type=int, default=10000)
    p.add_argument("--recovery-rows", type=int, default=1000000)
    p.add_argument("--small-rows", type=int, default=10000)
    p.add_argument("--wrk-seconds", type=int, default=10)
    p.add_argument("--bare-args", default="",
                   help="extra ruxx_bench_db bare-insert options for scenario 4, e.g. "
                        "\"--cache-kib 16384\" (default: none, the literal floor)")
    p.add_argument("--json", help="write the results here")
    args = p.parse_args()
    bench = Bench(args)
    scenarios = {"1": bench.scenario_pull, "2": bench.scenario_push, "3": bench.scenario_wrk,
                 "4": bench.scenario_recovery, "5": bench.scenario_incremental,
                 "6": bench.scenario_steady}
    for key in args.only.split(","):
        log("scenario %s" % key)
        scenarios[key.strip()]()
    text = json.dumps(bench.results, indent=2)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
