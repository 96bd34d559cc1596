#!/usr/bin/env python3
"""Differential test: mapctl build vs postmap 3.7 over the hand-written corpus.

For every table type in MAPCTL_DIFF_TYPES (default lmdb,cdb,hash,btree) x
every file in corpus/ x both folding modes x the type's flag sets (lmdb:
{}, {-f}, {-r}, {-w}, {-N}, {-n}, {-u}, {-r -f}; the others {}, {-r}, {-f}
and the NUL flag that is not their default), build the source with
`postmap TYPE:NAME` and `mapctl build TYPE:NAME` and compare what the real
postmap (and mdb_dump, cdb -d, db5.3_dump) reads back (see common.py for
the full list of comparisons).

Then, for the types mapctl updates in place (lmdb, hash, btree), a few
corpus files are fed to `postmap -i` and `mapctl build -i` over the same
table, and some keys deleted with -d: both tables must read the same.

Usage: postmap_differential.py [CORPUS_FILE_NAME...]     (default: all)
Exit: 0 all passed, 1 any failed, 77 skipped (tools missing, not required).
"""

import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402


def corpus_dir():
    base = os.environ.get("MAPCTL_TEST_DATA") or os.path.dirname(os.path.abspath(__file__))
    return os.path.join(base, "corpus")


# Inputs for the -i / -d comparison: none is fatal for lmdb (postmap -i
# commits record by record, mapctl's batch is one transaction, so a fatal
# record in the middle would leave different tables).
UPDATE_INPUTS = ["basic", "dup_ascii", "dup_fold_utf8", "control_chars", "keys_special",
                 "fold_sharp_s", "empty_values", "crlf"]
UPDATE_FLAG_SETS = [[], ["-r"], ["-w"], ["-n"], ["-f"]]
UPDATE_DELETES = [b"GOOD-KEY", b"alice@example.com", b"nothere", b"STRASSE", b"a@x"]


def update_cases(tools, cfgs, cdir):
    cases = []
    for ttype in tools.types:
        if ttype == "cdb":
            continue
        for n in UPDATE_INPUTS:
            path = os.path.join(cdir, n)
            if not os.path.exists(path):
                continue
            with open(path, "rb") as f:
                src = f.read()
            for mode in common.MODES:
                for flags in UPDATE_FLAG_SETS:
                    label = "%s [update %s %s %s]" % (n, ttype, mode, " ".join(flags) or "-")
                    cases.append(lambda src=src, label=label, mode=mode, flags=flags, ttype=ttype:
                                 common.run_update_case(tools, cfgs, label, src, mode, flags,
                                                        ttype, UPDATE_DELETES))
    return cases


def main(argv):
    tools = common.find_tools()
    cdir = corpus_dir()
    names = argv[1:] or sorted(n for n in os.listdir(cdir)
                               if not n.startswith(".") and not n.endswith(".md"))
    sources = {}
    for n in names:
        with open(os.path.join(cdir, n), "rb") as f:
            sources[n] = f.read()
    cfgs = common.Configs()
    print("postmap: %s\nmapctl:  %s%s" % (tools.postmap, tools.mapctl,
          "  (SELFTEST=%s)" % tools.selftest if tools.selftest else ""))
    print("types:   %s" % ",".join(tools.types))
    cases = []
    for ttype in tools.types:
        for n in names:
            for mode in common.MODES:
                for flags in common.TYPE_FLAG_SETS[ttype]:
                    cases.append(lambda n=n, mode=mode, flags=flags, ttype=ttype:
                                 common.run_case(tools, cfgs, n, sources[n], mode, flags,
                                                 ttype=ttype))
    if len(argv) < 2:
        cases += update_cases(tools, cfgs, cdir)
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
        common.run_all(cases, on_result)
    finally:
        cfgs.cleanup()
    if failed_files:
        print("corpus files with failures: %s" % " ".join(sorted(failed_files)))
        print("(sources are in %s)" % cdir)
    print("%.1fs" % (time.time() - t0))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
