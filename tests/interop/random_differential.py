#!/usr/bin/env python3
"""Randomised differential test: mapctl build vs postmap 3.7.

A seeded generator writes small source files that mix everything the
parser and the folding code must get right: NUL, CR/CRLF, quotes,
backslashes, TABs, form feeds, vertical tabs, invalid UTF-8, letters whose
case folding changes their length (ß, ẞ, Σ/ς, İ, ﬁ, Kelvin sign, ΐ),
leading whitespace at the top, comment and blank lines inside
continuations, duplicates after folding, and (rarely) over-long keys.
Each source is built in both folding modes with {} plus two more flag
sets picked by the seed (odd seeds over an already existing table), and compared exactly as postmap_differential.py
does (common.run_case).

Every table type in MAPCTL_DIFF_TYPES (default lmdb,cdb,hash,btree) is
tested: lmdb with every seed, the other types with the first
MAPCTL_RANDOM_TYPE_CASES seeds, {} plus one flag set of the type's
(common.TYPE_FLAG_SETS). The fold sweep with its over-long last key runs
for every type: that key is fatal for lmdb only.

Environment:
  MAPCTL_RANDOM_SEED   first seed (default 1), or a comma-separated seed list
  MAPCTL_RANDOM_CASES  number of seeds starting at MAPCTL_RANDOM_SEED (default 100)
  MAPCTL_RANDOM_TYPE_CASES  how many of those seeds cdb, hash and btree get
                       (default 25; all of them when MAPCTL_RANDOM_SEED is set)
  (plus everything common.py documents)

On a mismatch the source is kept (MAPCTL_INTEROP_KEEP, default
$TMPDIR/mapctl-interop-failures/random-seed-N) and its path and seed are
printed.  Exit: 0 all passed, 1 any failed, 77 skipped.
"""

import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402

DEFAULT_START = 1
DEFAULT_COUNT = 100

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


def rand_word(r):
    if r.random() < 0.6:
        w = r.choice(WORDS)
    else:
        w = "".join(r.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+")
                    for _ in range(r.randint(1, 8)))
    if r.random() < 0.25:
        pos = r.randint(0, len(w))
        w = w[:pos] + r.choice(FOLDERS) + w[pos:]
    return w


def recase(r, s):
    c = r.random()
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


def rand_key(r, pool):
    c = r.random()
    if pool and c < 0.3:
        k = recase(r, r.choice(pool)).encode()          # duplicate after folding
    elif c < 0.55:
        k = ("%s@%s.%s" % (rand_word(r), rand_word(r), r.choice(["com", "ORG", "de", "gr"]))).encode()
    elif c < 0.62:
        k = ('"%s %s"@%s' % (rand_word(r), rand_word(r), rand_word(r))).encode()
    elif c < 0.66:
        k = rand_word(r).encode() + b"\\ " + rand_word(r).encode()
    elif c < 0.69:
        k = rand_word(r).encode() + b":"
    elif c < 0.72:
        k = b'"' + rand_word(r).encode()                    # unbalanced
    elif c < 0.75:
        k = rand_word(r).encode() + b"\\"
    else:
        k = rand_word(r).encode()
    if r.random() < 0.05:
        pos = r.randint(0, len(k))
        k = k[:pos] + r.choice(INVALID) + k[pos:]
    if r.random() < 0.03:
        pos = r.randint(0, len(k))
        k = k[:pos] + b"\0" + k[pos:]
    return k


def rand_value(r):
    parts = []
    for _ in range(r.randint(1, 4)):
        c = r.random()
        if c < 0.6:
            parts.append(rand_word(r).encode())
        elif c < 0.7:
            parts.append(b'"quoted value"')
        elif c < 0.78:
            parts.append(b"# not a comment")
        elif c < 0.85:
            parts.append(b"back\\slash\\")
        elif c < 0.9:
            parts.append(r.choice(INVALID))
        elif c < 0.95:
            parts.append(b"nul\0after" + (r.choice(INVALID) if r.random() < 0.5 else b"x"))
        else:
            parts.append("smtp:[relay.example]:587 ünïcödé".encode())
    v = b""
    for p in parts:
        v += (r.choice(SEPS) if v else b"") + p
    if r.random() < 0.08:
        v = b""                                             # key without value
    return v


def long_key(r):
    """Key around LMDB's 511-byte limit, sometimes with folding growth."""
    n = r.choice([508, 509, 510, 511, 512, 520])
    tail = r.choice(["", "İ", "ΐ", "ß", "ẞ", "A"]).encode()
    return b"k" * (n - len(tail)) + tail


def generate(seed):
    if seed % 10 == 7:
        return generate_soup(seed)
    r = random.Random(seed)
    pool = []
    lines = []
    eol = b"\r\n" if r.random() < 0.15 else b"\n"
    if r.random() < 0.15:
        lines.append(r.choice([b"  lead value", b"\tleading", b" # indented comment at top",
                               b"   " + rand_word(r).encode() * 5]))
    for _ in range(r.randint(3, 25)):
        c = r.random()
        if c < 0.08:
            lines.append(r.choice([b"# comment", b"#", b"   # indented", b"\t#tab comment",
                                   b"# Stra\xc3\x9fe \xff \0 comment"]))
            continue
        if c < 0.13:
            lines.append(r.choice([b"", b"   ", b"\t", b"\r", b" \f "]))
            continue
        if c < 0.16:
            lines.append(b"\0" + rand_word(r).encode() + b" v")
            continue
        key = long_key(r) if r.random() < 0.004 else rand_key(r, pool)
        try:
            pool.append(key.decode("utf-8"))
        except UnicodeDecodeError:
            pass
        val = rand_value(r)
        line = key + (r.choice(SEPS) + val if val or r.random() < 0.5 else b"")
        if r.random() < 0.15:
            line += r.choice([b" ", b"\t", b"\r", b" \f", b"\v"])
        lines.append(line)
        # continuation lines, possibly with comments and blanks between
        while r.random() < 0.18:
            if r.random() < 0.3:
                lines.append(r.choice([b"# comment in continuation", b"", b"  # indented", b"\t"]))
            cont = r.choice([b" ", b"\t", b"  ", b"\f"]) + rand_value(r)
            if cont.strip(common.WS) == b"":
                cont += b"x"
            lines.append(cont)
    data = eol.join(lines)
    if r.random() < 0.85:
        data += eol
    return data


SOUP = [b" ", b"\t", b"\r", b"\f", b"\v", b"\n", b"\n", b"\n", b"\0", b'"', b"\\", b"#", b":",
        b"a", b"B", b"k", b"@", b"x.COM", "ß".encode(), "Σ".encode(), "İ".encode(), "ﬁ".encode(),
        b"\xc3", b"\x80", b"\xff", b"\xed\xa0\x80", b"  ", b"\n ", b"\n#", b"\n\t"]


def generate_soup(seed):
    """Byte soup over the parser's special characters."""
    r = random.Random(seed ^ 0x5EED)
    return b"".join(r.choice(SOUP) for _ in range(r.randint(5, 300)))


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


DEFAULT_TYPE_COUNT = 25


def flag_sets_for(seed, ttype="lmdb"):
    r = random.Random(seed * 7919 + 1)
    if ttype == "lmdb":
        return [[]] + r.sample(common.FLAG_SETS[1:], 2)
    return [[]] + r.sample(common.TYPE_FLAG_SETS[ttype][1:], 1)


def type_seeds(seed_list):
    if os.environ.get("MAPCTL_RANDOM_SEED"):
        return seed_list
    try:
        n = int(os.environ.get("MAPCTL_RANDOM_TYPE_CASES", DEFAULT_TYPE_COUNT))
    except ValueError:
        n = DEFAULT_TYPE_COUNT
    return seed_list[:n]


def seeds():
    spec = os.environ.get("MAPCTL_RANDOM_SEED", "").strip()
    try:
        count = int(os.environ.get("MAPCTL_RANDOM_CASES", DEFAULT_COUNT))
    except ValueError:
        count = DEFAULT_COUNT
    if "," in spec:
        return [int(s) for s in spec.split(",") if s.strip()]
    start = int(spec) if spec else DEFAULT_START
    return list(range(start, start + count))


def main():
    tools = common.find_tools()
    cfgs = common.Configs()
    seed_list = seeds()
    print("postmap: %s\nmapctl:  %s%s\nseeds: %s..%s (%d)\ntypes: %s" % (
        tools.postmap, tools.mapctl,
        "  (SELFTEST=%s)" % tools.selftest if tools.selftest else "",
        seed_list[0] if seed_list else "-", seed_list[-1] if seed_list else "-", len(seed_list),
        ",".join(tools.types)))
    sources = {s: generate(s) for s in seed_list}
    cases = []
    if not os.environ.get("MAPCTL_RANDOM_SEED"):
        # fixed extra cases: ICU folding sweep (the last line is an over-long
        # key in UTF-8 mode only, so also run it without that line)
        sweep = fold_sweep_source()
        sweep_ok = sweep[:sweep.rindex(b"\n", 0, len(sweep) - 1) + 1]
        for ttype in tools.types:
            sweeps = (("fold-sweep", sweep_ok), ("fold-sweep-long", sweep))
            if ttype != "lmdb":
                sweeps = sweeps[1:]  # the long key is the interesting part
            for label, src in sweeps:
                for mode in common.MODES:
                    for flags in ([], ["-f"], ["-n"]) if ttype == "lmdb" else ([],):
                        def case(src=src, label=label, mode=mode, flags=flags, ttype=ttype):
                            res = common.run_case(tools, cfgs, "sweep", src, mode, flags,
                                                  label="%s [%s %s %s]" % (
                                                      label, ttype, mode, " ".join(flags) or "-"),
                                                  ttype=ttype)
                            res.seed = label
                            return res
                        cases.append(case)
                        sources[label] = src
    for ttype in tools.types:
        for s in seed_list if ttype == "lmdb" else type_seeds(seed_list):
            for mode in common.MODES:
                for flags in flag_sets_for(s, ttype):
                    def case(s=s, mode=mode, flags=flags, ttype=ttype):
                        # odd seeds rebuild over an existing table
                        res = common.run_case(tools, cfgs, "rnd", sources[s], mode, flags,
                                              label="seed %d [%s %s %s]" % (
                                                  s, ttype, mode, " ".join(flags) or "-"),
                                              prebuilt=bool(s % 2), ttype=ttype)
                        res.seed = s
                        res.ttype = ttype
                        return res
                    cases.append(case)
    passed = failed = 0
    bad_seeds = set()
    t0 = time.time()

    def on_result(res):
        nonlocal passed, failed
        if res.ok:
            passed += 1
            return
        failed += 1
        path = os.path.join(common.keep_dir(), "random-seed-%s" % res.seed)
        with open(path, "wb") as f:
            f.write(sources[res.seed])
        res.keep_path = path
        bad_seeds.add(res.seed)
        common.report_failure(res)
        if isinstance(res.seed, int):
            print("    reproduce: MAPCTL_DIFF_TYPES=%s MAPCTL_RANDOM_SEED=%d MAPCTL_RANDOM_CASES=1 %s" % (
                getattr(res, "ttype", "lmdb"), res.seed, sys.argv[0]))

    try:
        common.run_all(cases, on_result)
    finally:
        cfgs.cleanup()
    if bad_seeds:
        print("failing seeds: %s" % ",".join(str(s) for s in sorted(bad_seeds, key=str)))
    print("%.1fs" % (time.time() - t0))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
