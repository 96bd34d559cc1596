#!/usr/bin/env python3
"""Careful readers: mapctl query / dump / verify.

Rules (mapctl's contract):
  * a table that is zero length, a directory, a FIFO, has a wrong magic or
    version, or is truncated below what its meta page says: exit 2 with one
    clear message, never a crash or a hang;
  * `verify` of randomly damaged copies (seeded byte flips) reports damage
    (exit 1) or ok (0) or cannot-open (2), never crashes; a table `verify`
    calls ok can be queried and dumped without a crash;
  * readers never create an LMDB "-lock" file (they work in a read-only dir);
  * readers take fcntl F_RDLCK per unit but never hold it while blocked on
    output or input (dump into a stalled pipe; query - with an idle stdin);
  * query exits 0 found / 1 not found (empty key too) / 2 trouble;
  * cdb, hash and btree tables that are zero length, not a regular file,
    not of the type (wrong magic, the other Berkeley DB type) or truncated:
    query, dump, diff (a source against the table) and check (a main.cf
    naming the table) exit 2 with an error naming the file; verify reports
    them (exit 1 or 2) and never crashes on seeded mutations
    (MAPCTL_FUZZ_ITERS_OTHER per type).

The verify fuzz makes MAPCTL_FUZZ_ITERS (lmdb) and MAPCTL_FUZZ_ITERS_OTHER
(each other type) mutations: 100 and 40 by default, 400 and 150 when
MAPCTL_TEST_SCOPE=long (meson --suite long).
"""

import fcntl
import os
import random
import shutil
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safety_common import (  # noqa: E402
    MAPCTL, PAGE, check, check_no_sanitizer, check_one_clear_error, current_meta,
    expected_value, fcntl_wrlock_free, gen_source, message_lines, meta_info, popen, read,
    require_tools, run_all, scaled, test, write)

require_tools(postmap=True)


def lm(p):
    return "lmdb:" + p


def reader_cmds(t, which=("query", "dump", "verify")):
    cmds = {"query": ["query", lm(t), "user1@example1.com"], "dump": ["dump", lm(t)],
            "verify": ["verify", lm(t)]}
    return [cmds[w] for w in which]


def build_pm(ctx, name, n):
    """A table built by real postmap (the format mapctl must read)."""
    src = gen_source(ctx.path(name), n)
    r = ctx.postmap(lm(src))
    check(r.rc == 0, "postmap build failed: %r" % r)
    return src


def check_broken(ctx, t, what, which=("query", "dump")):
    """query and dump here; verify's exit 2 is checked by verify_cannot_open_is_exit_2
    so that one verify bug does not hide the other readers' results."""
    for cmd in reader_cmds(t, which):
        r = ctx.mapctl(*cmd, timeout=15)
        check(r.rc >= 0 and r.rc < 128, "%s on %s: killed by a signal: %r" % (cmd[0], what, r))
        check_no_sanitizer(r)
        try:
            if cmd[0] == "verify":
                # verify may list several findings; each line is a mapctl message
                lines = message_lines(r.err)
                check(r.rc == 2, "expected exit 2 (cannot open), got %r" % (r,))
                check(lines and all(l.startswith("mapctl: ") for l in lines),
                      "no/odd message: %r" % (r,))
                check(os.path.basename(t) in lines[0], "first line does not name the table: %r" % lines[0])
            else:
                check_one_clear_error(r, os.path.basename(t))
        except AssertionError as e:
            raise AssertionError("%s on %s: %s" % (cmd[0], what, e))
        check(r.out == b"", "%s on %s printed data: %r" % (cmd[0], what, r))


@test
def zero_length_table(ctx):
    t = ctx.path("t")
    write(t + ".lmdb", b"")
    check_broken(ctx, t, "zero-length .lmdb")


@test
def directory_as_table(ctx):
    t = ctx.path("t")
    os.mkdir(t + ".lmdb")
    check_broken(ctx, t, "a directory")


@test
def fifo_as_table(ctx):
    t = ctx.path("t")
    os.mkfifo(t + ".lmdb")
    check_broken(ctx, t, "a FIFO (must not hang)")


@test
def missing_table(ctx):
    check_broken(ctx, ctx.path("t"), "a missing table")


@test
def garbage_and_short_files(ctx):
    t = ctx.path("t")
    rnd = random.Random(7)
    for size in (1, 100, 4095, 4096, 8191, 8192, 12288):
        write(t + ".lmdb", bytes(rnd.randrange(256) for _ in range(size)))
        check_broken(ctx, t, "%d random bytes" % size)


def patch_both_metas(data, off, fmt, value):
    b = bytearray(data)
    for pg in (0, 1):
        struct.pack_into(fmt, b, pg * PAGE + off, value)
    return bytes(b)


@test
def wrong_magic(ctx):
    src = build_pm(ctx, "t", 1000)
    good = read(src + ".lmdb")
    write(src + ".lmdb", patch_both_metas(good, 16, "<I", 0xDEADBEEF))
    check_broken(ctx, src, "wrong magic")


@test
def wrong_version(ctx):
    src = build_pm(ctx, "t", 1000)
    good = read(src + ".lmdb")
    for v in (0, 2, 999):
        write(src + ".lmdb", patch_both_metas(good, 20, "<I", v))
        check_broken(ctx, src, "version %d" % v)


@test
def truncated_below_meta(ctx):
    src = build_pm(ctx, "t", 20000)
    good = read(src + ".lmdb")
    m = current_meta(good)
    need = (m["last_pg"] + 1) * PAGE
    check(len(good) >= need and m["last_pg"] > 20, "unexpected table layout %r" % m)
    for cut in (need - PAGE, need // 2, 3 * PAGE, 2 * PAGE, need - 1):
        write(src + ".lmdb", good[:cut])
        check_broken(ctx, src, "truncated to %d of %d bytes" % (cut, need))


@test
def verify_cannot_open_is_exit_2(ctx):
    """verify: 0 ok, 1 damage found, 2 cannot open -- a file that is not an LMDB
    table at all (zero length, directory, FIFO, wrong magic/version, truncated
    below its meta page) is 'cannot open'."""
    src = build_pm(ctx, "t", 20000)
    good = read(src + ".lmdb")
    m = current_meta(good)
    need = (m["last_pg"] + 1) * PAGE
    kinds = [
        ("zero length", lambda p: write(p, b"")),
        ("a directory", lambda p: os.mkdir(p)),
        ("a FIFO", lambda p: os.mkfifo(p)),
        ("100 bytes", lambda p: write(p, b"x" * 100)),
        ("wrong magic", lambda p: write(p, patch_both_metas(good, 16, "<I", 0xDEADBEEF))),
        ("wrong version", lambda p: write(p, patch_both_metas(good, 20, "<I", 999))),
        ("truncated by a page", lambda p: write(p, good[:need - PAGE])),
        ("truncated to half", lambda p: write(p, good[:need // 2])),
    ]
    bad = []
    for i, (what, make) in enumerate(kinds):
        t = ctx.path("k%d_%s" % (i, what.replace(" ", "_")))
        make(t + ".lmdb")
        try:
            check_broken(ctx, t, what, which=("verify",))
        except AssertionError as e:
            bad.append(str(e))
    check(not bad, "\n  ".join(bad))


@test
def good_tables_verify_ok(ctx):
    for n in (0, 1, 3000, 50000):
        src = build_pm(ctx, "t%d" % n, n)
        r = ctx.mapctl("verify", lm(src))
        check(r.rc == 0, "verify of a good %d-entry postmap table: %r" % (n, r))
        src2 = gen_source(ctx.path("m%d" % n), n)
        ctx.build(lm(src2))
        r = ctx.mapctl("verify", lm(src2))
        check(r.rc == 0, "verify of a good %d-entry mapctl table: %r" % (n, r))
    r = ctx.mapctl("verify", lm(ctx.path("t1")), lm(ctx.path("t3000")))
    check(r.rc == 0, "verify of two good tables: %r" % r)


def root_pgno(data):
    m = meta_info(data)
    off = 0 if m[0]["txnid"] > m[1]["txnid"] else PAGE
    # dbs[1] (main DB) at 40 + 48; md_root is its last field (+40)
    return struct.unpack_from("<Q", data, off + 40 + 48 + 40)[0], off


@test
def verify_reports_targeted_damage(ctx):
    src = build_pm(ctx, "t", 5000)
    good = read(src + ".lmdb")
    root, meta_off = root_pgno(good)
    m = current_meta(good)
    check(2 <= root <= m["last_pg"], "root page %d out of range %r" % (root, m))
    cases = []
    b = bytearray(good)
    struct.pack_into("<Q", b, root * PAGE, root + 7)           # root page's own pgno wrong
    cases.append(("root page number", bytes(b)))
    b = bytearray(good)
    struct.pack_into("<H", b, root * PAGE + 10, 0x4000)        # root page flags nonsense
    cases.append(("root page flags", bytes(b)))
    b = bytearray(good)
    struct.pack_into("<HH", b, root * PAGE + 12, 4000, 20)      # lower > upper
    cases.append(("root page lower/upper", bytes(b)))
    b = bytearray(good)
    struct.pack_into("<Q", b, meta_off + 40 + 48 + 40, m["last_pg"] + 50)   # root beyond EOF
    cases.append(("root beyond last page", bytes(b)))
    leaf = m["last_pg"] - 1
    b = bytearray(good)
    b[leaf * PAGE:(leaf + 1) * PAGE] = b"\xff" * PAGE              # a whole page of 0xff
    cases.append(("page %d overwritten" % leaf, bytes(b)))
    for what, data in cases:
        write(src + ".lmdb", data)
        r = ctx.mapctl("verify", lm(src), timeout=20)
        check(r.rc < 128 and r.rc >= 0, "verify killed by a signal (%s): %r" % (what, r))
        check_no_sanitizer(r)
        check(r.rc in (1, 2), "verify did not report damage (%s): %r" % (what, r))
        check(r.err.strip() or r.out.strip(), "verify exit %d without a report (%s)" % (r.rc, what))


@test
def verify_fuzz_never_crashes(ctx):
    seed = int(os.environ.get("MAPCTL_FUZZ_SEED", "20240611"))
    iters = scaled("MAPCTL_FUZZ_ITERS", 100, 400)
    rnd = random.Random(seed)
    srcs = [build_pm(ctx, "p", 3000)]
    srcm = gen_source(ctx.path("m"), 3000, valtag="m")
    ctx.build(lm(srcm))
    srcs.append(srcm)
    bigv = write(ctx.path("o"), b"a@example.com " + b"v" * 20000 + b"\nb@example.com w\n")
    ctx.build(lm(bigv))                                           # overflow pages
    srcs.append(bigv)
    t = ctx.path("fz")
    counts = {0: 0, 1: 0, 2: 0}
    for it in range(iters):
        src = srcs[it % len(srcs)]
        data = bytearray(read(src + ".lmdb"))
        npages = len(data) // PAGE
        flips = []
        for _ in range(rnd.choice((1, 1, 2, 4, 16))):
            r = rnd.random()
            if r < 0.3:                       # a page header
                off = rnd.randrange(npages) * PAGE + rnd.randrange(16)
            elif r < 0.45:                    # a meta page body
                off = rnd.randrange(2) * PAGE + rnd.randrange(16, 160)
            elif r < 0.65:                    # the node index just after a header
                off = rnd.randrange(npages) * PAGE + 16 + rnd.randrange(64)
            else:
                off = rnd.randrange(len(data))
            val = rnd.choice((rnd.randrange(256), data[off] ^ (1 << rnd.randrange(8)), 0, 0xff))
            data[off] = val
            flips.append((off, val))
        write(t + ".lmdb", bytes(data))
        r = ctx.mapctl("verify", lm(t), timeout=20)
        where = "seed %d iteration %d (source %s, flips %r)" % (seed, it, os.path.basename(src), flips)
        check(0 <= r.rc < 128, "verify killed by signal %d at %s" % (-r.rc if r.rc < 0 else r.rc - 128, where))
        check(r.rc in (0, 1, 2), "verify exit %d at %s" % (r.rc, where))
        try:
            check_no_sanitizer(r)
        except AssertionError as e:
            raise AssertionError("%s at %s" % (e, where))
        counts[r.rc] += 1
        if r.rc == 0:
            # a table verify calls ok must be safe to read
            for cmd in (["dump", lm(t)], ["query", lm(t), "a@example.com"]):
                q = ctx.mapctl(*cmd, timeout=20)
                check(0 <= q.rc < 128, "%s crashed on a table verify called ok, %s: %r"
                      % (cmd[0], where, q))
                check_no_sanitizer(q)
    print("  verify results over %d mutations: %r" % (iters, counts))
    check(counts[1] + counts[2] > iters // 10,
          "verify found damage in only %d of %d mutated tables" % (counts[1] + counts[2], iters))


@test
def readers_work_in_read_only_dir_as_nobody(ctx):
    d = ctx.subdir("ro", 0o755)
    src = gen_source(os.path.join(d, "t"), 100)
    r = ctx.postmap(lm(src))
    check(r.rc == 0, "%r" % r)
    os.chmod(d, 0o555)
    for cmd in reader_cmds(src):
        r = ctx.mapctl(*cmd, user="nobody")
        check(r.rc == 0, "%s as nobody in a read-only dir: %r" % (cmd[0], r))
    check(sorted(os.listdir(d)) == ["t", "t.lmdb"], "files appeared: %r" % os.listdir(d))


@test
def dump_does_not_hold_lock_while_blocked_on_pipe(ctx):
    n = 100_000
    src = build_pm(ctx, "big", n)
    count = ctx.path("count")
    dump = popen([MAPCTL, "dump", lm(src)], env=ctx.env, stdout=subprocess.PIPE)
    sink = popen(["sh", "-c", "sleep 3; wc -l > '%s'" % count], stdin=dump.stdout)
    dump.stdout.close()
    time.sleep(1.0)
    check(dump.poll() is None, "dump finished before the pipe filled (rc %r)" % dump.poll())
    fails = 0
    for _ in range(15):
        if not fcntl_wrlock_free(src + ".lmdb"):
            fails += 1
        time.sleep(0.08)
    check(dump.poll() is None, "dump was not blocked on the pipe during the probe")
    check(fails == 0, "an exclusive fcntl lock was refused %d/15 times while dump was "
          "blocked writing to a pipe (read lock held across output)" % fails)
    dump.wait(timeout=60)
    sink.wait(timeout=60)
    check(dump.returncode == 0, "dump exit %r" % dump.returncode)
    check(read(count).strip() == str(n).encode(), "dump wrote %r lines, expected %d" % (read(count), n))


@test
def query_stdin_does_not_hold_lock_while_waiting(ctx):
    src = build_pm(ctx, "t", 1000)
    p = popen([MAPCTL, "query", lm(src), "-"], env=ctx.env, stdin=subprocess.PIPE,
              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(0.5)
    check(p.poll() is None, "query - exited early: %r" % p.poll())
    check(fcntl_wrlock_free(src + ".lmdb"), "lock held while waiting for the first key")
    p.stdin.write(b"user1@example1.com\n")
    p.stdin.flush()
    time.sleep(0.7)
    fails = sum(0 if fcntl_wrlock_free(src + ".lmdb") else 1 for _ in range(10))
    check(fails == 0, "an exclusive fcntl lock was refused %d/10 times while query - "
          "waited on stdin after a lookup" % fails)
    p.stdin.write(b"nosuch@example.com\nuser2@example2.com\n")
    p.stdin.close()
    out = p.stdout.read()
    err = p.stderr.read()
    p.wait(timeout=30)
    check(p.returncode == 0, "query - exit %r err %r" % (p.returncode, err))
    check(out == b"user1@example1.com\t" + expected_value(1) + b"\n" +
          b"user2@example2.com\t" + expected_value(2) + b"\n", "query - output %r" % out)


def hold_lock(path, kind):
    fd = os.open(path, os.O_RDWR)
    fcntl.lockf(fd, kind)
    return fd


@test
def readers_take_a_read_lock(ctx):
    src = build_pm(ctx, "t", 1000)
    # a shared lock held by somebody else does not stop a reader
    fd = hold_lock(src + ".lmdb", fcntl.LOCK_SH)
    try:
        r = ctx.mapctl("query", lm(src), "user1@example1.com", timeout=10)
        check(r.rc == 0, "query blocked/failed by a shared lock: %r" % r)
    finally:
        os.close(fd)
    # an exclusive lock held by somebody else: no successful read while it is held
    for cmd in (["query", lm(src), "user1@example1.com"], ["dump", lm(src)]):
        fd = hold_lock(src + ".lmdb", fcntl.LOCK_EX)
        try:
            p = popen([MAPCTL] + cmd, env=ctx.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            time.sleep(1.5)
            rc = p.poll()
            check(rc is None or rc != 0,
                  "%s succeeded while another process held F_WRLCK (no F_RDLCK taken)" % cmd[0])
        finally:
            os.close(fd)
        out, err = p.communicate(timeout=30)
        if rc is None:
            check(p.returncode == 0, "%s failed after the lock was released: %r" % (cmd[0], err))


@test
def query_exit_codes_and_outputs(ctx):
    src = build_pm(ctx, "t", 1000)
    k1, k2 = "user1@example1.com", "user2@example2.com"
    v1, v2 = expected_value(1), expected_value(2)
    r = ctx.mapctl("query", lm(src), k1)
    check((r.rc, r.out) == (0, v1 + b"\n"), "found: %r" % r)
    r = ctx.mapctl("query", lm(src), "USER1@Example1.COM")
    check((r.rc, r.out) == (0, v1 + b"\n"), "found folded: %r" % r)
    r = ctx.mapctl("query", lm(src), "nosuch@example.com")
    check((r.rc, r.out, r.err) == (1, b"", b""), "not found: %r" % r)
    r = ctx.mapctl("query", lm(src), "")
    check((r.rc, r.out) == (1, b""), "empty key must be 'not found' (1): %r" % r)
    r = ctx.mapctl("query", lm(src), k1, "nosuch@example.com", k2)
    check((r.rc, r.out) == (0, b"%s\t%s\n%s\t%s\n" % (k1.encode(), v1, k2.encode(), v2)),
          "several keys: %r" % r)
    r = ctx.mapctl("query", lm(src), "x@y", "")
    check((r.rc, r.out) == (1, b""), "several keys, none found: %r" % r)
    r = ctx.mapctl("query", lm(src), "-", input=b"\n" + k1.encode() + b"\n\nnope\n")
    check((r.rc, r.out) == (0, b"%s\t%s\n" % (k1.encode(), v1)), "stdin keys with empty lines: %r" % r)
    r = ctx.mapctl("query", lm(ctx.path("nosuch")), k1)
    check_one_clear_error(r, "nosuch")
    # same answers as postmap -q
    for i in (0, 5, 999):
        k = "user%d@example%d.com" % (i, i % 97)
        check(ctx.mapctl("query", lm(src), k).out[:-1] == ctx.pm_query(k, src),
              "query %s differs from postmap -q" % k)


@test
def dump_equals_postmap_s(ctx):
    src = build_pm(ctx, "t", 5000)
    r = ctx.mapctl("dump", lm(src))
    check(r.rc == 0, "%r" % r)
    check(r.out == ctx.pm_dump(src), "mapctl dump differs from postmap -s")


# ---------------------------------------------------------------------------
# cdb, hash and btree: the same rules for bad files, for query, dump, diff
# and check (a main.cf naming the table), and a seeded verify fuzz.

OTHER_TYPES = ["cdb", "hash", "btree"]
SFX = {"cdb": ".cdb", "hash": ".db", "btree": ".db"}
_bdb_ok = None


def have_bdb(ctx):
    """Whether this mapctl reads hash/btree (built with Berkeley DB)."""
    global _bdb_ok
    if _bdb_ok is None:
        r = ctx.mapctl("query", "hash:" + ctx.path("nosuch"), "k")
        _bdb_ok = b"without Berkeley DB" not in r.err
        if not _bdb_ok:
            print("  note: mapctl built without Berkeley DB: hash and btree not tested")
    return _bdb_ok


def build_typed(ctx, ttype, name, n):
    """NAME built by real postmap as TYPE (its own directory per type, as
    hash and btree share the .db suffix)."""
    d = ctx.path(ttype)
    if not os.path.isdir(d):
        os.mkdir(d)
    src = gen_source(os.path.join(d, name), n)
    r = ctx.postmap("%s:%s" % (ttype, src))
    check(r.rc == 0, "postmap %s build failed: %r" % (ttype, r))
    return src


def bad_files(ctx, ttype):
    """[(description, table path without suffix)] of broken TYPE tables."""
    src = build_typed(ctx, ttype, "good", 3000)
    good = read(src + SFX[ttype])
    d = ctx.path(ttype)
    out = []

    def add(what, make):
        t = os.path.join(d, "bad_" + what.replace(" ", "_").replace(":", ""))
        make(t + SFX[ttype])
        out.append((what, t))

    add("zero length", lambda p: write(p, b""))
    add("a directory", lambda p: os.mkdir(p))
    add("a FIFO", lambda p: os.mkfifo(p))
    add("100 bytes", lambda p: write(p, b"x" * 100))
    if ttype == "cdb":
        # cdb has no magic: a header whose hash tables lie beyond the file
        b = bytearray(good)
        for i in range(256):
            struct.pack_into("<II", b, i * 8, 0xFFFFFF00, 7)
        add("header beyond EOF", lambda p: write(p, bytes(b)))
        add("random 4096 bytes", lambda p: write(p, bytes(random.Random(3).randrange(256)
                                                          for _ in range(4096))))
    else:
        b = bytearray(good)
        struct.pack_into("<I", b, 12, 0xDEADBEEF)
        add("wrong magic", lambda p: write(p, bytes(b)))
        b2 = bytearray(good)
        struct.pack_into("<I", b2, 16, 999)
        add("wrong version", lambda p: write(p, bytes(b2)))
        other = "btree" if ttype == "hash" else "hash"
        osrc = build_typed(ctx, other, "other", 10)
        add("the other Berkeley DB type", lambda p: shutil.copyfile(osrc + ".db", p))
        add("truncated by a page", lambda p: write(p, good[:len(good) - 4096]))
    add("truncated to half", lambda p: write(p, good[:len(good) // 2]))
    return src, out


def check_bad_for_command(ctx, ttype, command):
    if ttype != "cdb" and not have_bdb(ctx):
        return
    src, bad = bad_files(ctx, ttype)
    problems = []
    for what, t in bad:
        table = "%s:%s" % (ttype, t)
        fname = os.path.basename(t) + SFX[ttype]
        if command == "query":
            r = ctx.mapctl("query", table, "user1@example1.com", timeout=15)
        elif command == "dump":
            r = ctx.mapctl("dump", table, timeout=15)
        elif command == "diff":
            r = ctx.mapctl("diff", src, table, timeout=15)
        else:
            conf = ctx.path("conf_" + ttype)
            if not os.path.isdir(conf):
                os.mkdir(conf)
            with open(os.path.join(conf, "main.cf"), "w") as f:
                f.write("compatibility_level = 3.6\n"
                        "sender_dependent_relayhost_maps = %s\n" % table)
            r = ctx.mapctl("check", "-c", conf, timeout=30)
        try:
            check(0 <= r.rc < 128, "killed by a signal: %r" % (r,))
            check_no_sanitizer(r)
            if command == "check":
                # findings go to stdout; the broken table is trouble
                lines = message_lines(r.err)
                check(r.rc == 2, "expected exit 2, got %r" % (r,))
                check(any(l.startswith("mapctl: ") and "error" in l and fname in l for l in lines),
                      "no error naming %s on stderr: %r" % (fname, r.err))
            else:
                check_one_clear_error(r, fname)
                check(r.out == b"", "printed data: %r" % (r.out[:200],))
        except AssertionError as e:
            problems.append("%s on %s (%s): %s" % (command, ttype, what, e))
    check(not problems, "\n  ".join(problems))


def _register_bad_input_tests():
    for ttype in OTHER_TYPES:
        for command in ("query", "dump", "diff", "check"):
            def fn(ctx, ttype=ttype, command=command):
                check_bad_for_command(ctx, ttype, command)
            fn.__name__ = "bad_%s_table_%s" % (ttype, command)
            test(fn)


_register_bad_input_tests()


@test
def verify_bad_files_other_types(ctx):
    """verify on files that are not tables of the type: a message naming the
    file and exit 1 (damage) or 2 (cannot open); never 0, never a crash."""
    problems = []
    for ttype in OTHER_TYPES:
        if ttype != "cdb" and not have_bdb(ctx):
            continue
        _, bad = bad_files(ctx, ttype)
        for what, t in bad:
            fname = os.path.basename(t) + SFX[ttype]
            r = ctx.mapctl("verify", "%s:%s" % (ttype, t), timeout=20)
            try:
                check(0 <= r.rc < 128, "killed by a signal: %r" % (r,))
                check_no_sanitizer(r)
                check(r.rc in (1, 2), "expected exit 1 or 2, got %r" % (r,))
                lines = message_lines(r.err)
                check(lines and fname in lines[0], "first message does not name %s: %r"
                      % (fname, r.err))
            except AssertionError as e:
                problems.append("verify %s (%s): %s" % (ttype, what, e))
    check(not problems, "\n  ".join(problems))


@test
def good_tables_verify_ok_other_types(ctx):
    for ttype in OTHER_TYPES:
        if ttype != "cdb" and not have_bdb(ctx):
            continue
        for n in (0, 1, 3000):
            src = build_typed(ctx, ttype, "t%d" % n, n)
            r = ctx.mapctl("verify", "%s:%s" % (ttype, src))
            check(r.rc == 0, "verify of a good %d-entry postmap %s table: %r" % (n, ttype, r))
            src2 = gen_source(ctx.path(ttype, "m%d" % n), n)
            ctx.build("%s:%s" % (ttype, src2))
            r = ctx.mapctl("verify", "%s:%s" % (ttype, src2))
            check(r.rc == 0, "verify of a good %d-entry mapctl %s table: %r" % (n, ttype, r))


def _verify_fuzz(ctx, ttype):
    if ttype != "cdb" and not have_bdb(ctx):
        return
    seed = int(os.environ.get("MAPCTL_FUZZ_SEED", "20240611")) + OTHER_TYPES.index(ttype)
    iters = scaled("MAPCTL_FUZZ_ITERS_OTHER", 40, 150)
    rnd = random.Random(seed)
    srcs = [build_typed(ctx, ttype, "p", 3000)]
    srcm = gen_source(ctx.path(ttype, "m"), 3000, valtag="m")
    ctx.build("%s:%s" % (ttype, srcm))
    srcs.append(srcm)
    bigv = write(ctx.path(ttype, "o"), b"a@example.com " + b"v" * 20000 + b"\nb@example.com w\n")
    ctx.build("%s:%s" % (ttype, bigv))                        # overflow pages / a long record
    srcs.append(bigv)
    t = ctx.path(ttype, "fz")
    table = "%s:%s" % (ttype, t)
    counts = {0: 0, 1: 0, 2: 0}
    for it in range(iters):
        src = srcs[it % len(srcs)]
        data = bytearray(read(src + SFX[ttype]))
        flips = []
        for _ in range(rnd.choice((1, 1, 2, 4, 16))):
            r = rnd.random()
            if ttype == "cdb":
                if r < 0.3:                       # the header
                    off = rnd.randrange(min(2048, len(data)))
                elif r < 0.5:                     # the hash tables at the end
                    off = len(data) - 1 - rnd.randrange(min(len(data), 8192))
                else:
                    off = rnd.randrange(len(data))
            else:
                npages = len(data) // 4096
                if r < 0.15:                      # the metadata page
                    off = rnd.randrange(72)
                elif r < 0.45:                    # a page header
                    off = rnd.randrange(npages) * 4096 + rnd.randrange(26)
                else:
                    off = rnd.randrange(len(data))
            val = rnd.choice((rnd.randrange(256), data[off] ^ (1 << rnd.randrange(8)), 0, 0xff))
            data[off] = val
            flips.append((off, val))
        write(t + SFX[ttype], bytes(data))
        r = ctx.mapctl("verify", table, timeout=20)
        where = "%s seed %d iteration %d (source %s, flips %r)" % (
            ttype, seed, it, os.path.basename(src), flips)
        check(0 <= r.rc < 128, "verify killed by signal %d at %s" % (
            -r.rc if r.rc < 0 else r.rc - 128, where))
        check(r.rc in (0, 1, 2), "verify exit %d at %s" % (r.rc, where))
        try:
            check_no_sanitizer(r)
        except AssertionError as e:
            raise AssertionError("%s at %s" % (e, where))
        counts[r.rc] += 1
        if r.rc == 0:
            # a table verify calls ok must be safe to read
            for cmd in (["dump", table], ["query", table, "a@example.com"]):
                q = ctx.mapctl(*cmd, timeout=20)
                check(0 <= q.rc < 128, "%s crashed on a table verify called ok, %s: %r"
                      % (cmd[0], where, q))
                check_no_sanitizer(q)
    print("  %s verify results over %d mutations: %r" % (ttype, iters, counts))
    check(counts[1] + counts[2] > iters // 10,
          "verify found damage in only %d of %d mutated %s tables"
          % (counts[1] + counts[2], iters, ttype))


def _register_fuzz_tests():
    for ttype in OTHER_TYPES:
        def fn(ctx, ttype=ttype):
            _verify_fuzz(ctx, ttype)
        fn.__name__ = "verify_fuzz_never_crashes_%s" % ttype
        test(fn)


_register_fuzz_tests()


if __name__ == "__main__":
    run_all()
