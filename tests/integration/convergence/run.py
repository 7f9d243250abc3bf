#!/usr/bin/env python3
"""Seeded multi-slave convergence and fault-injection runs (docs/TESTING.md, "Convergence
harness").

  run.py --seed N [--ops M]              replay one schedule (verbose trace)
  run.py --seeds K [--first S] [--ops M] [--jobs J]
                                         schedules S..S+K-1, J at a time

The binaries come from RUXX_MASTER_SERVER and RUXX_SLAVE_AGENT (else the newest build of the
checkout). Exit status 0 when every schedule passed; each failure prints its seed and the
command that replays it.
"""

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))

import cluster  # noqa: E402
from harness import Schedule  # noqa: E402


def replay_command(seed, ops):
    return ("RUXX_MASTER_SERVER=%s RUXX_SLAVE_AGENT=%s python3 "
            "tests/integration/convergence/run.py --seed %d --ops %d"
            % (cluster.master_binary(), cluster.slave_binary(), seed, ops))


def run_one(seed, ops, keep=False, verbose=False):
    schedule = Schedule(seed, ops, keep=keep, verbose=verbose)
    ok = schedule.run()
    return {
        "seed": seed, "ok": ok, "elapsed": schedule.elapsed, "stats": schedule.stats,
        "report": None if ok else schedule.report(), "skipped": schedule.skipped,
        "runs": schedule.runs,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, help="run this one schedule")
    parser.add_argument("--seeds", type=int, default=1, help="how many schedules")
    parser.add_argument("--first", type=int, default=1, help="first seed of --seeds")
    parser.add_argument("--ops", type=int, default=10, help="app operations per schedule")
    parser.add_argument("--jobs", type=int, default=1, help="schedules run at the same time")
    parser.add_argument("--keep", action="store_true", help="keep every temporary directory")
    parser.add_argument("--verbose", action="store_true", help="print each step as it runs")
    parser.add_argument("--max-failures", type=int, default=10,
                        help="stop starting new schedules after this many failures")
    args = parser.parse_args(argv)

    seeds = [args.seed] if args.seed is not None else list(range(args.first,
                                                                  args.first + args.seeds))
    verbose = args.verbose or args.seed is not None
    print("convergence: %d schedule(s) of %d operations, %d at a time; master-server %s, "
          "slave-agent %s" % (len(seeds), args.ops, args.jobs, cluster.master_binary(),
                              cluster.slave_binary()), flush=True)
    started = time.monotonic()
    results = []
    failures = []
    totals = {"syncs": 0, "fired": 0, "conflicts": 0, "runs": 0}
    faults = {}
    exits = {}

    def collect(res):
        results.append(res)
        st = res["stats"]
        totals["syncs"] += st["syncs"]
        totals["fired"] += st["fired"]
        totals["conflicts"] += st["conflicts"]
        totals["runs"] += res["runs"]
        for k, v in st["faults"].items():
            faults[k] = faults.get(k, 0) + v
        for k, v in st["agent_exit"].items():
            exits[str(k)] = exits.get(str(k), 0) + v
        for s in res["skipped"]:
            print("seed %d SKIPPED %s" % (res["seed"], s), flush=True)
        if not res["ok"]:
            failures.append(res)
            print(res["report"], flush=True)
            print("REPLAY: " + replay_command(res["seed"], args.ops), flush=True)
        if len(results) % 25 == 0 or len(results) == len(seeds):
            print("%d/%d schedules, %d failed, %.0f s" % (len(results), len(seeds),
                                                          len(failures),
                                                          time.monotonic() - started),
                  flush=True)

    if args.jobs <= 1 or len(seeds) == 1:
        for seed in seeds:
            collect(run_one(seed, args.ops, args.keep, verbose))
            if len(failures) >= args.max_failures:
                break
    else:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            pending = {}
            queue = list(seeds)
            while queue or pending:
                while queue and len(pending) < args.jobs * 2 and \
                        len(failures) < args.max_failures:
                    seed = queue.pop(0)
                    pending[pool.submit(run_one, seed, args.ops, args.keep, False)] = seed
                if not pending:
                    break
                done = next(as_completed(list(pending)))
                del pending[done]
                collect(done.result())
            if len(failures) >= args.max_failures:
                print("stopped after %d failures" % len(failures), flush=True)

    elapsed = time.monotonic() - started
    print("convergence: %d schedules, %d passed, %d failed in %.0f s; %d agent runs, %d syncs "
          "with faults drawn %s, %d faults fired, agent exits %s, %d conflicts logged"
          % (len(results), len(results) - len(failures), len(failures), elapsed, totals["runs"],
             totals["syncs"], faults, totals["fired"], exits, totals["conflicts"]), flush=True)
    if failures:
        print("failed seeds: %s" % " ".join(str(f["seed"]) for f in failures))
        for f in failures:
            print("REPLAY: " + replay_command(f["seed"], args.ops))
    return 1 if failures or len(results) < len(seeds) else 0


if __name__ == "__main__":
    sys.exit(main())
