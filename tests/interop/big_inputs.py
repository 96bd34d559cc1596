#!/usr/bin/env python3
"""big_inputs.py - big inputs build correctly (the `long` suite; docs/reliability.md).

  * a generated 10M-entry sender map (MAPCTL_BIG_ENTRIES, default 10,000,000)
    built by mapctl as lmdb, cdb and hash: real `postmap -s` (tinycdb's `cdb -s`
    for cdb, which postmap cannot list) counts exactly as many entries as the
    source has keys, and real `postmap -q -` finds a sample
    of 2,000 keys (1,000 present, 1,000 absent) with the source's values;
  * one 100 MB value (MAPCTL_BIG_VALUE_MB), built as lmdb, cdb and hash and read
    back whole by `postmap -q` and `mapctl query`, byte for byte;
  * a key over a type's limit fails as postmap fails: lmdb keeps keys up to 511
    bytes with their NUL, so a 511-byte key is fatal for both, with the old
    table left as it was; cdb and hash have no such limit, and both build it.

Nothing large is committed: the sources are generated into a temporary
directory (bench/gen_maps.py, fixed seeds) and removed at the end.
"""
import hashlib
import os
import random
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "..", "..", "bench", "gen_maps.py")
MAPCTL = os.environ.get("MAPCTL")
POSTMAP = os.environ.get("POSTMAP", "/usr/sbin/postmap")
ENTRIES = int(os.environ.get("MAPCTL_BIG_ENTRIES", "10000000"))
VALUE_MB = int(os.environ.get("MAPCTL_BIG_VALUE_MB", "100"))
TYPES = [t for t in os.environ.get("MAPCTL_BIG_TYPES", "lmdb,cdb,hash").split(",") if t]
failures = []


def log(msg):
    print(msg, flush=True)


def check(ok, what):
    log(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def run(argv, **kw):
    t = time.monotonic()
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)
    return r, time.monotonic() - t


def write_main_cf(d):
    with open(os.path.join(d, "main.cf"), "w") as f:
        f.write("compatibility_level = 3.6\n")
    old = time.time() - 3600  # postmap re-reads (and sleeps on) a young main.cf
    os.utime(os.path.join(d, "main.cf"), (old, old))


def count_lines(argv, env):
    """Runs argv and counts its stdout lines without holding them."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    n = 0
    for chunk in iter(lambda: p.stdout.read(1 << 20), b""):
        n += chunk.count(b"\n")
    err = p.stderr.read()
    return p.wait(), n, err


def ten_million(d, env):
    src = os.path.join(d, "senders")
    t = time.monotonic()
    subprocess.run([sys.executable, GEN, "sender", src, str(ENTRIES)], check=True)
    log("generated %d entries (%.0f MB) in %.0f s"
        % (ENTRIES, os.path.getsize(src) / 1e6, time.monotonic() - t))
    rng = random.Random(7)
    picks = set(rng.sample(range(ENTRIES), 1000))
    present = {}
    with open(src, "rb") as f:
        for i, line in enumerate(f):
            if i in picks:
                k, v = line.rstrip(b"\n").split(b"\t", 1)
                present[k.lower()] = v
    absent = [b"nobody%d@absent.example" % i for i in range(1000)]
    keys = list(present) + absent
    for t in TYPES:
        r, secs = run([MAPCTL, "build", "-c", d, "%s:%s" % (t, src)], env=env)
        check(r.returncode == 0 and not r.stderr,
              "%s: mapctl build of %d entries, exit %d, %.1f s%s"
              % (t, ENTRIES, r.returncode, secs,
                 "" if not r.stderr else ": " + r.stderr[:200].decode("utf-8", "replace")))
        if r.returncode != 0:
            continue
        if t == "cdb":
            # postmap -s cannot list a cdb table; tinycdb counts its records.
            c = subprocess.run(["cdb", "-s", src + ".cdb"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)
            first = c.stdout.split(b"\n", 1)[0]
            rc, n, err = c.returncode, int(first.split(b":")[1]) if b":" in first else -1, c.stderr
            lister = "cdb -s counts"
        else:
            rc, n, err = count_lines([POSTMAP, "-c", d, "-s", "%s:%s" % (t, src)], env)
            lister = "postmap -s lists"
        check(rc == 0 and n == ENTRIES, "%s: %s %d entries (exit %d)%s"
              % (t, lister, n, rc, "" if not err else ": " + err[:200].decode("utf-8", "replace")))
        q = subprocess.run([POSTMAP, "-c", d, "-q", "-", "%s:%s" % (t, src)],
                           input=b"\n".join(keys) + b"\n", stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, env=env)
        got = dict(line.split(b"\t", 1) for line in q.stdout.splitlines())
        check(got == present, "%s: postmap -q - finds the %d sampled keys with their values, "
              "and none of the %d absent ones (%d answers)"
              % (t, len(present), len(absent), len(got)))
    os.unlink(src)
    for t in TYPES:
        for suffix in (".lmdb", ".cdb", ".db"):
            if os.path.exists(src + suffix):
                os.unlink(src + suffix)


def big_value(d, env):
    src = os.path.join(d, "bigvalue")
    value = (b"0123456789abcdef" * (VALUE_MB << 16))  # VALUE_MB MiB
    with open(src, "wb") as f:
        f.write(b"small@example.com\tsmall\n")
        f.write(b"big@example.com\t" + value + b"\n")
    want = hashlib.sha256(value).hexdigest()
    for t in TYPES:
        name = "%s:%s" % (t, src)
        r, secs = run([MAPCTL, "build", "-c", d, name], env=env)
        check(r.returncode == 0, "%s: mapctl build of a %d MiB value, exit %d, %.1f s %s"
              % (t, VALUE_MB, r.returncode, secs, r.stderr[:200].decode("utf-8", "replace")))
        if r.returncode != 0:
            continue
        for who, argv in (("postmap -q", [POSTMAP, "-c", d, "-q", "big@example.com", name]),
                          ("mapctl query", [MAPCTL, "query", "-c", d, name, "big@example.com"])):
            q, _ = run(argv, env=env)
            out = q.stdout[:-1] if q.stdout.endswith(b"\n") else q.stdout
            check(q.returncode == 0 and hashlib.sha256(out).hexdigest() == want,
                  "%s: %s reads the %d MiB value back whole (exit %d, %d bytes)"
                  % (t, who, VALUE_MB, q.returncode, len(out)))


def over_limit_key(d, env):
    # 510 bytes + NUL is LMDB's largest key (MDB_MAXKEYSIZE 511); one more fails.
    for t in TYPES:
        for who, prog in (("postmap", [POSTMAP]), ("mapctl", [MAPCTL, "build"])):
            src = os.path.join(d, "longkey-%s-%s" % (who, t))
            with open(src, "w") as f:
                f.write("a@example.com\told\n")
            r, _ = run(prog + ["-c", d, "%s:%s" % (t, src)], env=env)
            assert r.returncode == 0, r.stderr
            before = open(src + {"lmdb": ".lmdb", "cdb": ".cdb", "hash": ".db"}[t], "rb").read()
            with open(src, "w") as f:
                f.write("a@example.com\tnew\n")
                f.write("k" * 511 + "\tvalue\n")
            r, _ = run(prog + ["-c", d, "%s:%s" % (t, src)], env=env)
            after = open(src + {"lmdb": ".lmdb", "cdb": ".cdb", "hash": ".db"}[t], "rb").read()
            if t == "lmdb":
                if who == "postmap":
                    check(r.returncode != 0, "lmdb: postmap fails on a 511-byte key (exit %d)"
                          % r.returncode)
                else:
                    check(r.returncode == 2 and before == after and b"longkey" in r.stderr,
                          "lmdb: mapctl fails on a 511-byte key with exit 2, naming the file, "
                          "and leaves the old table (exit %d: %s)"
                          % (r.returncode, r.stderr[:300].decode("utf-8", "replace").strip()))
            else:
                check(r.returncode == 0, "%s: %s builds a 511-byte key (exit %d)"
                      % (t, who, r.returncode))


def main():
    if not MAPCTL or not os.path.exists(POSTMAP):
        log("needs MAPCTL and postmap")
        return 77
    env = dict(os.environ)
    env.pop("MALLOC_PERTURB_", None)  # triples the page faults of the oracle's start
    with tempfile.TemporaryDirectory(prefix="mapctl-big-") as d:
        write_main_cf(d)
        over_limit_key(d, env)
        big_value(d, env)
        ten_million(d, env)
    log("%d failed" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
