#!/usr/bin/env python3
"""What this machine charges for the first touch of a fresh anonymous page (docs/PERFORMANCE.md,
row 2's note). Maps 32 MiB of anonymous memory, writes one byte per 4 KiB page and times it,
five times; then the same with madvise(MADV_HUGEPAGE), so the kernel can back the mapping with
2 MiB pages (transparent huge pages in "madvise" mode, as Debian ships it).

    python3 bench/anon_fault_cost.py

Prints the median microseconds per 4 KiB page for both. A process's first request pays this for
every page its allocator hands out for the first time.
"""
import mmap
import statistics
import time

SIZE = 32 * 1024 * 1024
PAGE = 4096


def touch(huge):
    m = mmap.mmap(-1, SIZE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    if huge:
        m.madvise(mmap.MADV_HUGEPAGE)
    start = time.perf_counter()
    for offset in range(0, SIZE, PAGE):
        m[offset] = 1
    seconds = time.perf_counter() - start
    m.close()
    return seconds * 1e6 / (SIZE // PAGE)


for huge in (False, True):
    samples = [touch(huge) for _ in range(5)]
    print("%-22s median %.2f us per 4 KiB page (runs: %s)"
          % ("MADV_HUGEPAGE" if huge else "plain anonymous", statistics.median(samples),
             ", ".join("%.2f" % s for s in samples)))
