#!/usr/bin/env python3
"""Differential test: mapctl build vs postmap 3.7 over the hand-written corpus.

Each case builds a corpus file with `postmap TYPE:NAME` and with `mapctl build
TYPE:NAME` and compares what the real postmap (and mdb_dump, cdb -d,
db5.3_dump) reads back; see common.py for the comparisons and
differential.py for how the processes are batched.

MAPCTL_TEST_SCOPE chooses the matrix:

  default   (the README's test command) every corpus file x every type in
            MAPCTL_DIFF_TYPES with the default flags, in one folding mode
            that alternates from file to file and from type to type (so
            every file is built in both modes); every flag set of each type
            (common.TYPE_FLAG_SETS) over one source made of FLAG_FILES, the
            files whose outcome the flags change, modes alternating;
            `postmap -q KEY` for two keys of the first case of each type;
            the -i/-d comparison with one input made of every UPDATE_INPUTS
            file, for every type that updates in place and every update flag
            set, modes alternating.
  long      (meson --suite long) the full matrix: every file x type x mode
            x every flag set of the type; every update input x type x mode x
            update flag set; MAPCTL_INTEROP_QCAP (default 1) single-key
            queries per case.

Naming corpus files on the command line runs the long matrix over them.

Usage: postmap_differential.py [CORPUS_FILE_NAME...]
Exit: 0 all passed, 1 any failed, 77 skipped (tools missing, not required).
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402
import differential  # noqa: E402

# The files whose outcome each flag changes: duplicates (-r, -w), NUL
# (-N, -n), folding (-f, -u, and -r -f together), non-UTF-8 (-u).
FLAG_FILES = ["dup_fold_utf8", "dup_mixed_errors", "nul_key", "nul_value", "fold_sigma",
              "invalid_utf8_misc"]

# Inputs for the -i / -d comparison: none is fatal for lmdb (postmap -i
# commits record by record, mapctl's batch is one transaction, so a fatal
# record in the middle would leave different tables).
UPDATE_INPUTS = ["basic", "dup_ascii", "dup_fold_utf8", "control_chars", "keys_special",
                 "fold_sharp_s", "empty_values", "crlf"]
UPDATE_FLAG_SETS = [[], ["-r"], ["-w"], ["-n"], ["-f"]]
UPDATE_DELETES = [b"GOOD-KEY", b"alice@example.com", b"nothere", b"STRASSE", b"a@x"]


def corpus_dir():
    base = os.environ.get("MAPCTL_TEST_DATA") or os.path.dirname(os.path.abspath(__file__))
    return os.path.join(base, "corpus")


def scope():
    s = os.environ.get("MAPCTL_TEST_SCOPE", "default").strip() or "default"
    if s not in ("default", "long"):
        print("bad MAPCTL_TEST_SCOPE=%r (default or long)" % s)
        sys.exit(2)
    return s


def label(n, ttype, mode, flags):
    return "%s [%s%s %s]" % (n, "" if ttype == "lmdb" else ttype + " ", mode,
                             " ".join(flags) or "-")


def mix(sources, names):
    """One richer source made of several corpus files (each ends with a
    newline and starts with a key, so none changes the others' lines)."""
    return b"".join(sources[n] for n in names)


def build_cases(tools, names, sources, full):
    cases = []
    singles_given = set()

    def add(n, ttype, mode, flags, src=None):
        singles = common.qcap() if full else 0
        if not full and ttype not in singles_given and not flags:
            singles, _ = 2, singles_given.add(ttype)
        cases.append(differential.Case(label(n, ttype, mode, flags), n,
                                       sources[n] if src is None else src, mode, flags, ttype,
                                       singles=singles))

    flag_mix = mix(sources, FLAG_FILES)
    for t, ttype in enumerate(tools.types):
        if full:
            for n in names:
                for mode in common.MODES:
                    for flags in common.TYPE_FLAG_SETS[ttype]:
                        add(n, ttype, mode, flags)
            continue
        # each file once per type, the folding mode alternating from file to
        # file and from type to type: every file is built in both modes
        for i, n in enumerate(names):
            add(n, ttype, common.MODES[(i + t) % 2], [])
        # every flag set of the type over the files each flag changes, as
        # one source
        for f, flags in enumerate(common.TYPE_FLAG_SETS[ttype][1:]):
            add("flag_mix", ttype, common.MODES[(f + t) % 2], flags, flag_mix)
    return cases


def update_cases(tools, cdir, full):
    srcs = {}
    for n in UPDATE_INPUTS:
        with open(os.path.join(cdir, n), "rb") as f:
            srcs[n] = f.read()
    inputs = list(srcs.items()) if full else [("update_mix", mix(srcs, UPDATE_INPUTS))]
    cases = []
    for t, ttype in enumerate(tools.types):
        if ttype == "cdb":
            continue
        for n, src in inputs:
            combos = [(m, fl) for m in common.MODES for fl in UPDATE_FLAG_SETS]
            if not full:
                # every flag set once per type, the mode alternating
                combos = [(common.MODES[(f + t) % 2], fl) for f, fl in enumerate(UPDATE_FLAG_SETS)]
            for k, (mode, flags) in enumerate(combos):
                lab = "%s [update %s %s %s]" % (n, ttype, mode, " ".join(flags) or "-")
                cases.append(differential.UpdateCase(
                    lab, src, mode, flags, ttype, UPDATE_DELETES,
                    singles=common.qcap() if full else (2 if k == 0 else 0)))
    return cases


def main(argv):
    tools = common.find_tools()
    cdir = corpus_dir()
    full = scope() == "long" or len(argv) > 1
    names = argv[1:] or sorted(n for n in os.listdir(cdir)
                               if not n.startswith(".") and not n.endswith(".md"))
    sources = {}
    for n in names + [n for n in FLAG_FILES if n not in names]:
        with open(os.path.join(cdir, n), "rb") as f:
            sources[n] = f.read()
    cfgs = common.Configs()
    print("postmap: %s\nmapctl:  %s%s" % (tools.postmap, tools.mapctl,
          "  (SELFTEST=%s)" % tools.selftest if tools.selftest else ""))
    print("types:   %s; scope: %s" % (",".join(tools.types), "long" if full else "default"))
    cases = build_cases(tools, names, sources, full)
    updates = update_cases(tools, cdir, full) if len(argv) < 2 else []
    passed = failed = 0
    failed_files = set()
    t0 = time.time()

    def on_result(res):
        nonlocal passed, failed
        if res.ok:
            passed += 1
        else:
            failed += 1
            failed_files.add(res.label.split(" ")[0])
            common.report_failure(res)

    try:
        reads = differential.run_cases(tools, cfgs, cases, updates, on_result, union=not full)
    finally:
        cfgs.cleanup()
    if failed_files:
        print("corpus files with failures: %s" % " ".join(sorted(failed_files)))
        print("(sources are in %s)" % cdir)
    print("%d build cases, %d update cases; %d readings reused of %d; %d unionmap readings, "
          "%d fell back; %.1fs" % (len(cases), len(updates), reads.hits,
                                   reads.hits + reads.misses, reads.union_used,
                                   reads.union_fallback, time.time() - t0))
    print("processes: %s" % common.procs_summary())
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
