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
0 -> smtputf8_enable = no) and one list of build flags.  run_case() builds the
source with postmap and with mapctl in two private directories, under the same
relative file name, and then reads both tables back with the *real* postmap:

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
  MAPCTL_INTEROP_QCAP      how many keys per case are also queried one by one
                           with "postmap -q KEY" (default 4; all keys always go
                           through "postmap -q -")
  MAPCTL_INTEROP_JOBS      parallel cases (default: 2 x CPU count, at least 4)
  MAPCTL_INTEROP_KEEP      directory where failing sources are kept
  MAPCTL_INTEROP_TMP       scratch directory (default /dev/shm, else $TMPDIR)
  MAPCTL_CHECK_READERS     "1": also compare "mapctl dump" / "mapctl query" on
                           postmap's table against "postmap -s" / "postmap -q"
                           (extra reader check; off by default)
"""

import collections
import concurrent.futures
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

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


def run(argv, cwd=None, stdin=b""):
    p = subprocess.run(argv, cwd=cwd, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=TIMEOUT)
    return p.returncode, p.stdout, p.stderr


def postmap_build(tools, cfg, flags, cwd, name, ttype="lmdb", stdin=b""):
    return run([tools.postmap, "-c", cfg] + flags + [ttype + ":" + name], cwd=cwd, stdin=stdin)


def mapctl_build(tools, cfg, flags, cwd, name, ttype="lmdb", stdin=b""):
    """`mapctl build` with postmap's flags (-i and -d KEY included)."""
    if tools.selftest:
        extra = {"same": [], "perturb-u": ["-u"], "perturb-r": ["-r"],
                 "perturb-n": ["-n"], "perturb-f": ["-f"]}[tools.selftest]
        rc, out, err = run([tools.postmap, "-c", cfg] + flags + extra + [ttype + ":" + name],
                           cwd=cwd, stdin=stdin)
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
        rc, out, err = run([tools.mdb_dump, "-n", copy])
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
    rc, out, err = run([tools.cdb, "-d", path])
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
        rc, out, err = run([tools.db_dump, copy], cwd=tmp)
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
    pd = collections.Counter(postfix_printable(d, utf8) for k, _, d in pm if k == "dup")
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
        return int(os.environ.get("MAPCTL_INTEROP_QCAP", "4"))
    except ValueError:
        return 4


def _exit_class(rc, tool):
    if rc == 0:
        return "ok"
    if (tool == "postmap" and rc == 1) or (tool == "mapctl" and rc == 2):
        return "fatal"
    return "rc=%d" % rc


GOOD_SOURCE = b"good-key good value\nOther@Example.COM other value\n"


_CTRL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]")


def run_case(tools, cfgs, name, source, mode, flags, label=None, prebuilt=False,
             ttype="lmdb"):
    """Run one differential case; return a Result.

    prebuilt: first build GOOD_SOURCE with postmap under the same name in
    both directories, so both tools rebuild over an existing table."""
    if label is None:
        label = "%s [%s%s %s]" % (name, "" if ttype == "lmdb" else ttype + " ", mode,
                                  " ".join(flags) or "-")
    res = Result(label)
    cfg = cfgs[mode]
    sfx = SUFFIX[ttype]
    work = tempfile.mkdtemp(prefix="mapctl-interop-", dir=tmp_base())
    try:
        pdir = os.path.join(work, "postmap")
        mdir = os.path.join(work, "mapctl")
        os.mkdir(pdir)
        os.mkdir(mdir)
        for d in (pdir, mdir):
            if prebuilt:
                with open(os.path.join(d, name), "wb") as f:
                    f.write(GOOD_SOURCE)
                rc, _, err = postmap_build(tools, cfg, flags, d, name, ttype)
                if rc != 0:
                    res.fail("could not prebuild the old table: " + show(err))
                    return res
            with open(os.path.join(d, name), "wb") as f:
                f.write(source)

        prc, pout, perr = postmap_build(tools, cfg, flags, pdir, name, ttype)
        mrc, mout, merr = mapctl_build(tools, cfg, flags, mdir, name, ttype)
        pcls, mcls = _exit_class(prc, "postmap"), _exit_class(mrc, "mapctl")
        pw = parse_postmap_stderr(perr, name, ttype)
        mw = parse_mapctl_stderr(merr, name, bool(tools.selftest), ttype)
        if pcls != mcls:
            res.fail("exit status: postmap %d (%s), mapctl %d (%s)" % (prc, pcls, mrc, mcls),
                     ["      postmap stderr: " + show(perr, 600),
                      "      mapctl  stderr: " + show(merr, 600)])
        if mout:
            res.fail("mapctl build printed on stdout: " + show(mout))
        if b"SECRET" in source and b"SECRET" in merr and not tools.selftest:
            res.fail("a mapctl diagnostic quotes a value (SECRET marker): " + show(merr, 400))
        if _CTRL.search(merr) and not tools.selftest:
            # postmap's logging turns non-printable bytes into '?'; raw
            # control bytes (ESC, CR, BEL...) copied from the source into a
            # diagnostic can drive the terminal.
            bad = [ln for ln in merr.split(b"\n") if _CTRL.search(ln)]
            res.fail("mapctl diagnostics contain raw control bytes (postmap prints '?'): " + show(bad[0], 300))

        leftovers = sorted(set(os.listdir(mdir)) - {name, name + sfx})
        if leftovers:
            res.fail("files left beside mapctl's table: %s" % leftovers)

        if pcls == "fatal":
            # postmap may leave an empty table behind; mapctl writes nothing.
            if (mcls == "fatal" and not tools.selftest and not prebuilt
                    and os.path.exists(os.path.join(mdir, name + sfx))):
                res.fail("mapctl created %s%s on a failed build" % (name, sfx))
            if mcls == "fatal":
                if not any(k == "error" for k, _, _ in mw) and not tools.selftest:
                    res.fail("mapctl failed without an 'error:' diagnostic: " + show(merr))
                _check_untouched(tools, cfg, name, source, flags, work, res, ttype)
            return res

        if pcls != "ok" or mcls != "ok":
            return res

        # warnings
        probs = compare_warnings(pw, mw, source, utf8=(mode == "utf8" and "-u" not in flags))
        if probs:
            res.fail("warnings differ", ["      " + p for p in probs] +
                     ["      postmap stderr: " + show(perr, 800),
                      "      mapctl  stderr: " + show(merr, 800)])

        ptab = os.path.join(pdir, name + sfx)
        mtab = os.path.join(mdir, name + sfx)
        if not os.path.exists(mtab):
            res.fail("mapctl exited 0 but wrote no %s%s" % (name, sfx))
            return res

        # raw entries
        pe, me = compare_tables(tools, ttype, ptab, mtab, res,
                                ordered=not (ttype == "cdb" and "-r" in flags))

        # postmap -s (3.7 has none for cdb)
        ps = None
        if ttype != "cdb":
            ps = compare_dumps(tools, cfg, ttype, name, pdir, mdir, res)

        # postmap -q
        qflags = [f for f in flags if f in QUERY_FLAGS]
        keys = query_keys(source, pe, me)
        compare_queries(tools, cfg, qflags, ttype, name, pdir, mdir, keys, res)

        if os.environ.get("MAPCTL_CHECK_READERS") == "1" and not tools.selftest:
            _check_readers(tools, cfg, name, pdir, qflags, keys, ps, res, ttype)
        return res
    except subprocess.TimeoutExpired as e:
        res.fail("timeout: %s" % (e.cmd,))
        return res
    finally:
        shutil.rmtree(work, ignore_errors=True)


def compare_tables(tools, ttype, ptab, mtab, res, ordered=True):
    """Raw records of postmap's and mapctl's table; returns both lists.

    hash tables compare order-insensitively; `ordered` False does the same
    for the others. cdb also compares whole files when `ordered`: same
    records in the same order make the same file."""
    pe, perr_ = raw_entries(tools, ttype, ptab)
    me, merr_ = raw_entries(tools, ttype, mtab)
    if pe is None:
        res.fail("reading postmap's %s table failed: %s" % (ttype, perr_))
    if me is None:
        res.fail("reading mapctl's %s table failed: %s" % (ttype, merr_))
    if pe is None or me is None:
        return pe, me
    if ttype == "hash" or not ordered:
        same = sorted(pe) == sorted(me)
    else:
        same = pe == me
    if not same:
        res.fail("raw %s entries differ (%d postmap, %d mapctl)" % (ttype, len(pe), len(me)),
                 diff_lists(pe, me))
    elif ttype == "cdb" and ordered and file_bytes(ptab) != file_bytes(mtab):
        res.fail("cdb files differ although their records are the same, in the same order")
    return pe, me


def compare_dumps(tools, cfg, ttype, name, pdir, mdir, res):
    """postmap -s on both tables (hash: as sorted lines). Returns postmap's."""
    ps = run([tools.postmap, "-c", cfg, "-s", ttype + ":" + name], cwd=pdir)
    ms = run([tools.postmap, "-c", cfg, "-s", ttype + ":" + name], cwd=mdir)
    pl, ml = ps[1].split(b"\n"), ms[1].split(b"\n")
    if ttype == "hash":
        pl, ml = sorted(pl), sorted(ml)
    if ps[0] != ms[0] or pl != ml or ps[2] != ms[2]:
        det = []
        if ps[0] != ms[0]:
            det.append("      exit: %d vs %d" % (ps[0], ms[0]))
        if pl != ml:
            det += diff_lists(pl, ml)
        if ps[2] != ms[2]:
            det.append("      stderr postmap: " + show(ps[2], 400))
            det.append("      stderr mapctl : " + show(ms[2], 400))
        res.fail("postmap -s output differs", det)
    return ps


def query_keys(source, pe, me, limit=5000):
    """Source keys as written, their case variants and the stored keys."""
    keys = []
    seen = set()
    cands = []
    for k in source_keys(source):
        cands.extend(case_variants(k))
    for entries in (pe or [], me or []):
        for k, _ in entries:
            k = k[:-1] if k.endswith(b"\0") else k
            cands.extend(case_variants(k))
    for k in cands:
        if k and b"\0" not in k and b"\n" not in k and k not in seen:
            seen.add(k)
            keys.append(k)
    return keys[:limit]


def compare_queries(tools, cfg, qflags, ttype, name, pdir, mdir, keys, res):
    """postmap -q - with all keys, postmap -q KEY with a few."""
    if not keys:
        return
    table = ttype + ":" + name
    stdin = b"\n".join(keys) + b"\n"
    pq = run([tools.postmap, "-c", cfg] + qflags + ["-q", "-", table], pdir, stdin)
    mq = run([tools.postmap, "-c", cfg] + qflags + ["-q", "-", table], mdir, stdin)
    if pq != mq:
        det = ["      exit: %d vs %d" % (pq[0], mq[0])]
        det += diff_lists(pq[1].split(b"\n"), mq[1].split(b"\n"))
        if pq[2] != mq[2]:
            det.append("      stderr postmap: " + show(pq[2], 400))
            det.append("      stderr mapctl : " + show(mq[2], 400))
        res.fail("postmap %s-q - differs" % "".join(f + " " for f in qflags), det)
    single = [k for k in keys if k != b"-"][:qcap()]
    for k in single:
        pq = run([tools.postmap, "-c", cfg] + qflags + ["-q", k, table], pdir)
        mq = run([tools.postmap, "-c", cfg] + qflags + ["-q", k, table], mdir)
        if pq != mq:
            res.fail("postmap %s-q %s differs: postmap %s, mapctl %s" % (
                "".join(f + " " for f in qflags), show(k), show(pq), show(mq)))


def _check_untouched(tools, cfg, name, source, flags, work, res, ttype="lmdb"):
    """A fatal build must leave an existing table byte-identical."""
    d = os.path.join(work, "pre")
    os.mkdir(d)
    src = os.path.join(d, name)
    with open(src, "wb") as f:
        f.write(GOOD_SOURCE)
    rc, _, err = postmap_build(tools, cfg, flags, d, name, ttype)
    if rc != 0:
        res.fail("could not build the good table first: " + show(err))
        return
    tab = os.path.join(d, name + SUFFIX[ttype])
    before = file_bytes(tab)
    st_before = os.stat(tab)
    with open(src, "wb") as f:
        f.write(source)
    mrc, _, merr = mapctl_build(tools, cfg, flags, d, name, ttype)
    if mrc != 2:
        res.fail("over an existing table mapctl exited %d (expected 2): %s" % (mrc, show(merr)))
    after = file_bytes(tab)
    if after != before:
        res.fail("existing table changed by the failed mapctl build (%s -> %s bytes)" % (
            len(before), None if after is None else len(after)))
    else:
        st = os.stat(tab)
        if (st.st_ino, st.st_mode) != (st_before.st_ino, st_before.st_mode):
            res.fail("existing table replaced (inode/mode changed) by a failed build")
    left = sorted(set(os.listdir(d)) - {name, name + SUFFIX[ttype]})
    if left:
        res.fail("files left after the failed build over an existing table: %s" % left)


def _check_readers(tools, cfg, name, pdir, qflags, keys, ps, res, ttype="lmdb"):
    """Optional: mapctl's own readers on postmap's table."""
    rflags = list(qflags)
    table = ttype + ":" + name
    if ps is not None:
        md = run([tools.mapctl, "dump", "-c", cfg, table], cwd=pdir)
        pl, ml = ps[1].split(b"\n"), md[1].split(b"\n")
        if ttype == "hash":
            pl, ml = sorted(pl), sorted(ml)
        if md[0] != 0 or pl != ml:
            res.fail("reader: mapctl dump differs from postmap -s (exit %d)" % md[0],
                     diff_lists(pl, ml, "postmap -s", "mapctl dump"))
    if keys:
        stdin = b"\n".join(keys) + b"\n"
        pq = run([tools.postmap, "-c", cfg] + qflags + ["-q", "-", table], pdir, stdin)
        mq = run([tools.mapctl, "query", "-c", cfg] + rflags + [table, "-"], pdir, stdin)
        if pq[1] != mq[1] or (pq[0] == 0) != (mq[0] == 0):
            res.fail("reader: mapctl query - differs from postmap -q - (exit %d vs %d)" % (pq[0], mq[0]),
                     diff_lists(pq[1].split(b"\n"), mq[1].split(b"\n"), "postmap -q", "mapctl query"))
    if os.path.exists(os.path.join(pdir, name + ".lmdb-lock")):
        res.fail("reader: a -lock file appeared beside the table after mapctl read it")


# ---------------------------------------------------------------------------
# In-place updates: postmap -i / -d versus mapctl build -i / -d

# The table both tools start from; some keys collide with the inputs.
UPDATE_BASE = (b"good-key good value\nOther@Example.COM other value\n"
               b"alice@example.com old-alice\nstrasse old-strasse\n")


def run_update_case(tools, cfgs, label, source, mode, flags, ttype, delete_keys):
    """postmap -i FLAGS TYPE:t < source in one directory, mapctl build -i in
    another, both over the same table built by postmap from UPDATE_BASE;
    then postmap -d - / mapctl build -d - with `delete_keys`. After each
    step postmap must read the same records from both tables."""
    res = Result(label)
    cfg = cfgs[mode]
    name = "t"
    sfx = SUFFIX[ttype]
    work = tempfile.mkdtemp(prefix="mapctl-interop-upd-", dir=tmp_base())
    try:
        pdir = os.path.join(work, "postmap")
        mdir = os.path.join(work, "mapctl")
        for d in (pdir, mdir):
            os.mkdir(d)
            with open(os.path.join(d, name), "wb") as f:
                f.write(UPDATE_BASE)
            rc, _, err = postmap_build(tools, cfg, [], d, name, ttype)
            if rc != 0:
                res.fail("could not build the base table: " + show(err))
                return res
        ino = os.stat(os.path.join(mdir, name + sfx)).st_ino
        iflags = ["-i"] + flags
        prc, _, perr = postmap_build(tools, cfg, iflags, pdir, name, ttype, stdin=source)
        mrc, mout, merr = mapctl_build(tools, cfg, iflags, mdir, name, ttype, stdin=source)
        pcls, mcls = _exit_class(prc, "postmap"), _exit_class(mrc, "mapctl")
        if pcls != mcls:
            res.fail("-i exit status: postmap %d, mapctl %d" % (prc, mrc),
                     ["      postmap stderr: " + show(perr, 600),
                      "      mapctl  stderr: " + show(merr, 600)])
            return res
        if mout:
            res.fail("mapctl build -i printed on stdout: " + show(mout))
        if pcls != "ok":
            return res
        pw = parse_postmap_stderr(perr, name, ttype, origin="stdin")
        mw = parse_mapctl_stderr(merr, name, bool(tools.selftest), ttype, origin="stdin")
        probs = compare_warnings(pw, mw, source, utf8=(mode == "utf8" and "-u" not in flags))
        if probs:
            res.fail("-i warnings differ", ["      " + p for p in probs] +
                     ["      postmap stderr: " + show(perr, 800),
                      "      mapctl  stderr: " + show(merr, 800)])
        mtab = os.path.join(mdir, name + sfx)
        if not tools.selftest and os.stat(mtab).st_ino != ino:
            res.fail("mapctl build -i replaced the table instead of updating it in place")
        leftovers = sorted(set(os.listdir(mdir)) - {name, name + sfx})
        if leftovers:
            res.fail("files left beside mapctl's table: %s" % leftovers)
        qflags = [f for f in flags if f in QUERY_FLAGS]
        for step in ("-i", "-d"):
            if step == "-d":
                stdin = b"\n".join(delete_keys) + b"\n"
                prc, _, perr = postmap_build(tools, cfg, ["-d", "-"] + qflags, pdir, name,
                                             ttype, stdin=stdin)
                mrc, _, merr = mapctl_build(tools, cfg, ["-d", "-"] + qflags, mdir, name,
                                            ttype, stdin=stdin)
                if tools.selftest and mrc == 2:
                    mrc = 1  # postmap's "nothing deleted", not trouble
                if (prc, perr != b"") != (mrc, merr != b""):
                    res.fail("-d: postmap exit %d, mapctl exit %d" % (prc, mrc),
                             ["      postmap stderr: " + show(perr, 400),
                              "      mapctl  stderr: " + show(merr, 400)])
            ptab = os.path.join(pdir, name + sfx)
            pe, me = compare_tables(tools, ttype, ptab, mtab, res, ordered=True)
            compare_dumps(tools, cfg, ttype, name, pdir, mdir, res)
            keys = query_keys(UPDATE_BASE + source, pe, me)
            compare_queries(tools, cfg, qflags, ttype, name, pdir, mdir, keys, res)
            if res.problems:
                res.problems.insert(0, "after %s:" % step)
                break
        return res
    except subprocess.TimeoutExpired as e:
        res.fail("timeout: %s" % (e.cmd,))
        return res
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ---------------------------------------------------------------------------
# Driver helpers


def jobs():
    # postmap's msg_fatal() sleeps 1 s before exiting, so cases are partly
    # idle: run more of them than there are CPUs.
    default = max(4, 2 * (os.cpu_count() or 2))
    try:
        return max(1, int(os.environ.get("MAPCTL_INTEROP_JOBS", "0")) or default)
    except ValueError:
        return default


def run_all(cases, on_result):
    """cases: iterable of callables returning Result. on_result(Result)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs()) as ex:
        futs = [ex.submit(c) for c in cases]
        for f in futs:
            on_result(f.result())


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
