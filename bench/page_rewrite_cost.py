#!/usr/bin/env python3
"""What rewriting 120 scattered 4 KiB pages of a file and syncing them costs, and how many bytes
the kernel counts as dirtied for it (`write_bytes` of /proc/self/io), with the file's page cache
as it is ("as-is": for a file just copied whole, large folios) and after dropping it and reading
the pages back one at a time with POSIX_FADV_RANDOM ("4k": one small folio per page). A
diagnostic for docs/PERFORMANCE.md section 5: on a kernel that caches files in large folios a
4 KiB write dirties the whole folio. Rewrites each page with its own bytes, so the file's content
does not change; still, run it on a copy.

    cp /tmp/ruxx-bench/master_1000000.db /tmp/copy.db && sync
    python3 bench/page_rewrite_cost.py /tmp/copy.db [--pages 120] [--trials 9]
"""
import argparse
import os
import random
import statistics
import time

PAGE = 4096


def dirtied_bytes():
    with open("/proc/self/io") as f:
        for line in f:
            if line.startswith("write_bytes"):
                return int(line.split()[1])
    raise SystemExit("page_rewrite_cost: no write_bytes in /proc/self/io")


def trial(fd, pages, count, small_folios, rnd):
    offsets = sorted(rnd.sample(range(1, pages), count))
    if small_folios:
        os.fdatasync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
    else:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_NORMAL)
    data = [os.pread(fd, PAGE, o * PAGE) for o in offsets]
    before = dirtied_bytes()
    start = time.perf_counter()
    for o, d in zip(offsets, data):
        os.pwrite(fd, d, o * PAGE)
    os.fdatasync(fd)
    return time.perf_counter() - start, dirtied_bytes() - before


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("file")
    p.add_argument("--pages", type=int, default=120)
    p.add_argument("--trials", type=int, default=9)
    args = p.parse_args()
    fd = os.open(args.file, os.O_RDWR)
    try:
        pages = os.fstat(fd).st_size // PAGE
        if pages <= args.pages:
            raise SystemExit("page_rewrite_cost: %s has only %d pages" % (args.file, pages))
        rnd = random.Random(1)
        for name, small in (("as-is", False), ("4k", True)):
            runs = [trial(fd, pages, args.pages, small, rnd) for _ in range(args.trials)]
            print("%-6s rewrite+fdatasync %.2f ms, dirtied %d KiB (medians, n=%d)" %
                  (name, statistics.median(r[0] for r in runs) * 1000,
                   statistics.median(r[1] for r in runs) // 1024, args.trials))
    finally:
        os.close(fd)


if __name__ == "__main__":
    main()
