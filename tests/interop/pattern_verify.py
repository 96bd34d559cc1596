#!/usr/bin/env python3
"""`mapctl verify regexp:F` / `pcre:F` against the load warnings of the real
postmap 3.7, for every table of pattern_corpus/.

Per table: ONE `postmap -c CF -q KEY TYPE:F` (it opens the table, so it logs
every load warning; KEY matches no rule) and ONE `mapctl verify -c CF
TYPE:F`.  They must agree rule by rule:
  * mapctl prints one `F:LINE: error: TEXT` per postmap warning, in order,
    at the line postmap names (readllines' warning names none: any line);
  * TEXT is postmap's text, or -- where postmap quotes a rule's result or
    extra text (a password map's rules hold passwords) -- its words before
    the quote, with " in the result" for the $-syntax warnings;
  * exit 1 when postmap warned, 0 (and "TYPE:F: ok") when it did not.

Environment: POSTMAP, MAPCTL (default: newest ../../build*/tools/mapctl),
MAPCTL_INTEROP_REQUIRED ("1": a missing postmap or pcre fails, else skip 77).
Exit: 0 all agree, 1 some differ, 77 skipped.
"""

import glob
import os
import re
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REQUIRED = os.environ.get("MAPCTL_INTEROP_REQUIRED") == "1"
POSTMAP_RULE = re.compile(r"^postmap: warning: (?:pcre|regexp) map .*?, line (\d+): (.*)$")
READLLINES = re.compile(r"^postmap: warning: .*?: (logical line must not start with whitespace): ")
MAPCTL_RULE = re.compile(r"^mapctl: .*?:(\d+): error: (.*)$")
LOOKUP_ONLY = ("empty string result", "should return NO RESULT")


def skip(msg):
    print("pattern_verify: " + msg, file=sys.stderr)
    sys.exit(1 if REQUIRED else 77)


def newest_mapctl():
    root = os.path.dirname(os.path.dirname(HERE))
    found = glob.glob(os.path.join(root, "build*", "tools", "mapctl"))
    return max(found, key=os.path.getmtime) if found else None


def postmap_warnings(postmap, cf, spec, cwd):
    err = subprocess.run([postmap, "-c", cf, "-q", "\x01no-rule-matches-this", spec],
                         capture_output=True, cwd=cwd, timeout=60).stderr.decode("utf-8", "replace")
    out = []
    for line in err.splitlines():
        if any(s in line for s in LOOKUP_ONLY):
            continue
        m = POSTMAP_RULE.match(line)
        if m:
            out.append((int(m.group(1)), m.group(2)))
            continue
        m = READLLINES.match(line)
        out.append((None, m.group(1) if m else line.split("warning: ", 1)[-1]))
    return out


def same_text(got, want):
    if got == want:
        return True
    # The quote left out: postmap's words before it, maybe "... in the result".
    if '"' not in want:
        return False
    return want.startswith(got.replace(" in the result", "")) and (
        want[len(got.replace(" in the result", "")):].lstrip(":").lstrip().startswith('"'))


def main():
    postmap = os.environ.get("POSTMAP") or "/usr/sbin/postmap"
    mapctl = os.environ.get("MAPCTL") or newest_mapctl()
    if not os.access(postmap, os.X_OK):
        skip("no postmap at %s" % postmap)
    if not mapctl or not os.access(mapctl, os.X_OK):
        skip("no mapctl (set MAPCTL)")
    mapctl = os.path.abspath(mapctl)
    corpus = os.path.join(HERE, "pattern_corpus")
    started = time.time()
    bad = checked = 0
    with tempfile.TemporaryDirectory(prefix="mapctl-pattern-verify-") as cf:
        with open(os.path.join(cf, "main.cf"), "w") as f:
            f.write("compatibility_level = 3.6\n")
        old = time.time() - 3600
        os.utime(os.path.join(cf, "main.cf"), (old, old))
        maps = subprocess.run([os.path.join(os.path.dirname(postmap), "postconf"), "-c", cf, "-m"],
                              capture_output=True, text=True).stdout.split()
        types = ["regexp"] + (["pcre"] if "pcre" in maps else [])
        if "pcre" not in types and REQUIRED:
            skip("postmap has no pcre support (install postfix-pcre)")
        for typ in types:
            for path in sorted(glob.glob(os.path.join(corpus, "*." + typ))):
                name = os.path.basename(path)
                spec = "%s:%s" % (typ, name)
                want = postmap_warnings(postmap, cf, spec, corpus)
                r = subprocess.run([mapctl, "verify", "-c", cf, spec], capture_output=True,
                                   cwd=corpus, timeout=60)
                got = []
                for line in r.stderr.decode("utf-8", "replace").splitlines():
                    m = MAPCTL_RULE.match(line)
                    got.append((int(m.group(1)), m.group(2)) if m else (None, line))
                problems = []
                want_rc = 1 if want else 0
                if r.returncode != want_rc:
                    problems.append("exit %d, want %d" % (r.returncode, want_rc))
                if not want and r.stdout.decode() != spec + ": ok\n":
                    problems.append("stdout %r" % r.stdout)
                if len(got) != len(want):
                    problems.append("%d errors, postmap %d warnings" % (len(got), len(want)))
                for (gl, gt), (wl, wt) in zip(got, want):
                    if (wl is not None and gl != wl) or gl is None or not same_text(gt, wt):
                        problems.append("%s: %r | postmap line %s: %r" % (gl, gt, wl, wt))
                checked += 1
                if problems:
                    bad += 1
                    print("DIFF %s:" % spec)
                    for p in problems[:5]:
                        print("    " + p)
    print("pattern_verify: %d tables (%s), %d differ, %.1f s"
          % (checked, ", ".join(types), bad, time.time() - started))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
