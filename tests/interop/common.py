#!/usr/bin/env python3
"""Shared helpers for the mapctl <-> postmap 3.7 differential tests.

Python 3.11 standard library only.

Every case has a table type (MAPCTL_DIFF_TYPES, default lmdb,cdb,hash,btree).
What is compared depends on it:

  lmdb         raw records with mdb_dump -n (hex); postmap -s byte-exact
  cdb          raw records with tinycdb's cdb -d (byte-exact, in file order,
               and the whole file byte-exact, unless -r, where postmap's
               tinycdb REPLACE moves a record: then order-insensitive);
               postmap 3.7 has no -s for cdb
  hash         raw records with db5.3_dump (hex, order-insensitive); postmap
               -s sorted (hash order depends on how the table grew)
  btree        raw records with db5.3_dump (hex, in key order); postmap -s
               byte-exact
Duplicate warnings name the table as postmap does per type ("lmdb:NAME",
"NAME", "NAME.db"). Over-long keys are fatal for lmdb only: postmap is the
oracle, so the expected exit status follows it.

What a "case" is: one source file (bytes), one folding mode ("utf8" =
compatibility_level 3.6 -> smtputf8_enable = yes, "ascii" = compatibility_level
0 -> smtputf8_enable = no) and one list of build flags.  differential.py builds
the source with postmap and with mapctl in two private directories, under the
same relative file name, and then reads both tables back with the *real*
postmap:

  * exit status class       postmap 0 <-> mapctl 0, postmap fatal 1 <-> mapctl 2
  * files left behind       mapctl: only NAME.lmdb (no -lock, no *.mapctl-* temp)
  * mapctl's stderr         no raw control bytes (postmap prints them as '?'),
                            no value quoted (sources carrying a SECRET marker)
  * postmap -s lmdb:NAME    stdout, stderr and exit status byte-exact
  * raw entries             mdb_dump -n (hex) on a *copy*, key/value bytes exact
                            (hex, not -p: mdb_dump 0.9.24 -p does not escape '\\')
  * postmap -q - / -q KEY   source keys as written, case variants, dumped keys,
                            with the build's -f/-N/-n/-u flags
  * warnings                (kind, line) multisets; duplicates by folded key
  * fatal builds            mapctl writes nothing, and a table built before
                            under the same name stays byte-identical (same inode)
  Warnings are not compared on fatal builds (postmap stops at the bad record,
  mapctl may report the whole file first).

Environment:
  POSTMAP                  postmap binary (default /usr/sbin/postmap)
  MAPCTL                   mapctl binary (default: newest ../../build*/tools/mapctl)
  MAPCTL_INTEROP_REQUIRED  "1": missing tools are a failure (exit 1), else skip (77)
  MAPCTL_DIFF_TYPES        table types to test (default lmdb,cdb,hash,btree); a
                           type whose reader tool (mdb_dump, cdb, db5.3_dump from
                           db5.3-util) is missing, or that this mapctl cannot
                           write (built without Berkeley DB), is skipped with a
                           note, or fails the run when MAPCTL_INTEROP_REQUIRED=1
  MAPCTL_SELFTEST          harness self-test without mapctl: the "mapctl" side is
                           postmap itself.  "same" must pass; "perturb-u",
                           "perturb-r", "perturb-n", "perturb-f" add that flag to
                           the "mapctl" side only and must make cases fail.
  MAPCTL_TEST_SCOPE        "default" or "long" (meson --suite long): the size of
                           the case matrix (postmap_differential.py and
                           random_differential.py say what each runs)
  MAPCTL_INTEROP_QCAP      in the long scope, how many keys per case are also
                           queried one by one with "postmap -q KEY" (default
                           1: it makes the same lookup call as "postmap -q -",
                           which reads all keys; the default scope queries
                           two keys of a few cases only)
  MAPCTL_INTEROP_JOBS      parallel cases (default: the CPU count, since meson
                           already runs one test per CPU)
  MAPCTL_INTEROP_KEEP      directory where failing sources are kept
  MAPCTL_INTEROP_TMP       scratch directory (default /dev/shm, else $TMPDIR)
  MAPCTL_CHECK_READERS     "1": also compare "mapctl dump" / "mapctl query" on
                           postmap's table against "postmap -s" / "postmap -q"
                           (extra reader check; off by default)
"""

import collections
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77
WS = b" \t\n\v\f\r"          # Postfix ISSPACE
TIMEOUT = 120

FLAG_SETS = [[], ["-f"], ["-r"], ["-w"], ["-N"], ["-n"], ["-u"], ["-r", "-f"]]
# The other types share the parser with lmdb: fewer flag sets keep the run
# time reasonable; the NUL flag that is not the type's default is kept.
TYPE_FLAG_SETS = {
    "lmdb": FLAG_SETS,
    "cdb": [[], ["-r"], ["-N"], ["-f"]],
    "hash": [[], ["-r"], ["-n"], ["-f"]],
    "btree": [[], ["-r"], ["-n"], ["-f"]],
}
TYPES = ["lmdb", "cdb", "hash", "btree"]
SUFFIX = {"lmdb": ".lmdb", "cdb": ".cdb", "hash": ".db", "btree": ".db"}
MODES = ["utf8", "ascii"]
QUERY_FLAGS = {"-f", "-N", "-n", "-u"}


# ---------------------------------------------------------------------------
# Tools, skip logic


class Tools:
    def __init__(self, postmap, mapctl, mdb_dump, selftest, cdb=None, db_dump=None,
                 types=None):
        self.postmap = postmap
        self.mapctl = mapctl
        self.mdb_dump = mdb_dump
        self.selftest = selftest
        self.cdb = cdb
        self.db_dump = db_dump
        self.types = types or ["lmdb"]


def _newest_mapctl():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.abspath(os.path.join(here, "..", ".."))
    found = [p for p in glob.glob(os.path.join(root, "build*", "tools", "mapctl"))
             if os.access(p, os.X_OK)]
    if not found:
        return None
    return max(found, key=os.path.getmtime)


def diff_types():
    """MAPCTL_DIFF_TYPES as a list (default: all four)."""
    spec = os.environ.get("MAPCTL_DIFF_TYPES", "").strip()
    if not spec:
        return list(TYPES)
    out = []
    for t in spec.split(","):
        t = t.strip()
        if not t:
            continue
        if t not in TYPES:
            print("bad MAPCTL_DIFF_TYPES entry %r (known: %s)" % (t, ",".join(TYPES)))
            sys.exit(2)
        if t not in out:
            out.append(t)
    return out


def _mapctl_writes(mapctl, ttype):
    """Whether this mapctl can build `ttype` tables (hash/btree need
    Berkeley DB compiled in)."""
    d = tempfile.mkdtemp(prefix="mapctl-interop-probe-", dir=tmp_base())
    try:
        with open(os.path.join(d, "main.cf"), "w") as f:
            f.write("compatibility_level = 3.6\n")
        with open(os.path.join(d, "p"), "wb") as f:
            f.write(b"k v\n")
        rc, _, err = run([mapctl, "build", "-c", d, ttype + ":p"], cwd=d)
        return rc == 0 or b"without Berkeley DB" not in err
    finally:
        shutil.rmtree(d, ignore_errors=True)


def find_tools():
    """Return Tools or exit 77 (skip) / 1 (required but missing).

    Types whose tools are missing are dropped (a failure when required); the
    run is skipped only when no type is left."""
    required = os.environ.get("MAPCTL_INTEROP_REQUIRED", "0") == "1"
    selftest = os.environ.get("MAPCTL_SELFTEST", "")
    postmap = os.environ.get("POSTMAP") or "/usr/sbin/postmap"
    mapctl = os.environ.get("MAPCTL") or _newest_mapctl()
    mdb_dump = shutil.which("mdb_dump") or "/usr/bin/mdb_dump"
    cdb = shutil.which("cdb") or "/usr/bin/cdb"
    db_dump = shutil.which("db5.3_dump") or "/usr/bin/db5.3_dump"
    types = diff_types()
    missing = []
    if not os.access(postmap, os.X_OK):
        missing.append("postmap (%s)" % postmap)
    type_tools = {"lmdb": (mdb_dump, "mdb_dump (lmdb-utils)"),
                  "cdb": (cdb, "cdb (tinycdb)"),
                  "hash": (db_dump, "db5.3_dump (db5.3-util)"),
                  "btree": (db_dump, "db5.3_dump (db5.3-util)")}
    dropped = []
    for t in list(types):
        tool, what = type_tools[t]
        if not os.access(tool, os.X_OK):
            dropped.append("%s: missing %s" % (t, what))
            types.remove(t)
    if selftest:
        mapctl = postmap
    elif not mapctl or not os.access(mapctl, os.X_OK):
        missing.append("mapctl (%s)" % (mapctl or "MAPCTL unset, no build*/tools/mapctl"))
    if missing:
        msg = "missing: " + ", ".join(missing)
        if required:
            print("FAIL: " + msg + " (MAPCTL_INTEROP_REQUIRED=1)")
            sys.exit(1)
        print("SKIP: " + msg)
        sys.exit(SKIP)
    if selftest and selftest not in ("same", "perturb-u", "perturb-r", "perturb-n", "perturb-f"):
        print("bad MAPCTL_SELFTEST=%r" % selftest)
        sys.exit(2)
    if not selftest:
        for t in [t for t in types if t in ("hash", "btree")]:
            if not _mapctl_writes(mapctl, t):
                dropped.append("%s: mapctl was built without Berkeley DB" % t)
                types.remove(t)
    if dropped:
        msg = "table types not tested: " + "; ".join(dropped)
        if required and any("missing" in d for d in dropped):
            print("FAIL: " + msg + " (MAPCTL_INTEROP_REQUIRED=1)")
            sys.exit(1)
        print("NOTE: " + msg)
    if not types:
        print("SKIP: no table type left to test")
        sys.exit(SKIP)
    return Tools(postmap, mapctl, mdb_dump, selftest, cdb, db_dump, types)


# ---------------------------------------------------------------------------
# Config directories (never /etc/postfix)


class Configs:
    """Two private config dirs: utf8 (compatibility_level = 3.6) and ascii (0)."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="mapctl-interop-cf-", dir=tmp_base())
        self.dirs = {}
        for mode, level in (("utf8", "3.6"), ("ascii", "0")):
            d = os.path.join(self.root, mode)
            os.mkdir(d)
            cf = os.path.join(d, "main.cf")
            with open(cf, "w") as f:
                f.write("compatibility_level = %s\n" % level)
            # Postfix re-reads a main.cf modified within the last couple of
            # seconds in 300 ms steps until it looks stable; backdate it.
            old = os.stat(cf).st_mtime - 3600
            os.utime(cf, (old, old))
            self.dirs[mode] = d

    def __getitem__(self, mode):
        return self.dirs[mode]

    def cleanup(self):
        shutil.rmtree(self.root, ignore_errors=True)


# ---------------------------------------------------------------------------
# A model of postmap 3.7's source parser (readllines + key/value split).
# Used to pick query keys, to know which lines contain a NUL, and by the
# random generator.  It is *not* the oracle: postmap is.


class LogicalLine:
    __slots__ = ("first", "last", "text", "leading_ws")

    def __init__(self, first, last, text, leading_ws):
        self.first, self.last, self.text, self.leading_ws = first, last, text, leading_ws

    @property
    def has_nul(self):
        return b"\0" in self.text


def physical_lines(data):
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def logical_lines(data):
    out = []
    cur = None
    for n, pl in enumerate(physical_lines(data), 1):
        s = pl.lstrip(WS)
        if not s or s[:1] == b"#":
            continue                        # ignorable: blank, ws-only, comment
        if pl[:1] in (b" ", b"\t", b"\n", b"\v", b"\f", b"\r"):
            if cur is None:
                cur = LogicalLine(n, n, pl, True)
            else:
                cur.text += pl
                cur.last = n
        else:
            if cur is not None:
                out.append(cur)
            cur = LogicalLine(n, n, pl, False)
    if cur is not None:
        out.append(cur)
    return out


def split_key_value(text):
    """postmap 3.7 split of one logical line (as a C string).

    Returns (status, key, value): status is "ok", "unbalanced" or "format";
    "alias" is reported through key.endswith(b":")."""
    c = text.split(b"\0", 1)[0]
    n = len(c)
    i = 0
    inq = False
    while i < n:
        ch = c[i]
        if ch == 0x5C:                       # backslash
            if i + 1 >= n:
                i = n
                break
            i += 2
            continue
        if ch in WS:
            if not inq:
                break
        elif ch == 0x22:
            inq = not inq
        i += 1
    key = c[:i]
    if inq:
        return "unbalanced", key, b""
    value = c[i + 1:] if i < n else b""
    value = value.lstrip(WS).rstrip(WS)
    if not key or not value:
        return "format", key, value
    return "ok", key, value


def source_keys(data):
    """Keys as written (first token of each logical line, whatever its fate)."""
    keys = []
    for ll in logical_lines(data):
        if ll.leading_ws:
            continue
        _, key, _ = split_key_value(ll.text)
        if key:
            keys.append(key)
    return keys


def nul_line_ranges(data):
    return [(ll.first, ll.last) for ll in logical_lines(data) if ll.has_nul]


def case_variants(key):
    out = [key, key.upper(), key.lower()]       # bytes: ASCII-only case change
    try:
        s = key.decode("utf-8")
    except UnicodeDecodeError:
        return out
    for v in (s.upper(), s.lower(), s.swapcase(), s.title(), s.casefold()):
        out.append(v.encode("utf-8"))
    return out


# ---------------------------------------------------------------------------
# Running things


# meson sets MALLOC_PERTURB_ for every test process, and the children inherit
# it: glibc then fills every allocation, which on these machines triples the
# page faults of a process start. It is a check of mapctl's memory use, not of
# the oracle's, so postmap and the dump tools run without it.
ORACLE_ENV = {k: v for k, v in os.environ.items() if k != "MALLOC_PERTURB_"}


# Processes started, by program name: the cost that matters here.
PROCS = collections.Counter()


def run(argv, cwd=None, stdin=b"", oracle=False):
    PROCS[os.path.basename(argv[0])] += 1
    p = subprocess.run(argv, cwd=cwd, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=TIMEOUT,
                       env=ORACLE_ENV if oracle else None)
    return p.returncode, p.stdout, p.stderr


_FATAL = re.compile(rb"(?:^|\n)postmap: fatal: [^\n]*\n")
# clock_nanosleep and nanosleep on x86_64 (glibc's sleep() uses the first).
_SLEEP_SYSCALLS = (b"230", b"35")


def _in_sleep(pid):
    try:
        with open("/proc/%d/syscall" % pid, "rb") as f:
            return f.read().split(b" ", 1)[0] in _SLEEP_SYSCALLS
    except OSError:
        return False


def run_postmap(argv, cwd=None, stdin=b""):
    """Run real postmap as the oracle (without MALLOC_PERTURB_).

    postmap's msg_fatal() prints the message, runs its cleanup, then sleeps
    a second before _exit(1). Once the fatal line is out and the process is
    in that sleep, nothing is left to happen but the exit, so it is killed
    there and reported as exit 1: a fatal case costs milliseconds, not a
    second."""
    PROCS[os.path.basename(argv[0])] += 1
    p = subprocess.Popen(argv, cwd=cwd, env=ORACLE_ENV, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = []

    def feed():
        try:
            if stdin:
                p.stdin.write(stdin)
        except BrokenPipeError:
            pass
        finally:
            try:
                p.stdin.close()
            except BrokenPipeError:
                pass

    def drain():
        out.append(p.stdout.read())

    threads = [threading.Thread(target=feed), threading.Thread(target=drain)]
    for t in threads:
        t.start()
    err = b""
    cut = False
    deadline = time.monotonic() + TIMEOUT
    fd = p.stderr.fileno()
    while True:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        err += chunk
        if _FATAL.search(err):
            while p.poll() is None and not _in_sleep(p.pid):
                if time.monotonic() > deadline:
                    break
                time.sleep(0.001)
            if p.poll() is None and _in_sleep(p.pid):
                p.kill()
                cut = True
            err += p.stderr.read()
            break
    try:
        rc = p.wait(timeout=max(1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        raise subprocess.TimeoutExpired(argv, TIMEOUT)
    for t in threads:
        t.join()
    p.stderr.close()
    p.stdout.close()
    if cut and rc == -signal.SIGKILL:
        rc = 1
    return rc, out[0] if out else b"", err


def postmap_build(tools, cfg, flags, cwd, name, ttype="lmdb", stdin=b""):
    return run_postmap([tools.postmap, "-c", cfg] + flags + [ttype + ":" + name], cwd=cwd,
                       stdin=stdin)


def mapctl_build(tools, cfg, flags, cwd, name, ttype="lmdb", stdin=b""):
    """`mapctl build` with postmap's flags (-i and -d KEY included)."""
    if tools.selftest:
        extra = {"same": [], "perturb-u": ["-u"], "perturb-r": ["-r"],
                 "perturb-n": ["-n"], "perturb-f": ["-f"]}[tools.selftest]
        rc, out, err = run_postmap([tools.postmap, "-c", cfg] + flags + extra +
                                   [ttype + ":" + name], cwd=cwd, stdin=stdin)
        return (2 if rc == 1 else rc), out, err
    return run([tools.mapctl, "build", "-c", cfg] + flags + [ttype + ":" + name], cwd=cwd,
               stdin=stdin)


def mdb_entries(tools, path):
    """Raw (key, value) byte pairs via 'mdb_dump -n' (hex) run on a copy.

    mdb_dump creates NAME-lock beside the file it reads, so it never runs on
    the file under test.  Hex output is used because 'mdb_dump -p' (0.9.24)
    does not escape backslashes and is therefore ambiguous."""
    tmp = tempfile.mkdtemp(prefix="mapctl-mdbdump-", dir=tmp_base())
    try:
        copy = os.path.join(tmp, "copy.lmdb")
        shutil.copyfile(path, copy)
        rc, out, err = run([tools.mdb_dump, "-n", copy], oracle=True)
        if rc != 0:
            return None, err.decode("utf-8", "replace")
        lines = out.split(b"\n")
        try:
            start = lines.index(b"HEADER=END") + 1
        except ValueError:
            return None, "no HEADER=END in mdb_dump output"
        vals = []
        for ln in lines[start:]:
            if ln == b"DATA=END":
                break
            vals.append(bytes.fromhex(ln[1:].decode("ascii")))
        if len(vals) % 2:
            return None, "odd number of mdb_dump data lines"
        return list(zip(vals[0::2], vals[1::2])), None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def cdb_entries(tools, path):
    """Raw (key, value) pairs in file order via tinycdb's 'cdb -d'
    (+KLEN,VLEN:KEY->VALUE per record, a blank line at the end)."""
    rc, out, err = run([tools.cdb, "-d", path], oracle=True)
    if rc != 0:
        return None, err.decode("utf-8", "replace")
    recs = []
    i = 0
    try:
        while i < len(out) and out[i:i + 1] == b"+":
            comma = out.index(b",", i)
            colon = out.index(b":", comma)
            klen, vlen = int(out[i + 1:comma]), int(out[comma + 1:colon])
            k0 = colon + 1
            key = out[k0:k0 + klen]
            if out[k0 + klen:k0 + klen + 2] != b"->":
                return None, "bad cdb -d record at byte %d" % i
            v0 = k0 + klen + 2
            recs.append((key, out[v0:v0 + vlen]))
            if out[v0 + vlen:v0 + vlen + 1] != b"\n":
                return None, "bad cdb -d record end at byte %d" % (v0 + vlen)
            i = v0 + vlen + 1
    except ValueError:
        return None, "unparsable cdb -d output at byte %d" % i
    if out[i:] != b"\n":
        return None, "unexpected cdb -d trailer %r" % out[i:i + 40]
    return recs, None


def db_entries(tools, path):
    """Raw (key, value) pairs via 'db5.3_dump' (hex), run on a copy; and the
    database type from its header ("hash" or "btree")."""
    tmp = tempfile.mkdtemp(prefix="mapctl-dbdump-", dir=tmp_base())
    try:
        copy = os.path.join(tmp, "copy.db")
        shutil.copyfile(path, copy)
        rc, out, err = run([tools.db_dump, copy], cwd=tmp, oracle=True)
        if rc != 0:
            return None, err.decode("utf-8", "replace")
        lines = out.split(b"\n")
        try:
            start = lines.index(b"HEADER=END") + 1
        except ValueError:
            return None, "no HEADER=END in db_dump output"
        vals = []
        for ln in lines[start:]:
            if ln == b"DATA=END":
                break
            vals.append(bytes.fromhex(ln[1:].decode("ascii")))
        if len(vals) % 2:
            return None, "odd number of db_dump data lines"
        return list(zip(vals[0::2], vals[1::2])), None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def raw_entries(tools, ttype, path):
    if ttype == "cdb":
        return cdb_entries(tools, path)
    if ttype in ("hash", "btree"):
        return db_entries(tools, path)
    return mdb_entries(tools, path)


def dup_prefix(ttype, name):
    """How postmap names the table in its duplicate warning (spec 3)."""
    if ttype == "lmdb":
        return "lmdb:" + name
    if ttype == "cdb":
        return name
    return name + ".db"


def file_bytes(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


# ---------------------------------------------------------------------------
# Warning normalisation: each diagnostic becomes (kind, line, detail)
#   kinds: format unbalanced utf8 alias leadws dup nul fatal error other


_PM_KINDS = [
    (b"expected format: key whitespace value", "format"),
    (b"unbalanced '\"' in ", "unbalanced"),
    (b"non-UTF-8 input ", "utf8"),
    (b'record is in "key: value" format; is this an alias file?', "alias"),
]
_MC_KINDS = [
    (b"expected format: key whitespace value", "format"),
    (b"unbalanced '\"'", "unbalanced"),
    (b"non-UTF-8 input", "utf8"),
    (b'record is in "key: value" format', "alias"),
    (b"logical line must not start with whitespace", "leadws"),
    (b"text after null byte", "nul"),
]


def _kind(msg, table):
    for prefix, kind in table:
        if msg.startswith(prefix):
            return kind
    return None


def parse_postmap_stderr(err, name, ttype="lmdb", origin=None):
    """origin: the source as postmap names it in line warnings (default
    `name`; "stdin" for -i)."""
    out = []
    en = re.escape((origin or name).encode())
    dn = re.escape(dup_prefix(ttype, name).encode())
    re_line = re.compile(rb"^postmap: warning: " + en + rb", line (\d+): (.*)$", re.S)
    re_lead = re.compile(rb"^postmap: warning: " + en + rb": logical line must not start with whitespace: ", re.S)
    re_dup = re.compile(rb"^postmap: warning: " + dn + rb': duplicate entry: "(.*)"$', re.S)
    for ln in err.split(b"\n"):
        if not ln:
            continue
        m = re_line.match(ln)
        if m and _kind(m.group(2), _PM_KINDS):
            out.append((_kind(m.group(2), _PM_KINDS), int(m.group(1)), None))
            continue
        if re_lead.match(ln):
            out.append(("leadws", None, None))
            continue
        m = re_dup.match(ln)
        if m:
            out.append(("dup", None, m.group(1)))
            continue
        if ln.startswith(b"postmap: fatal: "):
            out.append(("fatal", None, ln[16:]))
            continue
        out.append(("other", None, ln))
    return out


_RE_MC = re.compile(rb"^mapctl: (?:(.+?):(?:(\d+):)? )?(warning|error): (.*)$", re.S)
_RE_MC_DUP = re.compile(rb'^duplicate entry: "(.*)"(?: \(first seen on line \d+\))?$', re.S)


def parse_mapctl_stderr(err, name, selftest=False, ttype="lmdb", origin=None):
    if selftest:
        return parse_postmap_stderr(err, name, ttype, origin)
    out = []
    for ln in err.split(b"\n"):
        if not ln:
            continue
        m = _RE_MC.match(ln)
        if not m:
            out.append(("other", None, ln))
            continue
        line = int(m.group(2)) if m.group(2) else None
        level, msg = m.group(3), m.group(4)
        if level == b"error":
            out.append(("error", line, msg))
            continue
        d = _RE_MC_DUP.match(msg)
        if d:
            out.append(("dup", line, d.group(1)))
            continue
        k = _kind(msg, _MC_KINDS)
        out.append((k, line, None) if k else ("other", line, ln))
    return out


def postfix_printable(b, utf8):
    """What postmap's logging makes of a string: with UTF-8 active, valid
    UTF-8 passes and everything else that is not printable ASCII becomes '?';
    without it (smtputf8_enable = no, or -u) every byte >= 0x80 does too."""
    if b is None:
        return None
    if utf8:
        try:
            s = b.decode("utf-8")
        except UnicodeDecodeError:
            s = None
        if s is not None:
            return "".join(c if (ord(c) >= 0x80 or 0x20 <= ord(c) < 0x7f) else "?"
                           for c in s).encode("utf-8")
    return bytes(c if 0x20 <= c < 0x7f else 0x3F for c in b)


def excerpt(b, limit=100):
    """A key as mapctl's messages quote it (Excerpt() in libmaps/util/status.cc):
    whole up to `limit` bytes, else its first `limit` bytes, cut back to the
    start of a UTF-8 character, and "...". postmap quotes a duplicate key whole."""
    if len(b) <= limit:
        return b
    end = limit
    for _ in range(3):
        if end > 0 and (b[end] & 0xC0) == 0x80:
            end -= 1
    return b[:end] + b"..."


def compare_warnings(pm, mc, source, utf8=True):
    """Return a list of problem strings (empty = match).

    Duplicate keys are compared after postfix_printable(), because postmap's
    messages replace non-printable (and, without UTF-8, non-ASCII) bytes by '?'."""
    probs = []
    line_kinds = ("format", "unbalanced", "utf8", "alias")
    pm_lines = collections.Counter((k, l) for k, l, _ in pm if k in line_kinds)
    mc_lines = collections.Counter((k, l) for k, l, _ in mc if k in line_kinds)
    if pm_lines != mc_lines:
        probs.append("line warnings differ: only postmap %s; only mapctl %s" % (
            sorted((pm_lines - mc_lines).elements()), sorted((mc_lines - pm_lines).elements())))
    pl = sum(1 for k, _, _ in pm if k == "leadws")
    ml = sum(1 for k, _, _ in mc if k == "leadws")
    if pl != ml:
        probs.append("leading-whitespace warnings: postmap %d, mapctl %d" % (pl, ml))
    pd = collections.Counter(postfix_printable(excerpt(d), utf8) for k, _, d in pm if k == "dup")
    md = collections.Counter(postfix_printable(d, utf8) for k, _, d in mc if k == "dup")
    if pd != md:
        probs.append("duplicate warnings differ: only postmap %s; only mapctl %s" % (
            sorted((pd - md).elements()), sorted((md - pd).elements())))
    ranges = nul_line_ranges(source)
    for k, l, _ in mc:
        if k == "nul" and not any(l is not None and a <= l <= b for a, b in ranges):
            probs.append("'text after null byte' warning at line %s, which has no NUL" % l)
    for who, lst in (("postmap", pm), ("mapctl", mc)):
        for k, l, d in lst:
            if k in ("other", "error", "fatal"):
                probs.append("unexpected %s diagnostic: %s" % (who, show(d)))
    return probs


# ---------------------------------------------------------------------------
# Pretty printing


def show(b, limit=160):
    if b is None:
        return "None"
    r = repr(b)
    if len(r) > limit:
        r = r[:limit] + "...(%d bytes)" % len(b)
    return r


def diff_lists(a, b, label_a="postmap", label_b="mapctl", limit=8):
    """Short human-readable diff of two lists of (key, value) or lines."""
    sa, sb = set(a), set(b)
    lines = []
    only_a = [x for x in a if x not in sb]
    only_b = [x for x in b if x not in sa]
    for x in only_a[:limit]:
        lines.append("      - %s only: %s" % (label_a, show(x)))
    for x in only_b[:limit]:
        lines.append("      + %s only: %s" % (label_b, show(x)))
    if len(only_a) > limit or len(only_b) > limit:
        lines.append("      ... (%d / %d differing)" % (len(only_a), len(only_b)))
    if not only_a and not only_b and a != b:
        lines.append("      same elements, different order or multiplicity")
    return lines


# ---------------------------------------------------------------------------
# One case


class Result:
    def __init__(self, label):
        self.label = label
        self.problems = []
        self.keep_path = None

    @property
    def ok(self):
        return not self.problems

    def fail(self, msg, detail=None):
        self.problems.append(msg)
        if detail:
            self.problems.extend(detail)


_TMP = None


def tmp_base():
    """Scratch space: $MAPCTL_INTEROP_TMP, else /dev/shm (postmap fdatasyncs
    every build; tmpfs keeps that cheap), else the default temp dir."""
    global _TMP
    if _TMP is None:
        cand = os.environ.get("MAPCTL_INTEROP_TMP")
        if not cand and os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK | os.X_OK):
            cand = "/dev/shm"
        _TMP = cand or tempfile.gettempdir()
    return _TMP


def qcap():
    try:
        return int(os.environ.get("MAPCTL_INTEROP_QCAP", "1"))
    except ValueError:
        return 1


def _exit_class(rc, tool):
    if rc == 0:
        return "ok"
    if (tool == "postmap" and rc == 1) or (tool == "mapctl" and rc == 2):
        return "fatal"
    return "rc=%d" % rc


GOOD_SOURCE = b"good-key good value\nOther@Example.COM other value\n"


_CTRL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")


# ---------------------------------------------------------------------------
# Driver helpers


def procs_summary():
    return ", ".join("%s %d" % kv for kv in sorted(PROCS.items(), key=lambda kv: -kv[1]))


def report_failure(res, out=sys.stdout):
    print("FAIL %s" % res.label, file=out)
    for p in res.problems:
        print("    " + p, file=out)
    if res.keep_path:
        print("    source kept at %s" % res.keep_path, file=out)
    out.flush()


def keep_dir():
    d = os.environ.get("MAPCTL_INTEROP_KEEP") or os.path.join(tempfile.gettempdir(), "mapctl-interop-failures")
    os.makedirs(d, exist_ok=True)
    return d
