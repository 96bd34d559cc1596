#!/usr/bin/env python3
"""rss_split.py - a command's peak memory, split into anonymous and mapped.

  rss_split.py [--runs N] [--interval SEC] -- COMMAND [ARG...]

Runs COMMAND (stdout to /dev/null) N times and prints, per run: wall time,
user and system CPU, peak RSS from wait4 (ru_maxrss: anonymous and
file-backed pages together), and the peaks of RssAnon and RssFile read
from /proc/PID/status every --interval seconds (default 0.005). RssFile is
what the process has mapped from files (the read-only tables, the shared
libraries); RssAnon is its own memory (heap, stacks). Issue 13 bounds
check's and diff's memory "beyond the tables they map": that is RssAnon.
Sampling can miss a peak shorter than the interval; ru_maxrss cannot, so
the two are printed side by side. ru_maxrss also counts this script's own
pages at the fork (exec does not reset it): about 10 MB, which matters only
for small commands.
"""
import argparse
import os
import sys
import time


def status_kb(pid):
    fields = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                name, _, rest = line.partition(":")
                if name in ("RssAnon", "RssFile", "VmRSS"):
                    fields[name] = int(rest.split()[0])
    except (FileNotFoundError, ProcessLookupError, ValueError):
        pass
    return fields


def run_once(cmd, interval):
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, 1)
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    peak = {"RssAnon": 0, "RssFile": 0, "VmRSS": 0}
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        for name, kb in status_kb(pid).items():
            peak[name] = max(peak[name], kb)
        time.sleep(interval)
    wall = time.monotonic() - start
    return {
        "wall": wall,
        "user": usage.ru_utime,
        "sys": usage.ru_stime,
        "maxrss_mb": usage.ru_maxrss / 1024,
        "anon_mb": peak["RssAnon"] / 1024,
        "file_mb": peak["RssFile"] / 1024,
        "rc": os.waitstatus_to_exitcode(status),
    }


def main():
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--interval", type=float, default=0.005)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    if not cmd:
        ap.error("no command")
    for _ in range(args.runs):
        r = run_once(cmd, args.interval)
        print(f"wall {r['wall']:6.2f}s user {r['user']:5.2f}s sys {r['sys']:5.2f}s"
              f" | maxrss {r['maxrss_mb']:6.1f} MB | peak RssAnon {r['anon_mb']:6.1f} MB"
              f" RssFile {r['file_mb']:6.1f} MB | rc {r['rc']}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
