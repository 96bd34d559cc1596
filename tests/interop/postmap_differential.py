#!/usr/bin/env python3
"""Differential test: mapctl build vs postmap 3.7 over the hand-written corpus.

For every file in corpus/ x both folding modes x the flag sets
{}, {-f}, {-r}, {-w}, {-N}, {-n}, {-u}, {-r -f}, build the source with
`postmap lmdb:NAME` and `mapctl build lmdb:NAME` and compare what the real
postmap reads back (see common.py for the full list of comparisons).

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
    cases = []
    for n in names:
        for mode in common.MODES:
            for flags in common.FLAG_SETS:
                cases.append(lambda n=n, mode=mode, flags=flags:
                             common.run_case(tools, cfgs, n, sources[n], mode, flags))
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
