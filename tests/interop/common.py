#!/usr/bin/env python3
"""Shared helpers for the mapctl <-> postmap 3.7 differential tests.

Python 3.11 standard library only.

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
MODES = ["utf8", "ascii"]
QUERY_FLAGS = {"-f", "-N", "-n", "-u"}


# ---------------------------------------------------------------------------
# Tools, skip logic


class Tools:
    def __init__(self, postmap, mapctl, mdb_dump, selftest):
        self.postmap = postmap
        self.mapctl = mapctl
        self.mdb_dump = mdb_dump
        self.selftest = selftest


def _newest_mapctl():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.abspath(os.path.join(here, "..", ".."))
    found = [p for p in glob.glob(os.path.join(root, "build*", "tools", "mapctl"))
             if os.access(p, os.X_OK)]
    if not found:
        return None
    return max(found, key=os.path.getmtime)


def find_tools():
    """Return Tools or exit 77 (skip) / 1 (required but missing)."""
    required = os.environ.get("MAPCTL_INTEROP_REQUIRED", "0") == "1"
    selftest = os.environ.get("MAPCTL_SELFTEST", "")
    postmap = os.environ.get("POSTMAP") or "/usr/sbin/postmap"
    mapctl = os.environ.get("MAPCTL") or _newest_mapctl()
    mdb_dump = shutil.which("mdb_dump") or "/usr/bin/mdb_dump"
    missing = []
    if not os.access(postmap, os.X_OK):
        missing.append("postmap (%s)" % postmap)
    if not os.access(mdb_dump, os.X_OK):
        missing.append("mdb_dump (lmdb-utils)")
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
    return Tools(postmap, mapctl, mdb_dump, selftest)


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


def postmap_build(tools, cfg, flags, cwd, name):
    return run([tools.postmap, "-c", cfg] + flags + ["lmdb:" + name], cwd=cwd)


def mapctl_build(tools, cfg, flags, cwd, name):
    if tools.selftest:
        extra = {"same": [], "perturb-u": ["-u"], "perturb-r": ["-r"],
                 "perturb-n": ["-n"], "perturb-f": ["-f"]}[tools.selftest]
        rc, out, err = run([tools.postmap, "-c", cfg] + flags + extra + ["lmdb:" + name], cwd=cwd)
        return (2 if rc == 1 else rc), out, err
    return run([tools.mapctl, "build", "-c", cfg] + flags + ["lmdb:" + name], cwd=cwd)


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


def parse_postmap_stderr(err, name):
    out = []
    en = re.escape(name.encode())
    re_line = re.compile(rb"^postmap: warning: " + en + rb", line (\d+): (.*)$", re.S)
    re_lead = re.compile(rb"^postmap: warning: " + en + rb": logical line must not start with whitespace: ", re.S)
    re_dup = re.compile(rb"^postmap: warning: lmdb:" + en + rb': duplicate entry: "(.*)"$', re.S)
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


def parse_mapctl_stderr(err, name, selftest=False):
    if selftest:
        return parse_postmap_stderr(err, name)
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


def run_case(tools, cfgs, name, source, mode, flags, label=None, prebuilt=False):
    """Run one differential case; return a Result.

    prebuilt: first build GOOD_SOURCE with postmap under the same name in
    both directories, so both tools rebuild over an existing table."""
    label = label or "%s [%s %s]" % (name, mode, " ".join(flags) or "-")
    res = Result(label)
    cfg = cfgs[mode]
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
                rc, _, err = postmap_build(tools, cfg, flags, d, name)
                if rc != 0:
                    res.fail("could not prebuild the old table: " + show(err))
                    return res
            with open(os.path.join(d, name), "wb") as f:
                f.write(source)

        prc, pout, perr = postmap_build(tools, cfg, flags, pdir, name)
        mrc, mout, merr = mapctl_build(tools, cfg, flags, mdir, name)
        pcls, mcls = _exit_class(prc, "postmap"), _exit_class(mrc, "mapctl")
        pw = parse_postmap_stderr(perr, name)
        mw = parse_mapctl_stderr(merr, name, bool(tools.selftest))
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

        leftovers = sorted(set(os.listdir(mdir)) - {name, name + ".lmdb"})
        if leftovers:
            res.fail("files left beside mapctl's table: %s" % leftovers)

        if pcls == "fatal":
            # postmap leaves an empty 8192-byte table behind; mapctl writes nothing.
            if (mcls == "fatal" and not tools.selftest and not prebuilt
                    and os.path.exists(os.path.join(mdir, name + ".lmdb"))):
                res.fail("mapctl created %s.lmdb on a failed build" % name)
            if mcls == "fatal":
                if not any(k == "error" for k, _, _ in mw) and not tools.selftest:
                    res.fail("mapctl failed without an 'error:' diagnostic: " + show(merr))
                _check_untouched(tools, cfg, name, source, flags, work, res)
            return res

        if pcls != "ok" or mcls != "ok":
            return res

        # warnings
        probs = compare_warnings(pw, mw, source, utf8=(mode == "utf8" and "-u" not in flags))
        if probs:
            res.fail("warnings differ", ["      " + p for p in probs] +
                     ["      postmap stderr: " + show(perr, 800),
                      "      mapctl  stderr: " + show(merr, 800)])

        ptab = os.path.join(pdir, name + ".lmdb")
        mtab = os.path.join(mdir, name + ".lmdb")
        if not os.path.exists(mtab):
            res.fail("mapctl exited 0 but wrote no %s.lmdb" % name)
            return res

        # raw entries
        pe, perr_ = mdb_entries(tools, ptab)
        me, merr_ = mdb_entries(tools, mtab)
        if pe is None:
            res.fail("mdb_dump failed on postmap's table: " + perr_)
        if me is None:
            res.fail("mdb_dump failed on mapctl's table: " + merr_)
        if pe is not None and me is not None and pe != me:
            res.fail("raw lmdb entries differ (%d postmap, %d mapctl)" % (len(pe), len(me)),
                     diff_lists(pe, me))

        # postmap -s
        ps = run([tools.postmap, "-c", cfg, "-s", "lmdb:" + name], cwd=pdir)
        ms = run([tools.postmap, "-c", cfg, "-s", "lmdb:" + name], cwd=mdir)
        if ps != ms:
            det = []
            if ps[0] != ms[0]:
                det.append("      exit: %d vs %d" % (ps[0], ms[0]))
            if ps[1] != ms[1]:
                det += diff_lists(ps[1].split(b"\n"), ms[1].split(b"\n"))
            if ps[2] != ms[2]:
                det.append("      stderr postmap: " + show(ps[2], 400))
                det.append("      stderr mapctl : " + show(ms[2], 400))
            res.fail("postmap -s output differs", det)

        # postmap -q
        qflags = [f for f in flags if f in QUERY_FLAGS]
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
        keys = keys[:5000]
        if keys:
            stdin = b"\n".join(keys) + b"\n"
            pq = run([tools.postmap, "-c", cfg] + qflags + ["-q", "-", "lmdb:" + name], pdir, stdin)
            mq = run([tools.postmap, "-c", cfg] + qflags + ["-q", "-", "lmdb:" + name], mdir, stdin)
            if pq != mq:
                det = ["      exit: %d vs %d" % (pq[0], mq[0])]
                det += diff_lists(pq[1].split(b"\n"), mq[1].split(b"\n"))
                if pq[2] != mq[2]:
                    det.append("      stderr postmap: " + show(pq[2], 400))
                    det.append("      stderr mapctl : " + show(mq[2], 400))
                res.fail("postmap %s-q - differs" % "".join(f + " " for f in qflags), det)
            single = [k for k in keys if k != b"-"][:qcap()]
            for k in single:
                pq = run([tools.postmap, "-c", cfg] + qflags + ["-q", k, "lmdb:" + name], pdir)
                mq = run([tools.postmap, "-c", cfg] + qflags + ["-q", k, "lmdb:" + name], mdir)
                if pq != mq:
                    res.fail("postmap %s-q %s differs: postmap %s, mapctl %s" % (
                        "".join(f + " " for f in qflags), show(k), show(pq), show(mq)))

        if os.environ.get("MAPCTL_CHECK_READERS") == "1" and not tools.selftest:
            _check_readers(tools, cfg, name, pdir, qflags, keys, ps, res)
        return res
    except subprocess.TimeoutExpired as e:
        res.fail("timeout: %s" % (e.cmd,))
        return res
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _check_untouched(tools, cfg, name, source, flags, work, res):
    """A fatal build must leave an existing table byte-identical."""
    d = os.path.join(work, "pre")
    os.mkdir(d)
    src = os.path.join(d, name)
    with open(src, "wb") as f:
        f.write(GOOD_SOURCE)
    rc, _, err = postmap_build(tools, cfg, flags, d, name)
    if rc != 0:
        res.fail("could not build the good table first: " + show(err))
        return
    tab = os.path.join(d, name + ".lmdb")
    before = file_bytes(tab)
    st_before = os.stat(tab)
    with open(src, "wb") as f:
        f.write(source)
    mrc, _, merr = mapctl_build(tools, cfg, flags, d, name)
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
    left = sorted(set(os.listdir(d)) - {name, name + ".lmdb"})
    if left:
        res.fail("files left after the failed build over an existing table: %s" % left)


def _check_readers(tools, cfg, name, pdir, qflags, keys, ps, res):
    """Optional: mapctl's own readers on postmap's table."""
    rflags = list(qflags)
    md = run([tools.mapctl, "dump", "-c", cfg, "lmdb:" + name], cwd=pdir)
    if md[0] != 0 or md[1] != ps[1]:
        res.fail("reader: mapctl dump differs from postmap -s (exit %d)" % md[0],
                 diff_lists(ps[1].split(b"\n"), md[1].split(b"\n"), "postmap -s", "mapctl dump"))
    if keys:
        stdin = b"\n".join(keys) + b"\n"
        pq = run([tools.postmap, "-c", cfg] + qflags + ["-q", "-", "lmdb:" + name], pdir, stdin)
        mq = run([tools.mapctl, "query", "-c", cfg] + rflags + ["lmdb:" + name, "-"], pdir, stdin)
        if pq[1] != mq[1] or (pq[0] == 0) != (mq[0] == 0):
            res.fail("reader: mapctl query - differs from postmap -q - (exit %d vs %d)" % (pq[0], mq[0]),
                     diff_lists(pq[1].split(b"\n"), mq[1].split(b"\n"), "postmap -q", "mapctl query"))
    if os.path.exists(os.path.join(pdir, name + ".lmdb-lock")):
        res.fail("reader: a -lock file appeared beside the table after mapctl read it")


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
