#!/usr/bin/env python3
"""Randomised differential test: mapctl build vs postmap 3.7.

A seeded generator writes source files that mix everything the parser and
the folding code must get right: NUL, CR/CRLF, quotes, backslashes, TABs,
form feeds, vertical tabs, invalid UTF-8, letters whose case folding changes
their length (ß, ẞ, Σ/ς, İ, ﬁ, Kelvin sign, ΐ), leading whitespace at the
top, comment and blank lines inside continuations, duplicates after folding,
over-long keys, and byte soup (every seed ending in 7). Each source is built
in both folding modes with {} plus flag sets picked by the seed (odd seeds
over an already existing table) and compared as postmap_differential.py
does (differential.py). A fixed ICU folding sweep (every code point with a
case mapping) runs too; its over-long last key is fatal for lmdb only.

MAPCTL_TEST_SCOPE chooses the run:

  default  RICH_SEEDS rich sources (80-160 lines each: about the volume of
           the long run's 100 small ones). lmdb: both modes x {} and two
           flag sets; cdb, hash, btree: one mode (alternating) x {} and one
           flag set. The run checks that its seeds exercised every feature
           of the generator (FEATURES), both modes, the prebuilt path and
           every flag set, and fails if a change of the generator lost one.
  long     100 small sources (3-25 lines) from seed 1, as lmdb in both
           modes x three flag sets and as cdb, hash, btree for the first
           MAPCTL_RANDOM_TYPE_CASES seeds, plus the rich seeds.

Environment:
  MAPCTL_RANDOM_SEED   first seed, or a comma-separated seed list (small
                       sources, every type, no sweep)
  MAPCTL_RANDOM_CASES  number of seeds from MAPCTL_RANDOM_SEED (default 100)
  MAPCTL_RANDOM_RICH   "1": the seeds above make rich sources
  MAPCTL_RANDOM_TYPE_CASES  how many small seeds cdb, hash and btree get in
                       the long run (default 25)
  (plus everything common.py documents)

On a mismatch the source is kept (MAPCTL_INTEROP_KEEP, default
$TMPDIR/mapctl-interop-failures/random-seed-N) and a command that
reproduces it is printed.  Exit: 0 all passed, 1 any failed, 77 skipped.
"""

import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import differential  # noqa: E402

RICH_SEEDS = list(range(1, 13))
LONG_SMALL = 100
DEFAULT_TYPE_COUNT = 25

# What the generator can emit. generate() records each one it used.
FEATURES = {
    "crlf", "lead_top", "comment", "blank", "nul_first", "long_key", "dup_fold",
    "address", "quoted_local", "escaped_space", "alias_colon", "unbalanced",
    "trailing_backslash", "invalid_utf8_key", "nul_in_key", "folder", "random_word",
    "v_word", "v_quoted", "v_hash", "v_backslash", "v_invalid", "v_nul", "v_unicode",
    "v_empty", "no_value", "trailing_ws", "continuation", "cont_comment_blank",
    "no_final_eol", "soup",
}

# Letters whose folding is interesting (UTF-8 mode: ICU full folding).
FOLDERS = ["ß", "ẞ", "Σ", "σ", "ς", "İ", "ı", "ﬁ", "ﬀ", "\u212a", "\u212b", "Ä", "ä",
           "Ö", "ü", "ΐ", "ŉ", "Ω", "\u2126", "Д", "д", "Ǆ", "ǅ", "\U00010400", "Ａ"]
INVALID = [b"\x80", b"\xbf", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xed\xa0\x80", b"\xed\xbf\xbf",
           b"\xe2\x82", b"\xf0\x9f\x98", b"\xf5\x80\x80\x80", b"\xf4\x90\x80\x80",
           b"\xfe", b"\xff", b"\xc3", b"\xe9"]
SEPS = [b" ", b"\t", b"  ", b" \t ", b"\f", b"\v", b"\r", b"\t\t", b" \f\v "]
WORDS = ["alice", "Bob", "CAROL", "dave", "Example", "COM", "org", "user", "relay",
         "smtp", "mail", "x", "Straße", "STRASSE", "ΣΟΦΟΣ", "σοφος", "İstanbul", "ﬁle",
         "Müller", "MÜLLER", "kelvin"]


class Gen:
    """One source's random stream and the features it used (recording
    draws no random numbers: a seed makes the same bytes as before)."""

    def __init__(self, seed):
        self.r = random.Random(seed)
        self.used = set()

    def word(self):
        r = self.r
        if r.random() < 0.6:
            w = r.choice(WORDS)
        else:
            self.used.add("random_word")
            w = "".join(r.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+")
                        for _ in range(r.randint(1, 8)))
        if r.random() < 0.25:
            self.used.add("folder")
            pos = r.randint(0, len(w))
            w = w[:pos] + r.choice(FOLDERS) + w[pos:]
        return w

    def recase(self, s):
        c = self.r.random()
        if c < 0.25:
            return s.upper()
        if c < 0.5:
            return s.lower()
        if c < 0.65:
            return s.swapcase()
        if c < 0.75:
            return s.replace("ß", "SS").replace("ς", "Σ").replace("σ", "Σ")
        if c < 0.85:
            return s.casefold()
        return s

    def key(self, pool):
        r, u = self.r, self.used
        c = r.random()
        if pool and c < 0.3:
            u.add("dup_fold")
            k = self.recase(r.choice(pool)).encode()          # duplicate after folding
        elif c < 0.55:
            u.add("address")
            k = ("%s@%s.%s" % (self.word(), self.word(),
                               r.choice(["com", "ORG", "de", "gr"]))).encode()
        elif c < 0.62:
            u.add("quoted_local")
            k = ('"%s %s"@%s' % (self.word(), self.word(), self.word())).encode()
        elif c < 0.66:
            u.add("escaped_space")
            k = self.word().encode() + b"\\ " + self.word().encode()
        elif c < 0.69:
            u.add("alias_colon")
            k = self.word().encode() + b":"
        elif c < 0.72:
            u.add("unbalanced")
            k = b'"' + self.word().encode()
        elif c < 0.75:
            u.add("trailing_backslash")
            k = self.word().encode() + b"\\"
        else:
            k = self.word().encode()
        if r.random() < 0.05:
            u.add("invalid_utf8_key")
            pos = r.randint(0, len(k))
            k = k[:pos] + r.choice(INVALID) + k[pos:]
        if r.random() < 0.03:
            u.add("nul_in_key")
            pos = r.randint(0, len(k))
            k = k[:pos] + b"\0" + k[pos:]
        return k

    def value(self):
        r, u = self.r, self.used
        parts = []
        for _ in range(r.randint(1, 4)):
            c = r.random()
            if c < 0.6:
                u.add("v_word")
                parts.append(self.word().encode())
            elif c < 0.7:
                u.add("v_quoted")
                parts.append(b'"quoted value"')
            elif c < 0.78:
                u.add("v_hash")
                parts.append(b"# not a comment")
            elif c < 0.85:
                u.add("v_backslash")
                parts.append(b"back\\slash\\")
            elif c < 0.9:
                u.add("v_invalid")
                parts.append(r.choice(INVALID))
            elif c < 0.95:
                u.add("v_nul")
                parts.append(b"nul\0after" + (r.choice(INVALID) if r.random() < 0.5 else b"x"))
            else:
                u.add("v_unicode")
                parts.append("smtp:[relay.example]:587 ünïcödé".encode())
        v = b""
        for p in parts:
            v += (r.choice(SEPS) if v else b"") + p
        if r.random() < 0.08:
            u.add("v_empty")
            v = b""                                             # key without value
        return v

    def long_key(self):
        """Key around LMDB's 511-byte limit, sometimes with folding growth."""
        self.used.add("long_key")
        r = self.r
        n = r.choice([508, 509, 510, 511, 512, 520])
        tail = r.choice(["", "İ", "ΐ", "ß", "ẞ", "A"]).encode()
        return b"k" * (n - len(tail)) + tail


def generate(seed, rich=False, used=None):
    """The source of `seed`: 3-25 lines, or 80-160 when rich (a rich source
    carries one long key when seed % 6 == 5 and lacks the final newline when
    seed % 4 == 3). `used` collects the features."""
    if seed % 10 == 7:
        return generate_soup(seed, rich, used)
    g = Gen(seed)
    r, u = g.r, g.used
    pool = []
    lines = []
    eol = b"\r\n" if r.random() < 0.15 else b"\n"
    if eol == b"\r\n":
        u.add("crlf")
    if r.random() < 0.15:
        u.add("lead_top")
        lines.append(r.choice([b"  lead value", b"\tleading", b" # indented comment at top",
                               b"   " + g.word().encode() * 5]))
    count = r.randint(80, 160) if rich else r.randint(3, 25)
    long_at = r.randrange(count) if rich and seed % 6 == 5 else -1
    for i in range(count):
        c = r.random()
        if c < 0.08:
            u.add("comment")
            lines.append(r.choice([b"# comment", b"#", b"   # indented", b"\t#tab comment",
                                   b"# Stra\xc3\x9fe \xff \0 comment"]))
            continue
        if c < 0.13:
            u.add("blank")
            lines.append(r.choice([b"", b"   ", b"\t", b"\r", b" \f "]))
            continue
        if c < 0.16:
            u.add("nul_first")
            lines.append(b"\0" + g.word().encode() + b" v")
            continue
        if rich:
            key = g.long_key() if i == long_at else g.key(pool)
        else:
            key = g.long_key() if r.random() < 0.004 else g.key(pool)
        try:
            pool.append(key.decode("utf-8"))
        except UnicodeDecodeError:
            pass
        val = g.value()
        if val or r.random() < 0.5:
            line = key + r.choice(SEPS) + val
        else:
            u.add("no_value")
            line = key
        if r.random() < 0.15:
            u.add("trailing_ws")
            line += r.choice([b" ", b"\t", b"\r", b" \f", b"\v"])
        lines.append(line)
        # continuation lines, possibly with comments and blanks between
        while r.random() < 0.18:
            u.add("continuation")
            if r.random() < 0.3:
                u.add("cont_comment_blank")
                lines.append(r.choice([b"# comment in continuation", b"", b"  # indented", b"\t"]))
            cont = r.choice([b" ", b"\t", b"  ", b"\f"]) + g.value()
            if cont.strip(common.WS) == b"":
                cont += b"x"
            lines.append(cont)
    data = eol.join(lines)
    # (a rich source of a seed that is 3 mod 4 always lacks the final newline)
    if r.random() < 0.85 and not (rich and seed % 4 == 3):
        data += eol
    else:
        u.add("no_final_eol")
    if used is not None:
        used |= u
    return data


SOUP = [b" ", b"\t", b"\r", b"\f", b"\v", b"\n", b"\n", b"\n", b"\0", b'"', b"\\", b"#", b":",
        b"a", b"B", b"k", b"@", b"x.COM", "ß".encode(), "Σ".encode(), "İ".encode(), "ﬁ".encode(),
        b"\xc3", b"\x80", b"\xff", b"\xed\xa0\x80", b"  ", b"\n ", b"\n#", b"\n\t"]


def generate_soup(seed, rich=False, used=None):
    """Byte soup over the parser's special characters."""
    r = random.Random(seed ^ 0x5EED)
    if used is not None:
        used.add("soup")
    n = r.randint(300, 1500) if rich else r.randint(5, 300)
    return b"".join(r.choice(SOUP) for _ in range(n))


def fold_sweep_source():
    """Every code point below U+20000 that has a case mapping or folding in
    Python's Unicode tables, as its own key, plus the upper/title forms: the
    stored keys expose every ICU folding difference at once."""
    import unicodedata
    lines = []
    for cp in range(0x80, 0x20000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        if unicodedata.category(ch) == "Cn":
            continue
        if ch.casefold() != ch or ch.lower() != ch or ch.upper() != ch or \
                unicodedata.category(ch) in ("Lu", "Ll", "Lt"):
            lines.append(("c%s%sx v%04X" % (ch, ch.upper(), cp)).encode())
            lines.append(("t%sx t%04X" % (ch.title(), cp)).encode())
    lines.append(("ΐ" * 170 + " grows-past-the-limit").encode())
    return b"\n".join(lines) + b"\n"


def flag_sets_for(seed, ttype="lmdb"):
    r = random.Random(seed * 7919 + 1)
    if ttype == "lmdb":
        return [[]] + r.sample(common.FLAG_SETS[1:], 2)
    return [[]] + r.sample(common.TYPE_FLAG_SETS[ttype][1:], 1)


def env_seeds():
    """The seeds MAPCTL_RANDOM_SEED / _CASES name, or None."""
    spec = os.environ.get("MAPCTL_RANDOM_SEED", "").strip()
    if not spec:
        return None
    if "," in spec:
        return [int(s) for s in spec.split(",") if s.strip()]
    try:
        count = int(os.environ.get("MAPCTL_RANDOM_CASES", LONG_SMALL))
    except ValueError:
        count = LONG_SMALL
    return list(range(int(spec), int(spec) + count))


def type_count():
    try:
        return int(os.environ.get("MAPCTL_RANDOM_TYPE_CASES", DEFAULT_TYPE_COUNT))
    except ValueError:
        return DEFAULT_TYPE_COUNT


def plan(tools):
    """[(seed, rich, type seeds or all)] and whether the sweep runs."""
    given = env_seeds()
    if given is not None:
        return [(given, os.environ.get("MAPCTL_RANDOM_RICH") == "1", None)], False
    if os.environ.get("MAPCTL_TEST_SCOPE", "default") == "long":
        small = list(range(1, LONG_SMALL + 1))
        return [(small, False, small[:type_count()]), (RICH_SEEDS, True, None)], True
    return [(RICH_SEEDS, True, None)], True


def sweep_cases(tools, cases, sources, full):
    """The ICU folding sweep (the last line is an over-long key in UTF-8
    mode only, so lmdb also runs it without that line). Every type in both
    modes; lmdb also with -f and -n (long: on both sweeps in both modes)."""
    sweep = fold_sweep_source()
    sweep_ok = sweep[:sweep.rindex(b"\n", 0, len(sweep) - 1) + 1]
    for ttype in tools.types:
        sweeps = (("fold-sweep", sweep_ok), ("fold-sweep-long", sweep))
        if ttype != "lmdb":
            sweeps = sweeps[1:]  # the long key is the interesting part
        for label, src in sweeps:
            sources[label] = src
            if ttype != "lmdb":
                runs = [(m, []) for m in common.MODES]
            elif full:
                runs = [(m, f) for m in common.MODES for f in ([], ["-f"], ["-n"])]
            else:
                # -f and -n once each, on the sweep every key of which is stored
                runs = [(m, []) for m in common.MODES]
                if label == "fold-sweep":
                    runs += [("utf8", ["-f"]), ("ascii", ["-n"])]
            for mode, flags in runs:
                cases.append(differential.Case(
                    "%s [%s %s %s]" % (label, ttype, mode, " ".join(flags) or "-"), "sweep",
                    src, mode, flags, ttype, tag=(label, False, ttype)))


def main():
    tools = common.find_tools()
    cfgs = common.Configs()
    groups, with_sweep = plan(tools)
    cases = []
    sources = {}
    used = set()
    covered = {"modes": set(), "flags": set(), "prebuilt": set()}
    for seeds, rich, type_seeds in groups:
        print("seeds: %s..%s (%d, %s)" % (seeds[0], seeds[-1], len(seeds),
                                          "rich" if rich else "small"))
        for s in seeds:
            sources[(s, rich)] = generate(s, rich, used)
        for t, ttype in enumerate(tools.types):
            for s in seeds if ttype == "lmdb" or type_seeds is None else type_seeds:
                for f, flags in enumerate(flag_sets_for(s, ttype)):
                    # small sources: both modes; rich ones: one, alternating
                    for mode in common.MODES if not rich else [common.MODES[(s + f + t) % 2]]:
                        covered["modes"].add((ttype, mode))
                        covered["flags"].add((ttype, tuple(flags)))
                        covered["prebuilt"].add(bool(s % 2))
                        # odd seeds rebuild over an existing table
                        cases.append(differential.Case(
                            "seed %d%s [%s %s %s]" % (s, " rich" if rich else "", ttype, mode,
                                                      " ".join(flags) or "-"),
                            "rnd", sources[(s, rich)], mode, flags, ttype,
                            prebuilt=bool(s % 2), tag=(s, rich, ttype)))
    if with_sweep:
        sweep_cases(tools, cases, sources, os.environ.get("MAPCTL_TEST_SCOPE") == "long")
    print("postmap: %s\nmapctl:  %s%s\ntypes: %s; %d cases" % (
        tools.postmap, tools.mapctl,
        "  (SELFTEST=%s)" % tools.selftest if tools.selftest else "", ",".join(tools.types),
        len(cases)))
    problems = []
    if env_seeds() is None:
        # The default run is small on purpose; it must not lose a feature.
        if FEATURES - used:
            problems.append("the seeds no longer exercise: %s" % " ".join(sorted(FEATURES - used)))
        modes = {(t, m) for t in tools.types for m in common.MODES}
        if covered["modes"] != modes or covered["prebuilt"] != {True, False}:
            problems.append("the seeds miss a type's folding mode or the prebuilt path: %r"
                            % covered)
        for ttype in tools.types:
            sets = common.FLAG_SETS if ttype == "lmdb" else common.TYPE_FLAG_SETS[ttype]
            miss = [f for f in sets if (ttype, tuple(f)) not in covered["flags"]]
            if miss:
                problems.append("%s: no seed picks the flag sets %r" % (ttype, miss))
    for p in problems:
        print("FAIL coverage: " + p)
    passed = failed = 0
    bad = set()
    t0 = time.time()

    def on_result(res):
        nonlocal passed, failed
        if res.ok:
            passed += 1
            return
        failed += 1
        seed, rich, ttype = res.case.tag
        key = seed if isinstance(seed, str) else (seed, rich)
        path = os.path.join(common.keep_dir(), "random-seed-%s%s" % (seed, "-rich" if rich else ""))
        with open(path, "wb") as f:
            f.write(sources[key])
        res.keep_path = path
        bad.add(str(seed))
        common.report_failure(res)
        if not isinstance(seed, str):
            print("    reproduce: MAPCTL_DIFF_TYPES=%s MAPCTL_RANDOM_SEED=%d MAPCTL_RANDOM_CASES=1%s %s"
                  % (ttype, seed, " MAPCTL_RANDOM_RICH=1" if rich else "", sys.argv[0]))

    try:
        reads = differential.run_cases(tools, cfgs, cases, (), on_result,
                                       union=os.environ.get("MAPCTL_TEST_SCOPE") != "long")
    finally:
        cfgs.cleanup()
    if bad:
        print("failing seeds: %s" % ",".join(sorted(bad)))
    print("%d readings reused of %d; %d unionmap readings, %d fell back; %.1fs" % (
        reads.hits, reads.hits + reads.misses, reads.union_used, reads.union_fallback,
        time.time() - t0))
    print("processes: %s" % common.procs_summary())
    print("%d passed, %d failed" % (passed, failed + len(problems)))
    return 1 if failed or problems else 0


if __name__ == "__main__":
    sys.exit(main())
