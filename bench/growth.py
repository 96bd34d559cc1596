"""The growth rows of bench/compare-postmap (issue 13 item 5): how build
time and memory grow from 100k to 1M to 10M entries.

--only growth builds the sender map (bench/gen_maps.py, the same generator
and seed as every other row) at each size in --growth-sizes as lmdb:, cdb:
and hash:, with no previous table and the source in the page cache, and
reports per type and size: median wall time, time per entry, that time
per entry against the 1M figure (goal: within 1.3x), peak RSS, and the
memory bound that applies:
  cdb:  40 MB + 16 bytes per entry (issue 13 item 1);
  lmdb: below postmap's own peak RSS on the same source (item 2), so
        postmap lmdb: runs beside mapctl at every size (once at 10M:
        it takes minutes there);
  hash: reported only.
The sources are generated once into the work directory and kept (a 10M
map is 760 MB; it is never committed). Runs: --runs at sizes up to 1M,
--growth-big-runs above.
"""
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TYPES = (("lmdb", ".lmdb"), ("cdb", ".cdb"), ("hash", ".db"))
REFERENCE_SIZE = 1000000


def _source(work, n):
    path = os.path.join(work, "growth-sender-%d" % n)
    if not os.path.exists(path):
        subprocess.check_call([sys.executable, os.path.join(HERE, "gen_maps.py"),
                               "sender", path + ".tmp", str(n)])
        os.rename(path + ".tmp", path)
    return path


def _timed(run, cmd, out, runs):
    times, rss = [], []
    for _ in range(runs):
        if os.path.exists(out):
            os.unlink(out)
        t, mb, _ = run(cmd)
        times.append(t)
        rss.append(mb)
    return statistics.median(times), statistics.median(rss)


def growth_rows(args, work, cfg, mapctl, run, warm):
    sizes = [int(x) for x in args.growth_sizes.split(",")]
    measured = {}  # (type, n) -> (seconds, MB, postmap MB or None)
    for n in sizes:
        src = _source(work, n)
        runs = args.runs if n <= REFERENCE_SIZE else args.growth_big_runs
        for table_type, suffix in TYPES:
            warm(src)
            out = src + suffix
            postmap_mb = None
            if table_type == "lmdb":
                _, postmap_mb = _timed(
                    run, [args.postmap, "-c", cfg, "lmdb:" + src], out,
                    1 if n > REFERENCE_SIZE else runs)
            t, mb = _timed(run, [mapctl, "build", "-c", cfg,
                                       table_type + ":" + src], out, runs)
            measured[(table_type, n)] = (t, mb, postmap_mb)
            print(f"growth {table_type}:{n:>9} entries  {t:8.3f}s"
                  f"  {t / n * 1e6:6.3f} us/entry  {mb:7.0f}MB", flush=True)
            os.unlink(out)
    print("| type | entries | wall (median) | us per entry | vs 1M | peak RSS | bound |")
    print("|---|---|---|---|---|---|---|")
    for table_type, _ in TYPES:
        ref = measured.get((table_type, REFERENCE_SIZE))
        for n in sizes:
            t, mb, postmap_mb = measured[(table_type, n)]
            per = t / n * 1e6
            vs = f"{per / (ref[0] / REFERENCE_SIZE * 1e6):.2f}x" if ref else "-"
            if table_type == "cdb":
                limit = 40 + 16 * n / 1e6
                bound = f"40 MB + 16 B/entry = {limit:.0f} MB: " + (
                    "met" if mb <= limit else "**not met**")
            elif table_type == "lmdb":
                bound = f"postmap {postmap_mb:.0f} MB: " + (
                    "met" if mb < postmap_mb else "**not met**")
            else:
                bound = "reported"
            print(f"| {table_type} | {n} | {t:.3f} s | {per:.3f} | {vs} | {mb:.0f} MB | {bound} |")
    return measured
