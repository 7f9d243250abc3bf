#!/usr/bin/env python3
"""zlib against libdeflate on one body, at the levels that matter (docs/PERFORMANCE.md, 4).

    python3 bench/gzip_codecs.py PAGE.json [--runs 9]

PAGE.json is any body the master sends, e.g. one v2 page of 5000 transactions:
    curl -s -H "X-Sync-API-Key: $KEY" \
      "http://127.0.0.1:$PORT/api/sync/pull?table=transactions&cursor=&limit=5000" -o PAGE.json
Prints, per level, the median milliseconds to compress and to inflate, and the output size, for
Python's zlib (the C library the old code used) and for libdeflate (libdeflate.so.0 through
ctypes, Debian's libdeflate0), both called on the same bytes in the same process.
"""
import argparse
import ctypes
import statistics
import time
import zlib


def median_ms(fn, runs):
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("page")
    p.add_argument("--runs", type=int, default=9)
    args = p.parse_args()
    data = open(args.page, "rb").read()
    lib = ctypes.CDLL("libdeflate.so.0")
    lib.libdeflate_alloc_compressor.restype = ctypes.c_void_p
    lib.libdeflate_alloc_compressor.argtypes = [ctypes.c_int]
    lib.libdeflate_gzip_compress_bound.restype = ctypes.c_size_t
    lib.libdeflate_gzip_compress_bound.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    lib.libdeflate_gzip_compress.restype = ctypes.c_size_t
    lib.libdeflate_gzip_compress.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                             ctypes.c_void_p, ctypes.c_size_t]
    lib.libdeflate_alloc_decompressor.restype = ctypes.c_void_p
    lib.libdeflate_gzip_decompress.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t,
                                               ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    dec = lib.libdeflate_alloc_decompressor()
    out = ctypes.create_string_buffer(len(data))
    got = ctypes.c_size_t()
    print("%d bytes in, %d runs each" % (len(data), args.runs))
    for level in (1, 6):
        packed = zlib.compress(data, level)
        z_c = median_ms(lambda: zlib.compress(data, level), args.runs)
        z_d = median_ms(lambda: zlib.decompress(packed), args.runs)
        comp = lib.libdeflate_alloc_compressor(level)
        bound = lib.libdeflate_gzip_compress_bound(comp, len(data))
        buf = ctypes.create_string_buffer(bound)
        n = lib.libdeflate_gzip_compress(comp, data, len(data), buf, bound)
        gz = buf.raw[:n]
        d_c = median_ms(lambda: lib.libdeflate_gzip_compress(comp, data, len(data), buf, bound),
                        args.runs)
        d_d = median_ms(lambda: lib.libdeflate_gzip_decompress(dec, gz, n, out, len(data),
                                                               ctypes.byref(got)), args.runs)
        if zlib.decompress(gz, 16 + 15) != data:
            raise SystemExit("libdeflate output does not inflate with zlib")
        print("level %d  zlib: compress %.1f ms, %d bytes, inflate %.1f ms | libdeflate: "
              "compress %.1f ms, %d bytes, inflate %.1f ms" %
              (level, z_c, len(packed), z_d, d_c, n, d_d))


if __name__ == "__main__":
    main()
