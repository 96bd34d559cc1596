"""The differential runner: many cases built by postmap and by mapctl, read
back by the real postmap (see common.py for what a case compares).

Python 3.11 standard library only.

On the nested-VM machines CI uses a process start costs ~16 ms and a page
fault ~30 us, so the runner counts processes, not cases:

  * postmap builds every case of one (folding mode, flags) group in one
    `postmap T1 S1 T2 S2 ...` call. Each table Ti is followed by a sentinel
    table Si whose one line draws a known warning: the stderr between two
    sentinel warnings is Ti's, and a fatal Ti is the one whose sentinel never
    came (the call is then restarted after it);
  * readers run once per distinct table: a mapctl table byte-identical to
    postmap's (cdb, and any two equal tables) reuses postmap's reading of it
    (`postmap -s`, `postmap -q -` and the raw dump are functions of the bytes,
    the name, the main.cf and the flags);
  * `postmap -q -` reads every key; `postmap -q KEY` (the same lookup call)
    only the few keys a case asks for in Case.singles;
  * the oracle runs without MALLOC_PERTURB_, and a fatal postmap is not
    waited for through its one-second exit sleep (common.run_postmap);
  * at most one worker per CPU (meson already runs one test per CPU).

Layout: ROOT/p/cN/NAME is postmap's side of case N, ROOT/m/cN/NAME mapctl's.
Both build as `TYPE:cN/NAME` from ROOT/p and ROOT/m, so their diagnostics
name the same file; both are read back as `TYPE:NAME` from the case's own
directory, so that equal tables of different cases share one reading.
"""

import concurrent.futures
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import threading

import common
from common import (GOOD_SOURCE, QUERY_FLAGS, SUFFIX, Result, diff_lists, file_bytes,
                    mapctl_build, postmap_build, run_postmap, show)

_CTRL = common._CTRL
BATCH = 40                       # tables per postmap call (two calls can run at once)


class Case:
    """One build comparison. singles: keys also queried as `postmap -q KEY`."""

    def __init__(self, label, name, source, mode, flags, ttype="lmdb", prebuilt=False,
                 singles=0, tag=None):
        self.label, self.name, self.source = label, name, source
        self.mode, self.flags, self.ttype = mode, list(flags), ttype
        self.prebuilt, self.singles, self.tag = prebuilt, singles, tag


class UpdateCase:
    """postmap -i / mapctl build -i of `source` over a table built from
    UPDATE_BASE, then -d of `delete_keys`."""

    def __init__(self, label, source, mode, flags, ttype, delete_keys, singles=0, tag=None):
        self.label, self.source, self.mode, self.flags = label, source, mode, list(flags)
        self.ttype, self.delete_keys, self.singles, self.tag = ttype, delete_keys, singles, tag


# The table both tools start from in an update case; some keys collide with
# the inputs.
UPDATE_BASE = (b"good-key good value\nOther@Example.COM other value\n"
               b"alice@example.com old-alice\nstrasse old-strasse\n")


def jobs():
    try:
        n = int(os.environ.get("MAPCTL_INTEROP_JOBS", "0"))
    except ValueError:
        n = 0
    return max(1, n or os.cpu_count() or 2)


# ---------------------------------------------------------------------------
# Batched postmap builds


_sentinel_lock = threading.Lock()
_sentinel_count = [0]


def batch_build(tools, cfg, flags, cwd, tables):
    """Build [(ttype, relative name)] from cwd with one postmap call where
    possible. Returns one (exit status, stderr) per table."""
    sdir = os.path.join(cwd, "sentinels")
    os.makedirs(sdir, exist_ok=True)
    results = [None] * len(tables)
    todo = list(range(len(tables)))
    while todo:
        argv = [tools.postmap, "-c", cfg] + flags
        marks = {}
        for i in todo:
            ttype, rel = tables[i]
            with _sentinel_lock:
                _sentinel_count[0] += 1
                s = "sentinels/s%06d%s" % (_sentinel_count[0], ttype)
            with open(os.path.join(cwd, s), "wb") as f:
                f.write(b"x\n")
            argv += [ttype + ":" + rel, ttype + ":" + s]
            marks[i] = (b"postmap: warning: %s, line 1: expected format: key whitespace value\n"
                        % s.encode())
        rc, _, err = run_postmap(argv, cwd=cwd)
        seg = []
        j = 0
        for line in err.splitlines(keepends=True):
            if j < len(todo) and line == marks[todo[j]]:
                results[todo[j]] = (0, b"".join(seg))
                seg = []
                j += 1
            else:
                seg.append(line)
        if j == len(todo) and rc == 0 and not seg:
            break
        if j < len(todo) and rc == 1 and common._FATAL.search(b"".join(seg)):
            results[todo[j]] = (1, b"".join(seg))
            todo = todo[j + 1:]
            continue
        # Anything else (a crash, output after the last sentinel): build the
        # rest one by one, so that each table gets its own status.
        for i in todo[j:] if j < len(todo) else todo:
            ttype, rel = tables[i]
            rc1, _, err1 = run_postmap([tools.postmap, "-c", cfg] + flags + [ttype + ":" + rel],
                                       cwd=cwd)
            results[i] = (rc1, err1)
        break
    return results


# ---------------------------------------------------------------------------
# Readers, once per distinct table


# One `postmap -q - unionmap:{P, static:SEP, M}` answers every key from both
# tables at once: Postfix's unionmap looks the key up in each table of the
# list with the flags of the query and joins the results with commas, and
# the static table in the middle always answers SEP, so "vP,SEP,vM",
# "SEP,vM", "vP,SEP" and "SEP" say which table had the key and what it
# gave. Only a clean answer is used (exit 0, no diagnostic other than the
# table-independent non-UTF-8 key warning, every line decodable); anything
# else reads each table with its own `postmap -q -`, as the long scope
# always does.
UNION_SEP = b"@@mapctl-union-sep-7f3a@@"
_UNION_NOTE = re.compile(rb'^postmap: warning: unionmap:\{[^}]*\}: non-UTF-8 key ".*": '
                         rb'malformed UTF-8 or invalid codepoint$')


def _split_union(out, keys, rejected):
    """(P's output, M's output) in `postmap -q -` form, or None. Every key
    has a line, in order (the static table always answers), except the
    `rejected` non-UTF-8 ones, which no table sees. Keys may hold TABs, so
    a line is matched by its key, not split at a TAB."""
    pout, mout = [], []
    lines = out.split(b"\n")[:-1]
    i = skipped = 0
    for k in keys:
        if i >= len(lines) or not lines[i].startswith(k + b"\t"):
            skipped += 1
            continue
        v = lines[i][len(k) + 1:]
        i += 1
        if v == UNION_SEP:
            continue
        if v.startswith(UNION_SEP + b","):
            mout.append(k + b"\t" + v[len(UNION_SEP) + 1:])
        elif v.endswith(b"," + UNION_SEP):
            pout.append(k + b"\t" + v[:-len(UNION_SEP) - 1])
        else:
            pv, sep, mv = v.partition(b"," + UNION_SEP + b",")
            if not sep or UNION_SEP in mv:
                return None
            pout.append(k + b"\t" + pv)
            mout.append(k + b"\t" + mv)
    if i != len(lines) or skipped != rejected:
        return None
    return [b"".join(x + b"\n" for x in o) for o in (pout, mout)]


class Reads:
    def __init__(self, tools, cfgs, union=True):
        self.tools, self.cfgs = tools, cfgs
        # MAPCTL_INTEROP_UNION_CHECK=1: also read each table alone and fail
        # if the union's answer differs (a self-test of the shortcut)
        self.union = union
        self.union_check = os.environ.get("MAPCTL_INTEROP_UNION_CHECK") == "1"
        self.union_used = self.union_fallback = 0
        self._cache = {}
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def _cached(self, key, fn):
        with self._lock:
            if key in self._cache:
                self.hits += 1
                return self._cache[key]
        v = fn()
        with self._lock:
            self.misses += 1
            self._cache[key] = v
        return v

    @staticmethod
    def digest(path):
        data = file_bytes(path)
        return None if data is None else hashlib.sha256(data).digest()

    def raw(self, ttype, path):
        return self._cached(("raw", ttype, self.digest(path)),
                            lambda: common.raw_entries(self.tools, ttype, path))

    def dump(self, ttype, mode, cwd, name):
        table = ttype + ":" + name
        return self._cached(
            ("dump", ttype, mode, name, self.digest(os.path.join(cwd, name + SUFFIX[ttype]))),
            lambda: run_postmap([self.tools.postmap, "-c", self.cfgs[mode], "-s", table], cwd))

    def query(self, ttype, mode, qflags, cwd, name, keys):
        """`postmap -q -` (keys a list) or `postmap -q KEY` (keys bytes)."""
        table = ttype + ":" + name
        many = isinstance(keys, list)
        stdin = b"\n".join(keys) + b"\n" if many else b""
        q = ["-q", "-"] if many else ["-q", keys]
        key = ("query", ttype, mode, name, tuple(qflags),
               self.digest(os.path.join(cwd, name + SUFFIX[ttype])),
               hashlib.sha256(stdin if many else keys).digest(), many)
        return self._cached(key, lambda: run_postmap(
            [self.tools.postmap, "-c", self.cfgs[mode]] + qflags + q + [table], cwd, stdin))

    def query_both(self, ttype, mode, qflags, pdir, mdir, name, keys):
        """`postmap -q -` of keys on both tables through one unionmap call:
        ((rc, out, err) of P, same of M), or None when it cannot say."""
        top = os.path.commonpath([pdir, mdir])
        rel = [os.path.relpath(os.path.join(d, name), top) for d in (pdir, mdir)]
        if any(c in r for r in rel for c in ",{} \t"):
            return None
        table = "unionmap:{%s:%s,static:%s,%s:%s}" % (ttype, rel[0], UNION_SEP.decode(),
                                                      ttype, rel[1])
        stdin = b"\n".join(keys) + b"\n"
        rc, out, err = run_postmap([self.tools.postmap, "-c", self.cfgs[mode]] + qflags +
                                   ["-q", "-", table], top, stdin)
        both = None
        notes = err.split(b"\n")[:-1]
        if rc == 0 and all(_UNION_NOTE.match(ln) for ln in notes):
            outs = _split_union(out, keys, len(notes))
            if outs is not None:
                # the non-UTF-8 warnings come before any table is consulted,
                # the same for both: keep them as both tables' stderr
                both = tuple((0 if o else 1, o, err) for o in outs)
        with self._lock:
            if both is None:
                self.union_fallback += 1
            else:
                self.union_used += 1
        return both


def compare_tables(reads, ttype, ptab, mtab, res, ordered=True):
    """Raw records of postmap's and mapctl's table; returns both lists.

    hash tables compare order-insensitively; `ordered` False does the same
    for the others. cdb also compares whole files when `ordered`: same
    records in the same order make the same file."""
    pe, perr_ = reads.raw(ttype, ptab)
    me, merr_ = reads.raw(ttype, mtab)
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


def compare_dumps(reads, mode, ttype, name, pdir, mdir, res):
    """postmap -s on both tables (hash: as sorted lines). Returns postmap's."""
    ps = reads.dump(ttype, mode, pdir, name)
    ms = reads.dump(ttype, mode, mdir, name)
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
    for k in common.source_keys(source):
        cands.extend(common.case_variants(k))
    for entries in (pe or [], me or []):
        for k, _ in entries:
            k = k[:-1] if k.endswith(b"\0") else k
            cands.extend(common.case_variants(k))
    for k in cands:
        if k and b"\0" not in k and b"\n" not in k and k not in seen:
            seen.add(k)
            keys.append(k)
    return keys[:limit]


def compare_queries(reads, mode, qflags, ttype, name, pdir, mdir, keys, singles, res):
    """postmap -q - with all keys, postmap -q KEY with `singles` of them."""
    if not keys:
        return
    sfx = SUFFIX[ttype]
    both = None
    if reads.union and (reads.digest(os.path.join(pdir, name + sfx)) !=
                        reads.digest(os.path.join(mdir, name + sfx))):
        both = reads.query_both(ttype, mode, qflags, pdir, mdir, name, keys)
    if both is None or reads.union_check:
        pq = reads.query(ttype, mode, qflags, pdir, name, keys)
        mq = reads.query(ttype, mode, qflags, mdir, name, keys)
        if both is not None and (both[0][:2], both[1][:2]) != (pq[:2], mq[:2]):
            res.fail("self-test: the unionmap reading differs from reading each table alone",
                     ["      union  : %s" % show(both, 400),
                      "      alone  : %s" % show((pq, mq), 400)])
    else:
        pq, mq = both
    if pq != mq:
        det = ["      exit: %d vs %d" % (pq[0], mq[0])]
        det += diff_lists(pq[1].split(b"\n"), mq[1].split(b"\n"))
        if pq[2] != mq[2]:
            det.append("      stderr postmap: " + show(pq[2], 400))
            det.append("      stderr mapctl : " + show(mq[2], 400))
        res.fail("postmap %s-q - differs" % "".join(f + " " for f in qflags), det)
    for k in [k for k in keys if k != b"-"][:singles]:
        pq = reads.query(ttype, mode, qflags, pdir, name, k)
        mq = reads.query(ttype, mode, qflags, mdir, name, k)
        if pq != mq:
            res.fail("postmap %s-q %s differs: postmap %s, mapctl %s" % (
                "".join(f + " " for f in qflags), show(k), show(pq), show(mq)))


# ---------------------------------------------------------------------------
# One build case, after postmap's batch has run


def _check_untouched(tools, cfg, case, work, res):
    """A fatal build must leave an existing table byte-identical."""
    name, ttype, flags = case.name, case.ttype, case.flags
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
        f.write(case.source)
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


def _check_readers(tools, cfg, case, pdir, qflags, keys, ps, res):
    """Optional (MAPCTL_CHECK_READERS=1): mapctl's own readers on postmap's table."""
    name, ttype = case.name, case.ttype
    table = ttype + ":" + name
    if ps is not None:
        md = common.run([tools.mapctl, "dump", "-c", cfg, table], cwd=pdir)
        pl, ml = ps[1].split(b"\n"), md[1].split(b"\n")
        if ttype == "hash":
            pl, ml = sorted(pl), sorted(ml)
        if md[0] != 0 or pl != ml:
            res.fail("reader: mapctl dump differs from postmap -s (exit %d)" % md[0],
                     diff_lists(pl, ml, "postmap -s", "mapctl dump"))
    if keys:
        stdin = b"\n".join(keys) + b"\n"
        pq = run_postmap([tools.postmap, "-c", cfg] + qflags + ["-q", "-", table], pdir, stdin)
        mq = common.run([tools.mapctl, "query", "-c", cfg] + qflags + [table, "-"], pdir, stdin)
        if pq[1] != mq[1] or (pq[0] == 0) != (mq[0] == 0):
            res.fail("reader: mapctl query - differs from postmap -q - (exit %d vs %d)"
                     % (pq[0], mq[0]),
                     diff_lists(pq[1].split(b"\n"), mq[1].split(b"\n"), "postmap -q",
                                "mapctl query"))
    if os.path.exists(os.path.join(pdir, name + ".lmdb-lock")):
        res.fail("reader: a -lock file appeared beside the table after mapctl read it")


def check_case(tools, cfgs, reads, case, pdir, mdir, work, mroot, rel, built):
    """Everything common.py lists for one case. pdir and mdir hold the two
    tables; mapctl builds TYPE:rel from mroot; `built` is postmap's (exit
    status, stderr) from the batch; work is scratch space."""
    res = Result(case.label)
    res.case = case
    name, ttype, flags, mode = case.name, case.ttype, case.flags, case.mode
    cfg = cfgs[mode]
    sfx = SUFFIX[ttype]
    try:
        prc, perr = built
        mrc, mout, merr = mapctl_build(tools, cfg, flags, mroot, rel, ttype)
        pcls, mcls = common._exit_class(prc, "postmap"), common._exit_class(mrc, "mapctl")
        pw = common.parse_postmap_stderr(perr, rel, ttype)
        mw = common.parse_mapctl_stderr(merr, rel, bool(tools.selftest), ttype)
        if pcls != mcls:
            res.fail("exit status: postmap %d (%s), mapctl %d (%s)" % (prc, pcls, mrc, mcls),
                     ["      postmap stderr: " + show(perr, 600),
                      "      mapctl  stderr: " + show(merr, 600)])
        if mout:
            res.fail("mapctl build printed on stdout: " + show(mout))
        if b"SECRET" in case.source and b"SECRET" in merr and not tools.selftest:
            res.fail("a mapctl diagnostic quotes a value (SECRET marker): " + show(merr, 400))
        if _CTRL.search(merr) and not tools.selftest:
            # postmap's logging turns non-printable bytes into '?'; raw
            # control bytes (ESC, CR, BEL...) copied from the source into a
            # diagnostic can drive the terminal.
            bad = [ln for ln in merr.split(b"\n") if _CTRL.search(ln)]
            res.fail("mapctl diagnostics contain raw control bytes (postmap prints '?'): "
                     + show(bad[0], 300))

        leftovers = sorted(set(os.listdir(mdir)) - {name, name + sfx})
        if leftovers:
            res.fail("files left beside mapctl's table: %s" % leftovers)

        if pcls == "fatal":
            # postmap may leave an empty table behind; mapctl writes nothing.
            if (mcls == "fatal" and not tools.selftest and not case.prebuilt
                    and os.path.exists(os.path.join(mdir, name + sfx))):
                res.fail("mapctl created %s%s on a failed build" % (name, sfx))
            if mcls == "fatal":
                if not any(k == "error" for k, _, _ in mw) and not tools.selftest:
                    res.fail("mapctl failed without an 'error:' diagnostic: " + show(merr))
                _check_untouched(tools, cfg, case, work, res)
            return res

        if pcls != "ok" or mcls != "ok":
            return res

        probs = common.compare_warnings(pw, mw, case.source,
                                        utf8=(mode == "utf8" and "-u" not in flags))
        if probs:
            res.fail("warnings differ", ["      " + p for p in probs] +
                     ["      postmap stderr: " + show(perr, 800),
                      "      mapctl  stderr: " + show(merr, 800)])

        ptab = os.path.join(pdir, name + sfx)
        mtab = os.path.join(mdir, name + sfx)
        if not os.path.exists(mtab):
            res.fail("mapctl exited 0 but wrote no %s%s" % (name, sfx))
            return res

        pe, me = compare_tables(reads, ttype, ptab, mtab, res,
                                ordered=not (ttype == "cdb" and "-r" in flags))
        ps = None
        if ttype != "cdb":                      # postmap 3.7 has no -s for cdb
            ps = compare_dumps(reads, mode, ttype, name, pdir, mdir, res)
        qflags = [f for f in flags if f in QUERY_FLAGS]
        keys = query_keys(case.source, pe, me)
        compare_queries(reads, mode, qflags, ttype, name, pdir, mdir, keys, case.singles, res)
        if os.environ.get("MAPCTL_CHECK_READERS") == "1" and not tools.selftest:
            _check_readers(tools, cfg, case, pdir, qflags, keys, ps, res)
        return res
    except subprocess.TimeoutExpired as e:
        res.fail("timeout: %s" % (e.cmd,))
        return res


# ---------------------------------------------------------------------------
# One update case


def check_update(tools, cfgs, reads, case, work, base_ok):
    """postmap -i FLAGS TYPE:t < source in one directory, mapctl build -i in
    another, both over the same table built by postmap from UPDATE_BASE;
    then postmap -d - / mapctl build -d - with the delete keys. After each
    step postmap must read the same records from both tables."""
    res = Result(case.label)
    res.case = case
    mode, flags, ttype = case.mode, case.flags, case.ttype
    cfg = cfgs[mode]
    name = "t"
    sfx = SUFFIX[ttype]
    pdir, mdir = os.path.join(work, "p"), os.path.join(work, "m")
    try:
        if base_ok is not True:
            res.fail("could not build the base table: " + show(base_ok))
            return res
        ino = os.stat(os.path.join(mdir, name + sfx)).st_ino
        iflags = ["-i"] + flags
        prc, _, perr = postmap_build(tools, cfg, iflags, pdir, name, ttype, stdin=case.source)
        mrc, mout, merr = mapctl_build(tools, cfg, iflags, mdir, name, ttype, stdin=case.source)
        pcls, mcls = common._exit_class(prc, "postmap"), common._exit_class(mrc, "mapctl")
        if pcls != mcls:
            res.fail("-i exit status: postmap %d, mapctl %d" % (prc, mrc),
                     ["      postmap stderr: " + show(perr, 600),
                      "      mapctl  stderr: " + show(merr, 600)])
            return res
        if mout:
            res.fail("mapctl build -i printed on stdout: " + show(mout))
        if pcls != "ok":
            return res
        pw = common.parse_postmap_stderr(perr, name, ttype, origin="stdin")
        mw = common.parse_mapctl_stderr(merr, name, bool(tools.selftest), ttype, origin="stdin")
        probs = common.compare_warnings(pw, mw, case.source,
                                        utf8=(mode == "utf8" and "-u" not in flags))
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
                stdin = b"\n".join(case.delete_keys) + b"\n"
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
            pe, me = compare_tables(reads, ttype, ptab, mtab, res, ordered=True)
            compare_dumps(reads, mode, ttype, name, pdir, mdir, res)
            keys = query_keys(UPDATE_BASE + case.source, pe, me)
            compare_queries(reads, mode, qflags, ttype, name, pdir, mdir, keys, case.singles,
                            res)
            if res.problems:
                res.problems.insert(0, "after %s:" % step)
                break
        return res
    except subprocess.TimeoutExpired as e:
        res.fail("timeout: %s" % (e.cmd,))
        return res


# ---------------------------------------------------------------------------
# The driver


def _groups(items, key):
    out = {}
    for i, it in enumerate(items):
        out.setdefault(key(it), []).append(i)
    return out


def _chunks(lst, n):
    return [lst[i:i + n] for i in range(0, len(lst), n)]


def run_cases(tools, cfgs, cases, updates=(), on_result=None, union=True):
    """Run every Case and UpdateCase; on_result(Result) in the order given
    (cases first). union: read both tables of a case with one unionmap
    query where it can. Returns the Reads cache (for its counts)."""
    root = tempfile.mkdtemp(prefix="mapctl-interop-", dir=common.tmp_base())
    reads = Reads(tools, cfgs, union)
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=jobs())
    try:
        proot, mroot, uroot = (os.path.join(root, s) for s in ("p", "m", "u"))
        for d in (proot, mroot, uroot):
            os.mkdir(d)
        rels = ["c%05d/%s" % (i, c.name) for i, c in enumerate(cases)]
        for i, c in enumerate(cases):
            for side in (proot, mroot):
                os.mkdir(os.path.join(side, "c%05d" % i))
        # Old tables for the cases that rebuild over one: GOOD_SOURCE, built
        # by postmap on both sides, never fatal.
        jobs_ = []
        pre = [i for i, c in enumerate(cases) if c.prebuilt]
        for (mode, flags), idx in _groups([cases[i] for i in pre],
                                          lambda c: (c.mode, tuple(c.flags))).items():
            tabs = []
            for k in idx:
                i = pre[k]
                for side in ("p", "m"):
                    with open(os.path.join(root, side, rels[i]), "wb") as f:
                        f.write(GOOD_SOURCE)
                    tabs.append((cases[i].ttype, side + "/" + rels[i]))
            for chunk in _chunks(tabs, BATCH):
                jobs_.append(pool.submit(batch_build, tools, cfgs[mode], list(flags), root,
                                         chunk))
        prebuild_ok = all(rc == 0 for j in jobs_ for rc, _ in j.result())
        for i, c in enumerate(cases):
            for side in (proot, mroot):
                with open(os.path.join(side, rels[i]), "wb") as f:
                    f.write(c.source)
        # postmap's side of every case, batched by folding mode and flags.
        built = [None] * len(cases)
        futs = []
        for (mode, flags), idx in _groups(cases, lambda c: (c.mode, tuple(c.flags))).items():
            for chunk in _chunks(idx, BATCH):
                tabs = [(cases[i].ttype, rels[i]) for i in chunk]
                futs.append((chunk, pool.submit(batch_build, tools, cfgs[mode], list(flags),
                                                proot, tabs)))
        # Update cases: base tables, batched by mode.
        uwork = []
        for i, u in enumerate(updates):
            w = os.path.join(uroot, "c%05d" % i)
            uwork.append(w)
            for side in ("p", "m"):
                os.makedirs(os.path.join(w, side))
                with open(os.path.join(w, side, "t"), "wb") as f:
                    f.write(UPDATE_BASE)
        base_ok = [True] * len(updates)
        ufuts = []
        for mode, idx in _groups(updates, lambda u: u.mode).items():
            tabs = [(updates[i].ttype, "c%05d/%s/t" % (i, side)) for i in idx
                    for side in ("p", "m")]
            owners = [i for i in idx for _ in ("p", "m")]
            for chunk in _chunks(list(range(len(tabs))), BATCH):
                ufuts.append(([owners[k] for k in chunk], pool.submit(
                    batch_build, tools, cfgs[mode], [], uroot, [tabs[k] for k in chunk])))
        for chunk, f in futs:
            for i, r in zip(chunk, f.result()):
                built[i] = r
        for owners, f in ufuts:
            for i, (rc, err) in zip(owners, f.result()):
                if rc != 0:
                    base_ok[i] = err
        if not prebuild_ok:
            raise RuntimeError("postmap could not build the old tables for the prebuilt cases")

        def one(i):
            c = cases[i]
            dirs = [os.path.join(d, "c%05d" % i) for d in (proot, mroot, root)]
            os.mkdir(dirs[2])
            try:
                return check_case(tools, cfgs, reads, c, dirs[0], dirs[1], dirs[2], mroot,
                                  rels[i], built[i])
            finally:
                for d in dirs:
                    shutil.rmtree(d, ignore_errors=True)

        def one_update(i):
            try:
                return check_update(tools, cfgs, reads, updates[i], uwork[i], base_ok[i])
            finally:
                shutil.rmtree(uwork[i], ignore_errors=True)

        results = [pool.submit(one, i) for i in range(len(cases))]
        results += [pool.submit(one_update, i) for i in range(len(updates))]
        for f in results:
            r = f.result()
            if on_result:
                on_result(r)
        return reads
    finally:
        pool.shutdown(wait=True)
        shutil.rmtree(root, ignore_errors=True)
