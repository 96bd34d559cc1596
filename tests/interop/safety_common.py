"""Shared harness for the safety scripts (build_safety, read_safety, modes_owner).

Stdlib only.  Each script registers tests with @test; run_all() gives every test
its own temporary directory (with its own main.cf), kills every process the test
started, checks that no LMDB "-lock" file appeared anywhere in it, and prints
"N passed, M failed" as the last line.  Exit 0 when all passed, 1 otherwise,
77 when a needed tool is missing and MAPCTL_INTEROP_REQUIRED is not 1.

Usage of a script:  build_safety.py [-k SUBSTRING]... [-v]
"""

import fcntl
import grp
import os
import pwd
import re
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time
import traceback

SKIP = 77

MAPCTL = os.environ.get("MAPCTL", "")
POSTMAP = os.environ.get("POSTMAP") or shutil.which("postmap") or (
    "/usr/sbin/postmap" if os.path.exists("/usr/sbin/postmap") else "")
REQUIRED = os.environ.get("MAPCTL_INTEROP_REQUIRED", "0") == "1"

# The temporary file a build writes beside its target: NAME.lmdb.mapctl-XXXXXX
TEMP_RE = re.compile(r"\.lmdb\.mapctl-[A-Za-z0-9_]{6,}$")

PAGE = 4096
LMDB_MAGIC = 0xBEEFC0DE


def scope():
    """MAPCTL_TEST_SCOPE: "default" (the README's test command), "long"
    (meson --suite long) or "reliability" (meson --suite reliability)."""
    return os.environ.get("MAPCTL_TEST_SCOPE", "").strip() or "default"


def scaled(env, default, long):
    """An iteration count: $env if set, else by scope."""
    v = os.environ.get(env)
    if v:
        return int(v)
    return long if scope() != "default" else default


class TestFailure(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def require_tools(*, postmap=True, root=False, extra=()):
    """Exit 77 (or fail when required) if a tool is missing."""
    missing = []
    if not MAPCTL or not os.access(MAPCTL, os.X_OK):
        missing.append("MAPCTL=%r (not executable)" % MAPCTL)
    if postmap and (not POSTMAP or not os.access(POSTMAP, os.X_OK)):
        missing.append("postmap")
    for tool in extra:
        if not shutil.which(tool):
            missing.append(tool)
    if root and os.geteuid() != 0:
        missing.append("root privileges")
    if missing:
        print("missing: " + ", ".join(missing))
        if REQUIRED:
            print("0 passed, 1 failed")
            sys.exit(1)
        print("0 passed, 0 failed (skipped)")
        sys.exit(SKIP)


# ---------------------------------------------------------------------------
# Process bookkeeping: every process a test starts is killed at the end.

_procs = []


def popen(args, **kw):
    kw.setdefault("stdin", subprocess.DEVNULL)
    kw.setdefault("start_new_session", True)
    p = subprocess.Popen(args, **kw)
    _procs.append(p)
    return p


def _kill_all():
    while _procs:
        p = _procs.pop()
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                p.kill()
            except ProcessLookupError:
                pass
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        for f in (p.stdin, p.stdout, p.stderr):
            if f:
                try:
                    f.close()
                except OSError:
                    pass


class Result:
    def __init__(self, args, rc, out, err, elapsed):
        self.args, self.rc, self.out, self.err, self.elapsed = args, rc, out, err, elapsed

    @property
    def errtext(self):
        return self.err.decode("utf-8", "replace")

    @property
    def outtext(self):
        return self.out.decode("utf-8", "replace")

    def __repr__(self):
        return "Result(%s, rc=%r, stdout=%r, stderr=%r)" % (
            " ".join(map(str, self.args)), self.rc, self.out[:300], self.err[:600])


def run(args, *, input=None, timeout=60, cwd=None, env=None, user=None, umask=None):
    """Run a command; returns Result.  user='nobody' drops privileges with setpriv."""
    args = [str(a) for a in args]
    if user is not None:
        args = drop_privs_prefix(user) + args
    preexec = None
    if umask is not None:
        def preexec():
            os.umask(umask)
    t0 = time.monotonic()
    p = popen(args, stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
              stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env,
              preexec_fn=preexec)
    try:
        out, err = p.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        raise TestFailure("timed out after %ss: %s" % (timeout, " ".join(args)))
    return Result(args, p.returncode, out, err, time.monotonic() - t0)


def drop_privs_prefix(user):
    group = grp.getgrgid(pwd.getpwnam(user).pw_gid).gr_name
    if shutil.which("setpriv"):
        return ["setpriv", "--reuid=" + user, "--regid=" + group, "--clear-groups"]
    return ["runuser", "-u", user, "--"]


def nobody_ids():
    pw = pwd.getpwnam("nobody")
    try:
        gid = grp.getgrnam("nogroup").gr_gid
    except KeyError:
        gid = pw.pw_gid
    return pw.pw_uid, gid


# ---------------------------------------------------------------------------
# mapctl / postmap wrappers.  Every table argument is spelled lmdb:PATH and the
# config directory is the test's own (never /etc/postfix).

class Ctx:
    """Per-test context: a temp dir with its own main.cf."""

    def __init__(self, name):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="mapctl-%s-" % re.sub(r"\W", "_", name)[:40])
        os.chmod(self.dir, 0o755)     # let a dropped-privilege process traverse it
        self.conf = os.path.join(self.dir, "conf")
        os.mkdir(self.conf)
        cf = os.path.join(self.conf, "main.cf")
        with open(cf, "w") as f:
            f.write("compatibility_level = 3.6\ndefault_database_type = lmdb\n")
        # postmap re-reads a main.cf younger than ~2 s in 300 ms steps until
        # it looks stable: backdate it.
        old = time.time() - 3600
        os.utime(cf, (old, old))
        self.env = dict(os.environ)
        self.env["MAIL_CONFIG"] = self.conf
        self.env.pop("MAIL_VERBOSE", None)
        # meson's MALLOC_PERTURB_ checks mapctl; the oracle runs without it
        # (it triples the page faults of a process start on these machines).
        self.oracle_env = dict(self.env)
        self.oracle_env.pop("MALLOC_PERTURB_", None)
        self.mounts = []

    def mount_tmpfs(self, name, size):
        """A size-limited tmpfs at DIR/NAME, or None if mounting is not possible."""
        p = self.subdir(name)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0755" % size,
                            "tmpfs", p], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if r.returncode != 0:
            return None
        self.mounts.append(p)
        return p

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def subdir(self, name, mode=0o755):
        p = self.path(name)
        os.mkdir(p)
        os.chmod(p, mode)
        return p

    # -- mapctl
    def mapctl(self, *args, **kw):
        kw.setdefault("env", self.env)
        return run([MAPCTL] + list(args), **kw)

    def build(self, *args, expect_rc=0, **kw):
        """mapctl build ARGS; checks the exit code and that stdout is empty."""
        r = self.mapctl("build", *args, **kw)
        check(r.out == b"", "build printed on stdout: %r" % (r,))
        if expect_rc is not None:
            check(r.rc == expect_rc, "expected exit %s from build, got %r" % (expect_rc, r))
        return r

    # -- postmap (the oracle)
    def postmap(self, *args, **kw):
        kw.setdefault("env", self.oracle_env)
        return run([POSTMAP, "-c", self.conf] + list(args), **kw)

    def pm_query(self, key, src, **kw):
        """postmap -q KEY lmdb:SRC -> value bytes (without newline) or None."""
        r = self.postmap("-q", key, "lmdb:" + src, **kw)
        if r.rc == 0:
            check(r.out.endswith(b"\n"), "odd postmap output %r" % (r,))
            return r.out[:-1]
        check(r.rc == 1 and r.err == b"", "postmap -q failed: %r" % (r,))
        return None

    def pm_query_many(self, keys, src, ttype="lmdb"):
        """postmap -q - TYPE:SRC over keys (str) -> {key: value bytes} of
        the keys found (one process for all of them)."""
        r = self.postmap("-q", "-", "%s:%s" % (ttype, src),
                         input=("".join(k + "\n" for k in keys)).encode())
        check(r.rc in (0, 1) and r.err == b"", "postmap -q - failed: %r" % (r,))
        out = {}
        for line in r.out.split(b"\n")[:-1]:
            k, _, v = line.partition(b"\t")
            out[k.decode("utf-8", "replace")] = v
        return out

    def pm_dump(self, src):
        """postmap -s lmdb:SRC -> bytes (sorted key<TAB>value lines)."""
        r = self.postmap("-s", "lmdb:" + src)
        check(r.rc == 0, "postmap -s failed: %r" % (r,))
        return r.out

    def cleanup(self):
        # Make everything removable even after chmod games.
        for root, dirs, files in os.walk(self.dir):
            for d in dirs:
                try:
                    os.chmod(os.path.join(root, d), 0o755)
                except OSError:
                    pass
        for m in reversed(self.mounts):
            subprocess.run(["umount", "-l", m], stderr=subprocess.DEVNULL)
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------------------
# Files

def write(path, data, mode=None):
    if isinstance(data, str):
        data = data.encode()
    with open(path, "wb") as f:
        f.write(data)
    if mode is not None:
        os.chmod(path, mode)
    return path


def read(path):
    with open(path, "rb") as f:
        return f.read()


def gen_source(path, n, *, prefix="user", valtag="v", mode=None, start=0):
    """n unique entries 'userI@example.com  valtag-I' (ASCII, already folded)."""
    with open(path, "w") as f:
        chunk = []
        for i in range(start, start + n):
            chunk.append("%s%d@example%d.com\t%s-%d-relay.example.net:587\n"
                         % (prefix, i, i % 97, valtag, i))
            if len(chunk) >= 10000:
                f.write("".join(chunk))
                chunk = []
        f.write("".join(chunk))
    if mode is not None:
        os.chmod(path, mode)
    return path


def expected_value(i, valtag="v"):
    return ("%s-%d-relay.example.net:587" % (valtag, i)).encode()


def snapshot(path):
    """(bytes, inode, mode, uid, gid) of a file - 'untouched' means all equal."""
    st = os.lstat(path)
    return (read(path), st.st_ino, stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid)


def temp_files(d):
    return sorted(n for n in os.listdir(d) if TEMP_RE.search(n))


def lock_files(d):
    out = []
    for root, dirs, files in os.walk(d):
        for n in files + dirs:
            if n.endswith("-lock"):
                out.append(os.path.join(root, n))
    return out


def wait_for(pred, timeout, interval=0.005):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(interval)
    return pred()


def fcntl_wrlock_free(path):
    """True if an exclusive fcntl (POSIX) lock on PATH can be taken right now
    without blocking (F_SETLK, F_WRLCK, whole file).  Released at once."""
    fd = os.open(path, os.O_RDWR)
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)   # F_SETLK F_WRLCK
        except (BlockingIOError, PermissionError):
            return False
        fcntl.lockf(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def flock_held(path):
    """True if somebody holds a flock(2) on PATH (we cannot take LOCK_EX|LOCK_NB)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------
# LMDB meta pages (64-bit little-endian layout, as written on this machine):
#   page header 16 bytes; MDB_meta: magic u32 @16, version u32 @20,
#   address @24, mapsize @32, dbs[2] @40 (48 bytes each), last_pg @136, txnid @144

def meta_info(data):
    metas = []
    for pg in (0, 1):
        off = pg * PAGE
        magic, version = struct.unpack_from("<II", data, off + 16)
        mapsize, = struct.unpack_from("<Q", data, off + 32)
        last_pg, txnid = struct.unpack_from("<QQ", data, off + 136)
        metas.append(dict(magic=magic, version=version, mapsize=mapsize,
                          last_pg=last_pg, txnid=txnid))
    return metas


def current_meta(data):
    m = meta_info(data)
    return m[0] if m[0]["txnid"] > m[1]["txnid"] else m[1]


# ---------------------------------------------------------------------------
# Running the registry

_tests = []


def test(fn):
    _tests.append(fn)
    return fn


def message_lines(err):
    return [l for l in err.decode("utf-8", "replace").split("\n") if l.strip()]


def check_one_clear_error(r, *needles, rc=2):
    """exit RC, nothing on stdout, exactly one 'mapctl: ...' line on stderr that
    contains every needle."""
    check(r.rc == rc, "expected exit %d, got %r" % (rc, r))
    check(r.rc < 128 and r.rc >= 0, "killed by a signal: %r" % (r,))
    lines = message_lines(r.err)
    check(len(lines) == 1, "expected exactly one line on stderr, got %r" % (r,))
    check(lines[0].startswith("mapctl: "), "message does not start with 'mapctl: ': %r" % lines[0])
    for n in needles:
        check(n in lines[0], "message %r does not mention %r" % (lines[0], n))
    return lines[0]


def check_no_sanitizer(r):
    for marker in ("AddressSanitizer", "UndefinedBehaviorSanitizer", "runtime error:",
                   "LeakSanitizer", "Segmentation fault", "core dumped",
                   "terminate called"):
        check(marker not in r.errtext, "%s in stderr: %r" % (marker, r))


def run_all(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    filters = []
    verbose = False
    i = 0
    while i < len(argv):
        if argv[i] == "-k" and i + 1 < len(argv):
            filters.append(argv[i + 1])
            i += 2
        elif argv[i] == "-v":
            verbose = True
            i += 1
        else:
            filters.append(argv[i])
            i += 1
    passed = failed = 0
    t_all = time.monotonic()
    for fn in _tests:
        name = fn.__name__
        if filters and not any(f in name for f in filters):
            continue
        ctx = Ctx(name)
        t0 = time.monotonic()
        try:
            fn(ctx)
            _kill_all()
            stray = lock_files(ctx.dir)
            check(not stray, "LMDB lock file(s) appeared: %r" % stray)
        except Exception as e:   # noqa: BLE001 - report every failure, keep going
            _kill_all()
            failed += 1
            print("FAIL %s (%.1fs): %s" % (name, time.monotonic() - t0, e))
            if verbose or not isinstance(e, TestFailure):
                traceback.print_exc(file=sys.stdout)
        else:
            passed += 1
            print("ok   %s (%.1fs)" % (name, time.monotonic() - t0))
        finally:
            ctx.cleanup()
        sys.stdout.flush()
    print("total %.1fs" % (time.monotonic() - t_all))
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(0 if failed == 0 and passed > 0 else 1)
