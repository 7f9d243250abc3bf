#!/usr/bin/env python3
"""Compares two master-server binaries on scenario 2's 10k-row v1 push, interleaved.

This machine's speed drifts by up to 40% within an hour, more than most changes gain, so two
builds are compared run against run: each pair pushes the same body into fresh copies of the
same database, the old binary and then the new one, and the answer is the median of the
pairwise ratios (new / old) next to both medians. Run `run_bench.py --only 2` once first: it
seeds the database and writes the body.

    python3 bench/ab_push.py OLD_MASTER NEW_MASTER [--pairs 20] [--work /tmp/ruxx-bench]
"""
import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_bench import Master, copy_db, curl  # noqa: E402


def push_once(exe, work, base, body):
    run_db = os.path.join(work, "ab_run.db")
    copy_db(base, run_db)
    os.sync()
    master = Master(exe, run_db, os.path.join(work, "ab_master.log"))
    try:
        seconds, _ = curl(master.url("/api/sync/push"), os.path.join(work, "ab_answer.json"),
                          data_path=body)
    finally:
        master.stop()
    return seconds


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--pairs", type=int, default=20)
    p.add_argument("--work", default="/tmp/ruxx-bench")
    p.add_argument("--pull-rows", type=int, default=100000, help="rows of the seeded master")
    p.add_argument("--push-rows", type=int, default=10000)
    args = p.parse_args()
    base = os.path.join(args.work, "master_%d.db" % args.pull_rows)
    body = os.path.join(args.work, "push", "v1_%d.json" % args.push_rows)
    for path in (base, body):
        if not os.path.exists(path):
            sys.exit("ab_push: %s is missing; run run_bench.py --only 2 first" % path)
    old, new = [], []
    for _ in range(args.pairs):
        old.append(push_once(args.old, args.work, base, body))
        new.append(push_once(args.new, args.work, base, body))
    ratios = [n / o for o, n in zip(old, new)]
    print("old median %.4f s  new median %.4f s  pairwise new/old %.3f  (n=%d pairs)" %
          (statistics.median(old), statistics.median(new), statistics.median(ratios), args.pairs))


if __name__ == "__main__":
    main()
