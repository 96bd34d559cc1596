#!/usr/bin/env python3
"""Build safety of `mapctl build`, checked against real Postfix.

Rules (mapctl's contract):
  * the table is built in NAME.lmdb.mapctl-XXXXXX beside the target: random name,
    created exclusively (O_CREAT|O_EXCL: a planted symlink is never followed),
    flocked for the build's life, fsync'd, then renamed over the target;
  * concurrent builds both finish with a complete table (that readers of the
    old table never see a half-written one, through SIGKILLs and live
    readers, is reliability.py's);
  * on any error the previous table is untouched (bytes, inode, mode) and the
    temp file is gone; leftovers of killed builds are removed by the next build,
    never the temp file of a running build;
  * never an LMDB "-lock" file (checked after every test by the harness);
  * the map size is computed from the input (200k entries, 50 MB values);
  * errors: exit 2 and one line naming the file; warnings: exit 0 (1 and nothing
    written with --strict); nothing on stdout; progress only on a terminal.
"""

import atexit
import os
import pty
import random
import re
import resource
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safety_common import (  # noqa: E402
    Result, TestFailure, check, check_one_clear_error, current_meta, expected_value,
    flock_held, gen_source, message_lines, popen, read, require_tools, run, run_all,
    snapshot, temp_files, test, wait_for, write, LMDB_MAGIC)

require_tools(postmap=True)

# A big source shared by the tests (copied into each test's own directory).
_cache = {}
_cache_dir = tempfile.mkdtemp(prefix="mapctl-build-safety-cache-")
atexit.register(shutil.rmtree, _cache_dir, True)

# Big enough that a build runs for a while (its temp file can be caught and
# the build stopped), small enough to be cheap on a 2-core nested VM.
BIG_N = 300_000


def big_source(ctx, name="src", n=BIG_N, valtag="v"):
    key = (n, valtag)
    if key not in _cache:
        _cache[key] = gen_source(os.path.join(_cache_dir, "%d-%s" % (n, valtag)), n, valtag=valtag)
    dst = ctx.path(name)
    shutil.copyfile(_cache[key], dst)
    return dst


def small_source(ctx, name="src", text="alice@example.com relay-a\nbob@example.com relay-b\n"):
    return write(ctx.path(name), text)


def lm(p):
    return "lmdb:" + p


def catch_temp(ctx, proc, timeout=30):
    """Poll the directory until a build's temp file appears; returns its name."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        t = temp_files(ctx.dir)
        if t:
            return t[0]
        if proc.poll() is not None:
            return None
        time.sleep(0.001)
    return None


def start_build(ctx, *args, **kw):
    return popen([os.environ["MAPCTL"], "build"] + list(args), env=ctx.env,
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


def finish(proc, timeout=120):
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def stopped_mid_build(ctx, src, tries=3, args=()):
    """Start a big build and SIGSTOP it while its temp file exists.
    Returns (proc, temp_name)."""
    for _ in range(tries):
        p = start_build(ctx, *args, lm(src))
        name = catch_temp(ctx, p)
        if name is not None:
            # open(O_EXCL) and flock() are two calls: stop the build after both
            wait_for(lambda: flock_held(ctx.path(name)) or p.poll() is not None, 0.5, 0.001)
            os.kill(p.pid, signal.SIGSTOP)
            if os.path.exists(ctx.path(name)):
                return p, name
            os.kill(p.pid, signal.SIGCONT)
        finish(p)
    raise TestFailure("never saw a NAME.lmdb.mapctl-XXXXXX temp file beside the target "
                      "during a %d-entry build (built elsewhere, or not named as specified?)"
                      % BIG_N)


def assert_complete(ctx, src, n, valtag="v", samples=20):
    """The table of SRC holds exactly n entries and sampled keys have valtag
    values (one postmap -s, one postmap -q - for the samples)."""
    dump = ctx.pm_dump(src)
    check(dump.count(b"\n") == n, "table has %d entries, expected %d" % (dump.count(b"\n"), n))
    rnd = random.Random(n)
    idx = [0, n - 1] + [rnd.randrange(n) for _ in range(samples)]
    keys = ["user%d@example%d.com" % (i, i % 97) for i in idx]
    got = ctx.pm_query_many(keys, src)
    for i, key in zip(idx, keys):
        check(got.get(key) == expected_value(i, valtag), "postmap -q %s gave %r" % (key, got.get(key)))


def assert_no_temps(ctx):
    t = temp_files(ctx.dir)
    check(not t, "temp file(s) left behind: %r" % t)


# ---------------------------------------------------------------------------

@test
def build_is_silent_and_postmap_reads_it(ctx):
    src = small_source(ctx)
    r = ctx.build(lm(src))
    check(r.err == b"", "build printed on stderr: %r" % r)
    check(ctx.pm_query("alice@example.com", src) == b"relay-a", "postmap -q alice")
    check(ctx.pm_query("Bob@Example.COM", src) == b"relay-b", "postmap -q Bob (folded)")
    check(read(src + ".lmdb")[16:20] == LMDB_MAGIC.to_bytes(4, "little"), "no LMDB magic")
    assert_no_temps(ctx)
    # a bare path means default_database_type (lmdb in our main.cf)
    src2 = small_source(ctx, "bare")
    ctx.build(src2)
    check(ctx.pm_query("alice@example.com", src2) == b"relay-a", "bare path build")
    # -c DIR instead of MAIL_CONFIG
    env = dict(ctx.env)
    env.pop("MAIL_CONFIG")
    src3 = small_source(ctx, "withc")
    ctx.build("-c", ctx.conf, src3, env=env)
    check(ctx.pm_query("bob@example.com", src3) == b"relay-b", "-c DIR build")


@test
def temp_file_is_beside_target_random_and_flocked(ctx):
    src = big_source(ctx)
    names = []
    for i in range(2):
        # The second build has the same entries: only --force writes them.
        p, name = stopped_mid_build(ctx, src, args=["--force"] if i else [])
        try:
            check(re.fullmatch(r"src\.lmdb\.mapctl-[A-Za-z0-9_]{6,}", name),
                  "temp name %r is not src.lmdb.mapctl-XXXXXX" % name)
            st = os.lstat(ctx.path(name))
            check(stat.S_ISREG(st.st_mode), "temp file is not a regular file")
            check(flock_held(ctx.path(name)) is True,
                  "temp file %s is not flocked during the build" % name)
        finally:
            os.kill(p.pid, signal.SIGCONT)
        rc, out, err = finish(p)
        check(rc == 0 and out == b"" and err == b"",
              "big build: rc=%r out=%r err=%r" % (rc, out[:200], err[:500]))
        names.append(name)
    check(names[0] != names[1], "two builds used the same temp name %r (not random)" % names[0])
    assert_no_temps(ctx)
    assert_complete(ctx, src, BIG_N)


@test
def temp_created_exclusively_fsynced_and_renamed(ctx):
    """strace: the temp file is opened O_CREAT|O_EXCL (never follows a symlink),
    written data is fsync'd/fdatasync'd before rename(temp, target)."""
    if not shutil.which("strace"):
        print("  (strace missing: checked by planted-symlink test only)")
        return
    src = small_source(ctx)
    log = ctx.path("strace.log")
    r = run(["strace", "-f", "-qq", "-s", "4096", "-o", log,
             "-e", "trace=open,openat,creat,rename,renameat,renameat2,fsync,fdatasync,"
                   "flock,close,link,linkat,sync_file_range",
             os.environ["MAPCTL"], "build", lm(src)], env=ctx.env)
    check(r.rc == 0, "build under strace failed: %r" % r)
    lines = read(log).decode("utf-8", "replace").splitlines()
    opens = [l for l in lines if re.search(r"open(at)?\(.*\.lmdb\.mapctl-", l)]
    check(opens, "no open of a NAME.lmdb.mapctl-XXXXXX temp file seen in strace")
    first = opens[0]
    check("O_CREAT" in first and "O_EXCL" in first,
          "temp file not created with O_CREAT|O_EXCL: %s" % first)
    check("O_TRUNC" not in first, "temp file opened with O_TRUNC: %s" % first)
    m = re.search(r"= (\d+)$", first)
    check(m, "temp open failed: %s" % first)
    fd = m.group(1)
    pid = first.split()[0]
    ren = [i for i, l in enumerate(lines)
           if re.search(r"rename(at2?)?\(.*\.lmdb\.mapctl-[^\"]*\".*\"[^\"]*src\.lmdb\"", l)]
    check(ren, "no rename(temp, src.lmdb) seen")
    i_open = lines.index(first)
    syncs = [i for i, l in enumerate(lines[:ren[0]]) if i > i_open and re.search(
        r"^%s\s+f(data)?sync\(%s\)" % (pid, fd), l)]
    check(syncs, "no fsync/fdatasync of the temp fd %s before the rename" % fd)
    flocks = [l for l in lines if re.search(r"flock\(%s, LOCK_EX" % fd, l)]
    check(flocks, "no flock(LOCK_EX) on the temp fd %s" % fd)


@test
def temp_never_reopened_by_name_following_symlinks(ctx):
    """After the exclusive create, any further open of the temp file by name must
    not follow a symlink (O_NOFOLLOW), or must go through /proc/self/fd.  A plain
    open(name, O_RDWR|O_CREAT) - e.g. mdb_env_open(temp_path) - follows a symlink
    that someone with write access to the directory renamed over the temp name,
    and creates or writes the file it points to, as root."""
    if not shutil.which("strace"):
        print("  (strace missing: skipped)")
        return
    src = small_source(ctx)
    log = ctx.path("strace.log")
    r = run(["strace", "-f", "-qq", "-s", "4096", "-o", log, "-e", "trace=open,openat,creat",
             os.environ["MAPCTL"], "build", lm(src)], env=ctx.env)
    check(r.rc == 0, "build under strace failed: %r" % r)
    lines = read(log).decode("utf-8", "replace").splitlines()
    opens = [l for l in lines if re.search(r"open(at)?\(.*\.lmdb\.mapctl-[^\"]*\"", l)]
    check(opens, "no open of the temp file seen")
    unsafe = [l for l in opens[1:] if "O_NOFOLLOW" not in l and "O_EXCL" not in l]
    check(not unsafe, "temp file reopened by name without O_NOFOLLOW:\n    "
          + "\n    ".join(unsafe))


@test
def planted_symlinks_are_not_followed(ctx):
    victim_dir = ctx.subdir("victim")
    victim = write(os.path.join(victim_dir, "precious"), b"do not touch\n", 0o644)
    before = snapshot(victim)
    ghost = os.path.join(victim_dir, "ghost")     # dangling: O_CREAT would create it
    src = small_source(ctx)
    planted = []
    for suffix in ["XXXXXX", "000000", "aaaaaa", "AAAAAA", "tmp"]:
        for tgt in (victim, ghost):
            name = "src.lmdb.mapctl-%s%s" % (suffix, "" if tgt == victim else "g")
            os.symlink(tgt, ctx.path(name))
            planted.append(name)
    for name in ("src.lmdb.tmp", "src.lmdb.mapctl"):
        os.symlink(victim, ctx.path(name))
    for _ in range(5):
        ctx.build(lm(src))
    check(snapshot(victim) == before, "a file behind a planted symlink was modified")
    check(not os.path.exists(ghost), "a dangling planted symlink was followed (ghost created)")
    check(os.path.islink(ctx.path("src.lmdb.tmp")), "src.lmdb.tmp symlink replaced")
    check(ctx.pm_query("alice@example.com", src) == b"relay-a", "table not built")
    check(not os.path.islink(src + ".lmdb"), "target became a symlink")


@test
def concurrent_builds_both_complete(ctx):
    n = 100_000
    src = ctx.path("src")
    a = gen_source(ctx.path("A"), n, valtag="a")
    b = gen_source(ctx.path("B"), n, valtag="b")
    dumps = {}
    for tag, f in (("a", a), ("b", b)):
        shutil.copyfile(f, src)
        ctx.build(lm(src))
        dumps[tag] = ctx.pm_dump(src)
    os.unlink(src + ".lmdb")
    # same source, two builds at once
    shutil.copyfile(a, src)
    ps = [start_build(ctx, lm(src)) for _ in range(2)]
    for p in ps:
        rc, out, err = finish(p)
        check(rc == 0 and out == b"" and err == b"", "concurrent build: rc=%r err=%r" % (rc, err))
    check(ctx.pm_dump(src) == dumps["a"], "table after two concurrent builds is not complete")
    assert_no_temps(ctx)
    # the source changes while the first build runs: result is A or B, never a mix
    for _ in range(2):
        shutil.copyfile(a, src)
        p1 = start_build(ctx, lm(src))
        wait_for(lambda: temp_files(ctx.dir) or p1.poll() is not None, 20)
        shutil.copyfile(b, src + ".new")
        os.replace(src + ".new", src)
        p2 = start_build(ctx, lm(src))
        for p in (p1, p2):
            rc, out, err = finish(p)
            check(rc == 0 and out == b"", "concurrent build: rc=%r err=%r" % (rc, err))
        d = ctx.pm_dump(src)
        check(d in (dumps["a"], dumps["b"]), "table after concurrent builds is neither A nor B")
        assert_no_temps(ctx)


# -- errors: exit 2, one line naming the file, old table untouched, temp gone

def with_old_table(ctx, name="src"):
    src = small_source(ctx, name)
    ctx.build(lm(src))
    return src, snapshot(src + ".lmdb")


def check_untouched(ctx, src, snap):
    check(os.path.lexists(src + ".lmdb"), "old table removed")
    check(snapshot(src + ".lmdb") == snap,
          "old table changed (bytes/inode/mode/owner) after a failed build")
    assert_no_temps(ctx)


@test
def error_missing_source(ctx):
    r = ctx.build(lm(ctx.path("nosuch")), expect_rc=None)
    check_one_clear_error(r, "nosuch")
    check(not os.path.exists(ctx.path("nosuch.lmdb")), "table created for a missing source")
    assert_no_temps(ctx)


@test
def error_directory_as_source(ctx):
    src, snap = with_old_table(ctx)
    os.unlink(src)
    os.mkdir(src)
    r = ctx.build(lm(src), expect_rc=None)
    check_one_clear_error(r, "src")
    check_untouched(ctx, src, snap)


@test
def error_unknown_type_prefix(ctx):
    small_source(ctx, "x")
    r = ctx.build("foo:" + ctx.path("x"), expect_rc=None)
    check_one_clear_error(r, "foo")
    check(set(os.listdir(ctx.dir)) == {"conf", "x"}, "files created: %r" % os.listdir(ctx.dir))


@test
def error_unwritable_type_names_lmdb(ctx):
    # sdbm is a Postfix type mapctl does not write: the message names it
    # and the types mapctl can write.
    small_source(ctx, "x")
    r = ctx.build("sdbm:" + ctx.path("x"), expect_rc=None)
    check_one_clear_error(r, "sdbm", "lmdb")
    check(set(os.listdir(ctx.dir)) == {"conf", "x"}, "files created: %r" % os.listdir(ctx.dir))


@test
def error_unreadable_source(ctx):
    d = ctx.subdir("w", 0o777)
    src = small_source(ctx, "w/src")
    os.chmod(src, 0o600)                       # root-owned, unreadable for nobody
    r = ctx.build(lm(src), expect_rc=None, user="nobody")
    check_one_clear_error(r, "src", "Permission denied")
    check(os.listdir(d) == ["src"], "files created: %r" % os.listdir(d))


@test
def error_read_only_target_directory(ctx):
    d = ctx.subdir("ro", 0o755)                # root-owned, not writable for nobody
    src = small_source(ctx, "ro/src")
    r = ctx.build(lm(src), expect_rc=None, user="nobody")
    line = check_one_clear_error(r, "Permission denied")
    check("src.lmdb" in line or d in line, "message names neither the table nor its dir: %r" % line)
    check(os.listdir(d) == ["src"], "files created: %r" % os.listdir(d))
    # existing table in a read-only dir: untouched
    ctx.build(lm(src))
    snap = snapshot(src + ".lmdb")
    write(src, "carol@example.com relay-c\n")
    r = ctx.build(lm(src), expect_rc=None, user="nobody")
    check_one_clear_error(r, "Permission denied")
    check(snapshot(src + ".lmdb") == snap, "old table changed")
    check(sorted(os.listdir(d)) == ["src", "src.lmdb"], "files: %r" % os.listdir(d))


@test
def error_full_disk_tmpfs(ctx):
    d = ctx.mount_tmpfs("small", "4m")
    if d is None:
        print("  (cannot mount tmpfs: covered by error_file_too_large only)")
        return
    src = small_source(ctx, "small/src")
    ctx.build(lm(src))
    snap = snapshot(src + ".lmdb")
    gen_source(src, 45_000)                     # ~2.9 MB source, the table does not fit
    r = ctx.build(lm(src), expect_rc=None)
    check(r.rc < 128 and r.rc >= 0, "killed by a signal (SIGBUS on a full mmap?): %r" % r)
    check(snapshot(src + ".lmdb") == snap, "old table changed after ENOSPC")
    check(sorted(os.listdir(d)) == ["src", "src.lmdb"], "files left: %r" % os.listdir(d))
    check_one_clear_error(r, "src.lmdb", "No space left on device")


@test
def error_file_too_large(ctx):
    src = small_source(ctx)
    ctx.build(lm(src))
    snap = snapshot(src + ".lmdb")
    gen_source(src, 100_000)
    limit = 1 << 20                            # 1 MB; the source itself was written by us

    def preexec():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    p = popen([os.environ["MAPCTL"], "build", lm(src)], env=ctx.env,
              stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=preexec)
    out, err = p.communicate(timeout=120)
    r = Result(p.args, p.returncode, out, err, 0)
    check(out == b"", "stdout not empty: %r" % r)
    check(r.rc < 128 and r.rc >= 0, "killed by a signal: %r" % r)
    check_untouched(ctx, src, snap)
    check_one_clear_error(r, "src.lmdb", "File too large")


@test
def error_over_long_key_names_file_and_line(ctx):
    src, snap = with_old_table(ctx)
    write(src, "a@example.com x\nb@example.com y\n%s@example.com z\nc@example.com w\n" % ("k" * 600))
    r = ctx.build(lm(src), expect_rc=None)
    line = check_one_clear_error(r)
    check(re.search(r"src:3\b", line), "message lacks FILE:LINE (src:3): %r" % line)
    check_untouched(ctx, src, snap)
    # the longest folded key LMDB accepts (510 bytes + NUL) builds fine
    k = "k" * 498 + "@example.com"
    write(src, "%s ok\n" % k)
    ctx.build(lm(src))
    check(ctx.pm_query(k, src) == b"ok", "510-byte key not stored")


# -- warnings: exit 0, like postmap's skipped lines; --strict: exit 1, nothing written

BAD_SOURCE = (b"good1@example.com relay-1\n"
              b"bad\xff@example.com relay-x\n"            # non-UTF-8: skipped
              b"nul\x00key@example.com relay-y\n"        # NUL in key: expected format
              b"lonely@example.com\n"                     # missing value
              b"good2@example.com relay-2\n")


@test
def warnings_skip_lines_like_postmap(ctx):
    src = write(ctx.path("src"), BAD_SOURCE)
    r = ctx.build(lm(src))
    lines = message_lines(r.err)
    for n in (2, 3, 4):
        check(any(re.search(r"src:%d: warning: " % n, l) for l in lines),
              "no 'src:%d: warning:' line: %r" % (n, r))
    check(all(l.startswith("mapctl: ") for l in lines), "unprefixed stderr: %r" % r)
    ref = ctx.subdir("ref")
    write(os.path.join(ref, "src"), BAD_SOURCE)
    pr = ctx.postmap(lm(os.path.join(ref, "src")))
    check(pr.rc == 0, "postmap failed on the reference: %r" % pr)
    check(ctx.pm_dump(src) == ctx.pm_dump(os.path.join(ref, "src")),
          "mapctl stored different records than postmap:\n%r\n%r"
          % (ctx.pm_dump(src), ctx.pm_dump(os.path.join(ref, "src"))))


@test
def strict_warning_exits_1_and_writes_nothing(ctx):
    src = write(ctx.path("src"), BAD_SOURCE)
    r = ctx.build("--strict", lm(src), expect_rc=1)
    check(any("warning" in l for l in message_lines(r.err)), "no warning printed: %r" % r)
    check(not os.path.exists(src + ".lmdb"), "--strict created a table despite warnings")
    assert_no_temps(ctx)
    write(src, "good1@example.com relay-1\n")
    ctx.build("--strict", lm(src))
    snap = snapshot(src + ".lmdb")
    write(src, BAD_SOURCE)
    ctx.build("--strict", lm(src), expect_rc=1)
    check_untouched(ctx, src, snap)


@test
def password_in_malformed_line_never_echoed(ctx):
    secret = b"S3cr3t-Passw0rd"
    src = write(ctx.path("src"),
                b"[smtp.example.com]:587 user:" + secret + b"\xff\n"      # non-UTF-8
                b"\"[smtp2.example.com]:587 user:" + secret + b"\n"       # unbalanced quote
                b"user:" + secret + b"\n"                                # no value
                b" leading user:" + secret + b"\n"
                b"ok@example.com fine\n")
    r = ctx.build(lm(src))
    check(secret not in r.err, "a password appeared on stderr: %r" % r)
    check(len(message_lines(r.err)) >= 2, "expected warnings: %r" % r)


# -- big inputs: map size from the input

@test
def big_200k_entries_and_huge_values(ctx):
    n = 200_000
    src = gen_source(ctx.path("src"), n)
    ctx.build(lm(src))
    assert_complete(ctx, src, n, samples=10)
    # a 10 MB value: stored as postmap stores it
    big = ctx.path("v10")
    val = (b"0123456789abcdef" * (10 * 1024 * 1024 // 16))
    write(big, b"big@example.com " + val + b"\nsmall@example.com s\n")
    ctx.build(lm(big))
    check(ctx.pm_query("big@example.com", big) == val, "10 MB value not returned by postmap -q")
    ref = ctx.subdir("ref")
    shutil.copyfile(big, os.path.join(ref, "v10"))
    check(ctx.postmap(lm(os.path.join(ref, "v10"))).rc == 0, "postmap build of 10 MB value")
    check(ctx.pm_dump(big) == ctx.pm_dump(os.path.join(ref, "v10")), "10 MB table differs from postmap's")
    # a 50 MB value
    v50 = ctx.path("v50")
    val = b"x" * (50 * 1024 * 1024)
    write(v50, b"huge@example.com " + val + b"\n")
    ctx.build(lm(v50))
    check(ctx.pm_query("huge@example.com", v50) == val, "50 MB value not returned")
    m = current_meta(read(v50 + ".lmdb"))
    check(m["mapsize"] >= os.path.getsize(v50 + ".lmdb"), "meta mapsize below file size: %r" % m)


# -- killed builds

@test
def killed_build_leftover_removed_by_next_build(ctx):
    old = small_source(ctx, "old")
    src = ctx.path("src")
    shutil.copyfile(old, src)
    ctx.build(lm(src))                          # the old table: small
    snap = snapshot(src + ".lmdb")
    big_source(ctx)                             # now the source is big
    p, name = stopped_mid_build(ctx, src)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    check(os.path.exists(ctx.path(name)), "temp %s vanished after kill -9?" % name)
    check(snapshot(src + ".lmdb") == snap, "old table changed by a killed build")
    check(ctx.pm_query("alice@example.com", src) == b"relay-a", "old table unreadable")
    shutil.copyfile(old, src)
    ctx.build(lm(src))
    check(not os.path.exists(ctx.path(name)), "leftover %s of a killed build not removed" % name)
    assert_no_temps(ctx)


@test
def running_builds_temp_file_is_not_removed(ctx):
    src = big_source(ctx)
    # 1) a real build, stopped with its temp file flocked
    p, name = stopped_mid_build(ctx, src)
    q = start_build(ctx, lm(src))
    try:
        q_done = wait_for(lambda: q.poll() is not None, 30, 0.05)
        if q_done:
            check(os.path.exists(ctx.path(name)),
                  "a second build removed the temp file of a running (stopped) build")
    finally:
        os.kill(p.pid, signal.SIGCONT)
    rc, out, err = finish(p)
    check(rc == 0 and err == b"", "the stopped build failed after resuming: rc=%r err=%r" % (rc, err))
    rc, out, err = finish(q)
    check(rc == 0 and err == b"", "the second build failed: rc=%r err=%r" % (rc, err))
    assert_complete(ctx, src, BIG_N, samples=3)
    assert_no_temps(ctx)
    # 2) a lookalike temp file flocked by another process survives; an unlocked one goes
    import fcntl
    held = ctx.path("src.lmdb.mapctl-Held01")
    stale = ctx.path("src.lmdb.mapctl-Stale1")
    write(stale, b"junk")
    fd = os.open(write(held, b"junk"), os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        small_source(ctx)
        ctx.build(lm(src))
        check(os.path.exists(held), "a flocked temp file was removed")
        check(not os.path.exists(stale), "an unlocked stale temp file was not removed")
    finally:
        os.close(fd)
    os.unlink(held)


# -- output

@test
def no_lock_file_ever_and_nothing_on_stdout(ctx):
    src = small_source(ctx)
    for args in (["-r"], ["-w"], ["-f"], ["-N"], ["-n"], ["-u"], ["-p"], ["-o"], ["-v"]):
        r = ctx.build(*(args + [lm(src)]))
    for sub in (["query", lm(src), "alice@example.com"], ["dump", lm(src)], ["verify", lm(src)]):
        r = ctx.mapctl(*sub)
        check(r.rc == 0, "%r" % r)
    check(not [n for n in os.listdir(ctx.dir) if n.endswith("-lock")], "lock file")


@test
def progress_only_on_a_terminal(ctx):
    src = big_source(ctx)
    # not a terminal: nothing at all
    r = ctx.build(lm(src))
    check(r.err == b"", "progress/other output on a non-terminal stderr: %r" % r)
    # a terminal, build held >1 s (SIGSTOP 1.5 s early in the build)
    master, slave = pty.openpty()
    try:
        # --force: the table of the same entries is in place already
        p = popen([os.environ["MAPCTL"], "build", "--force", lm(src)], env=ctx.env,
                  stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        slave = None
        # hold it 1.5 s once the table is being written (the temp file exists)
        catch_temp(ctx, p)
        if p.poll() is None:
            os.kill(p.pid, signal.SIGSTOP)
            time.sleep(1.5)
            os.kill(p.pid, signal.SIGCONT)
        tty = b""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            rl, _, _ = select.select([master], [], [], 0.1)
            if rl:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                tty += chunk
            elif p.poll() is not None:
                break
        out = p.stdout.read()
        p.wait()
        check(p.returncode == 0, "build on a terminal failed: %r" % tty)
        check(out == b"", "build printed on stdout: %r" % out)
        check(tty.strip() != b"", "no progress on a terminal for a build that took >1 s")
    finally:
        os.close(master)
        if slave is not None:
            os.close(slave)


if __name__ == "__main__":
    run_all()
