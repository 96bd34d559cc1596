#!/usr/bin/env python3
"""Idempotent builds (issue 12, item 1), judged by the real postmap.

  * an unchanged rebuild leaves every table type as it was: inode, bytes, mtime;
  * tables postmap built (in-place lmdb, random Berkeley DB file ids, cdb) hold
    the same entries, so mapctl leaves them alone as well;
  * a source newer than its table: postmap warns "database ... is older than
    source file ..."; after mapctl's unchanged rebuild it no longer does, and
    the table is the same inode with the same bytes;
  * a source that stops granting "other" read: the mode is fixed in place; a
    builder that does not own the table gets a rewritten one instead;
  * changed entries: -j's counts are those of the two `postmap -s` dumps, and
    the new table is renamed into place; a failed build leaves the old one.

Processes are counted (docs/testing.md): postmap builds and reads several
tables per call where the output can be told apart.
"""

import json
import os
import stat
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safety_common import (  # noqa: E402
    check, read, require_tools, run_all, temp_files, test, write)

require_tools(postmap=True)

TYPES = ["lmdb", "cdb", "hash", "btree"]
SUFFIX = {"lmdb": ".lmdb", "cdb": ".cdb", "hash": ".db", "btree": ".db"}
SOURCE = "".join("user%d@example%d.com\t[relay%d.example.net]:587\n" % (i, i % 7, i % 3)
                 for i in range(300))
STALE = "is older than source file"


def table_args(src, types):
    return ["%s:%s" % (t, src) for t in types]


def sources(ctx, types):
    """One source per type (hash and btree would share NAME.db)."""
    return {t: write(ctx.path("src_" + t), SOURCE, 0o644) for t in types}


def snap(path):
    st = os.stat(path)
    return (st.st_ino, st.st_mtime_ns, stat.S_IMODE(st.st_mode), read(path))


def build_json(ctx, args, user=None):
    r = ctx.mapctl("build", "-j", *args, user=user)
    check(r.rc == 0, "build -j failed: %r" % (r,))
    objs = [json.loads(line) for line in r.outtext.splitlines()]
    check(len(objs) == len(args) - sum(a.startswith("-") for a in args),
          "one JSON object per table expected: %r" % (r,))
    return objs


def dump_entries(ctx, spec):
    r = ctx.postmap("-s", spec)
    check(r.rc == 0, "postmap -s %s failed: %r" % (spec, r))
    return dict(line.split("\t", 1) for line in r.outtext.splitlines())


@test
def unchanged_rebuild_leaves_every_type_untouched(ctx):
    srcs = sources(ctx, TYPES)
    args = [a for t in TYPES for a in table_args(srcs[t], [t])]
    first = build_json(ctx, args)
    check(all(o["changed"] and o["written"] for o in first), "first build: %r" % first)
    before = {t: snap(srcs[t] + SUFFIX[t]) for t in TYPES}
    again = build_json(ctx, args)
    for o in again:
        check(not o["changed"] and not o["written"] and not o["mtime_updated"],
              "second build is not a no-op: %r" % o)
    for t in TYPES:
        check(snap(srcs[t] + SUFFIX[t]) == before[t], "%s table changed on disk" % t)
    # postmap still reads them (one process: the key is in every table).
    r = ctx.postmap("-q", "user5@example5.com", *args)
    check(r.rc == 0 and r.out == b"[relay2.example.net]:587\n" and r.err == b"",
          "postmap -q: %r" % (r,))


@test
def tables_postmap_built_hold_the_same_entries_and_stay(ctx):
    srcs = sources(ctx, TYPES)
    args = [a for t in TYPES for a in table_args(srcs[t], [t])]
    r = ctx.postmap(*args)
    check(r.rc == 0, "postmap build: %r" % (r,))
    before = {t: snap(srcs[t] + SUFFIX[t]) for t in TYPES}
    for o in build_json(ctx, args):
        check(not o["changed"] and not o["written"],
              "a postmap-built table counted as changed: %r" % o)
    for t in TYPES:
        check(snap(srcs[t] + SUFFIX[t]) == before[t], "%s table changed on disk" % t)


@test
def a_newer_source_no_longer_makes_postmap_warn(ctx):
    types = ["lmdb", "cdb", "hash"]
    srcs = sources(ctx, types)
    args = [a for t in types for a in table_args(srcs[t], [t])]
    ctx.build(*args)
    now = time.time()
    for t in types:
        os.utime(srcs[t] + SUFFIX[t], (now - 1000, now - 1000))
        os.utime(srcs[t], (now - 500, now - 500))
    # A key in no table: postmap opens (and checks) every table.
    r = ctx.postmap("-q", "nobody@nowhere.example", *args)
    check(r.rc == 1 and r.errtext.count(STALE) == len(types),
          "the setup should make postmap warn for each table: %r" % (r,))
    before = {t: snap(srcs[t] + SUFFIX[t]) for t in types}
    for o in build_json(ctx, args):
        check(not o["changed"] and not o["written"] and o["mtime_updated"],
              "expected an mtime update only: %r" % o)
    for t in types:
        ino, mtime, mode, data = snap(srcs[t] + SUFFIX[t])
        check((ino, mode, data) == (before[t][0], before[t][2], before[t][3]),
              "%s table replaced or rewritten" % t)
        check(mtime >= os.stat(srcs[t]).st_mtime_ns, "%s mtime not brought up to date" % t)
    r = ctx.postmap("-q", "nobody@nowhere.example", *args)
    check(r.rc == 1 and STALE not in r.errtext, "postmap still warns: %r" % (r,))


@test
def a_narrower_source_mode_is_applied_in_place(ctx):
    srcs = sources(ctx, ["lmdb", "cdb"])
    args = table_args(srcs["lmdb"], ["lmdb"]) + table_args(srcs["cdb"], ["cdb"])
    ctx.build(*args)
    before = {t: os.stat(srcs[t] + SUFFIX[t]).st_ino for t in ("lmdb", "cdb")}
    for t in ("lmdb", "cdb"):
        os.chmod(srcs[t], 0o600)
    for o in build_json(ctx, args):
        check(not o["changed"] and not o["written"] and o["mode_updated"], "%r" % o)
    for t in ("lmdb", "cdb"):
        st = os.stat(srcs[t] + SUFFIX[t])
        check(stat.S_IMODE(st.st_mode) == 0o640, "%s mode %o" % (t, st.st_mode))
        check(st.st_ino == before[t], "%s table was replaced" % t)


@test
def a_builder_who_cannot_chmod_the_table_rewrites_it(ctx):
    if os.geteuid() != 0:
        print("  (skipped: needs root to set up a table owned by someone else)")
        return
    d = ctx.subdir("shared", 0o777)
    src = write(os.path.join(d, "src"), SOURCE, 0o644)
    ctx.build("lmdb:" + src)               # root's table, 0644
    ino = os.stat(src + ".lmdb").st_ino
    os.chmod(src, 0o600)
    os.chown(src, 65534, os.stat(src).st_gid)  # nobody may read it
    [o] = build_json(ctx, ["lmdb:" + src], user="nobody")
    check(not o["changed"] and o["written"], "expected a rewrite: %r" % o)
    st = os.stat(src + ".lmdb")
    check(st.st_ino != ino and stat.S_IMODE(st.st_mode) == 0o640,
          "mode %o inode %d (was %d)" % (st.st_mode, st.st_ino, ino))


@test
def changed_entries_are_counted_as_postmap_dumps_differ(ctx):
    src = write(ctx.path("src"), SOURCE, 0o644)
    r = ctx.postmap("lmdb:" + src)
    check(r.rc == 0, "postmap: %r" % (r,))
    old = dump_entries(ctx, "lmdb:" + src)
    lines = SOURCE.splitlines(True)
    edited = lines[5:100] + ["new%d@example.org\tx\n" % i for i in range(7)] + [
        l.replace("]:587", "]:465") for l in lines[100:120]] + lines[120:]
    write(src, "".join(edited))
    ino = os.stat(src + ".lmdb").st_ino
    [o] = build_json(ctx, ["lmdb:" + src])
    new = dump_entries(ctx, "lmdb:" + src)
    want = (len(new.keys() - old.keys()), len(old.keys() - new.keys()),
            sum(old[k] != new[k] for k in old.keys() & new.keys()))
    check(want == (7, 5, 20), "the edit is not what the test meant: %r" % (want,))
    check((o["added"], o["removed"], o["modified"]) == want and o["changed"] and o["written"],
          "counts %r, postmap's dumps say %r" % (o, want))
    check(os.stat(src + ".lmdb").st_ino != ino, "a changed table is renamed into place")
    # A failed build (a key too long for lmdb) leaves this table as it is.
    before = snap(src + ".lmdb")
    write(src, "".join(edited) + "k" * 600 + " v\n")
    r = ctx.mapctl("build", "-j", "lmdb:" + src)
    check(r.rc == 2 and r.out == b"", "expected exit 2 and no object: %r" % (r,))
    check(snap(src + ".lmdb") == before and not temp_files(ctx.dir),
          "the failed build touched the table")


if __name__ == "__main__":
    run_all()
