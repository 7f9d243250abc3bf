#!/usr/bin/env python3
"""Scenario 6 (steady-state incremental sync), or 5 (cold), for one or two builds, run for run.

For each build and each size (1M and 10k transactions) one master keeps running over its own
copy of the seeded files; each round, for every (build, size) in turn, the driver edits 100 new
rows at the slave and 100 at the master (through SQLite, as the Laravel app would), times a
fresh `slave-agent --once` and checks its summary. Prints each median and the 1M / 10k ratio
(ratio of medians and median of the pairwise ratios) per build. `--gap S` idles S seconds after
every sync, as production does between syncs (and so that background work of one run is not
charged to the next). `--pattern recent` changes the newest rows instead of rows spread over
the whole table: 100 new sales at the slave and 100 at the master each run, as a depot's day
looks (the default, `scattered`, is scenario 6: edits of old rows spread over the table);
`scattered-same-length` edits the same spread rows but only their `updated_at`, so no row
grows and no page splits (a diagnostic: what the spread costs without the splits). `--cold`
measures scenario 5 instead: fresh copies of both files and a freshly started master for every
run, the same rows edited each time. Run
`run_bench.py --only 5` once first: it seeds the files.

    python3 bench/ab_incremental.py BUILD_DIR [OTHER_BUILD_DIR] [--runs 40] [--gap 0]
        [--pattern scattered|recent|scattered-same-length] [--cold] [--work /tmp/ruxx-bench]
        [--json FILE]

A build directory is a CMake build tree (master-server/master-server, slave-agent/slave-agent)
or a directory holding both binaries.
"""
import argparse
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_bench import FUTURE, KEY, Bench, Master, copy_db  # noqa: E402

SIZES = (1000000, 10000)


def binaries(build):
    for master, agent in ((os.path.join(build, "master-server", "master-server"),
                           os.path.join(build, "slave-agent", "slave-agent")),
                          (os.path.join(build, "master-server"),
                           os.path.join(build, "slave-agent"))):
        if os.path.isfile(master) and os.path.isfile(agent):
            return os.path.abspath(master), os.path.abspath(agent)
    sys.exit("ab_incremental: no master-server and slave-agent in %s" % build)


def sell(db, count, prefix, notes):
    """What the Laravel app does for `count` new sales: one INSERT each, newest rows last."""
    con = sqlite3.connect(db)
    try:
        con.executemany(
            "INSERT INTO transactions (transaction_number, cashier_id, quantity_kg, price_per_kg, "
            "total_amount, customer_name, customer_phone, notes, status, created_at, updated_at, "
            "payment_type) VALUES (?, 1, 12.5, 850.5, 10631.25, 'Walk-in', NULL, ?, "
            "'completed', ?, ?, 'cash')",
            [("%s-%03d" % (prefix, k), notes, FUTURE, FUTURE) for k in range(count)])
        con.commit()
    finally:
        con.close()


def restamp(db, ids, stamp):
    """`updated_at` only: every row keeps its length."""
    con = sqlite3.connect(db)
    try:
        con.executemany("UPDATE transactions SET updated_at = ? WHERE id = ?",
                        [(stamp, i) for i in ids])
        con.commit()
    finally:
        con.close()


def make_changes(pattern, srun, mrun, n, run, rows_of):
    """The app's changes before run `run` (rows of edit round `rows_of`); returns the check
    (SQL condition, value) that finds the master's 100 changes at the slave afterwards."""
    if pattern == "recent":
        sell(srun, 100, "ABI-S-%d" % run, "abi slave %d" % run)
        sell(mrun, 100, "ABI-M-%d" % run, "abi master %d" % run)
        return "notes = ?", "abi master %d" % run
    if pattern == "scattered-same-length":
        minute = "%02d:%02d:00" % (run // 60 % 24, run % 60)
        restamp(srun, Bench.edited_ids(n, rows_of, 0), "2030-06-02 " + minute)
        restamp(mrun, Bench.edited_ids(n, rows_of, 1), "2030-06-03 " + minute)
        return "updated_at = ?", "2030-06-03 " + minute
    Bench.edit(srun, Bench.edited_ids(n, rows_of, 0), "abi slave %d" % run)
    Bench.edit(mrun, Bench.edited_ids(n, rows_of, 1), "abi master %d" % run)
    return "notes = ?", "abi master %d" % run


def sync_once(agent, master, db, env, check_sql, check_value):
    start = time.perf_counter()
    r = subprocess.run([agent, "--once", "--db", db, "--master-url", master.url()], env=env,
                       capture_output=True, text=True, timeout=120)
    seconds = time.perf_counter() - start
    line = re.search(r"^transactions\s+(\d+)\s+(\d+)\s+(\d+)", r.stdout, re.M)
    if r.returncode != 0 or not line or int(line.group(1)) != 100 or int(line.group(3)) < 100:
        sys.exit("ab_incremental: sync failed (exit %d): %s%s" % (r.returncode, r.stdout,
                                                                  r.stderr[-2000:]))
    con = sqlite3.connect(db)
    got = con.execute("SELECT count(*) FROM transactions WHERE " + check_sql,
                      (check_value,)).fetchone()[0]
    con.close()
    if got != 100:
        sys.exit("ab_incremental: the slave holds %d of the master's 100 edits" % got)
    return seconds


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("builds", nargs="+")
    p.add_argument("--runs", type=int, default=40)
    p.add_argument("--gap", type=float, default=0.0, help="seconds idle after every sync")
    p.add_argument("--pattern", choices=("scattered", "recent", "scattered-same-length"),
                   default="scattered")
    p.add_argument("--cold", action="store_true",
                   help="scenario 5 instead: fresh copies and a fresh master for every run")
    p.add_argument("--work", default="/tmp/ruxx-bench")
    p.add_argument("--json", help="write the samples here")
    args = p.parse_args()
    if len(args.builds) > 2:
        sys.exit("ab_incremental: one or two build directories")
    work = os.path.abspath(args.work)
    for n in SIZES:
        for role in ("master", "slave"):
            if not os.path.exists(os.path.join(work, "%s_%d.db.ready" % (role, n))):
                sys.exit("ab_incremental: %s_%d.db missing in %s; run run_bench.py --only 5 "
                         "first" % (role, n, work))
    builds = {"build%d" % i: binaries(b) for i, b in enumerate(args.builds, 1)}
    keys = [(b, n) for b in builds for n in SIZES]
    files, masters = {}, {}
    slave_env = dict(os.environ, SYNC_API_KEY=KEY, APP_MODE="slave", SYNC_NODE_ID="bench-slave")
    slave_env.pop("DB_DATABASE", None)
    samples = {k: [] for k in keys}

    def fresh_files(b, n):
        mrun = os.path.join(work, "abi_%s_master_%d.db" % (b, n))
        srun = os.path.join(work, "abi_%s_slave_%d.db" % (b, n))
        copy_db(os.path.join(work, "master_%d.db" % n), mrun)
        copy_db(os.path.join(work, "slave_%d.db" % n), srun)
        files[b, n] = (mrun, srun)

    def start_master(b, n):
        return Master(builds[b][0], files[b, n][0],
                      os.path.join(work, "abi_%s_master_%d.log" % (b, n)))

    try:
        if not args.cold:
            for b, n in keys:
                fresh_files(b, n)
            os.sync()
            for b, n in keys:
                masters[b, n] = start_master(b, n)
        for i in range(args.runs + 1):  # the first round warms up and is not counted
            for k in keys:
                b, n = k
                if args.cold:
                    fresh_files(b, n)
                mrun, srun = files[k]
                # Cold runs edit the same rows of fresh copies each time (as scenario 5);
                # steady runs edit rows no earlier run touched.
                rows_of = 0 if args.cold else i + 1
                check = make_changes(args.pattern, srun, mrun, n, i, rows_of)
                if args.cold:
                    os.sync()
                    masters[k] = start_master(b, n)
                try:
                    s = sync_once(builds[b][1], masters[k], srun, slave_env, *check)
                finally:
                    if args.cold:
                        masters.pop(k).stop()
                if i > 0:
                    samples[k].append(s)
                if args.gap > 0:
                    time.sleep(args.gap)
    finally:
        for m in masters.values():
            m.stop()
    report = {}
    for b in builds:
        big, small = samples[b, SIZES[0]], samples[b, SIZES[1]]
        entry = {"binaries": builds[b], "runs": args.runs, "gap_seconds": args.gap,
                 "pattern": args.pattern, "cold": args.cold,
                 "big_seconds": big, "small_seconds": small,
                 "big_median": statistics.median(big), "small_median": statistics.median(small),
                 "ratio_of_medians": statistics.median(big) / statistics.median(small),
                 "pairwise_ratio": statistics.median([x / y for x, y in zip(big, small)]),
                 "loadavg_1min_at_end": os.getloadavg()[0]}
        report[b] = entry
        print("%s: 1M %.1f ms, 10k %.1f ms, ratio %.3f, pairwise %.3f (n=%d, gap %.1f s, %s%s)" %
              (b, entry["big_median"] * 1000, entry["small_median"] * 1000,
               entry["ratio_of_medians"], entry["pairwise_ratio"], args.runs, args.gap,
               args.pattern, ", cold" if args.cold else ""))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)


if __name__ == "__main__":
    main()
