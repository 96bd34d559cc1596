#!/usr/bin/env python3
"""dump_rewrite.py - a dump never mixes two versions of a table.

`mapctl dump` reads a table in chunks, each under its own read unit, and
holds no lock while its output waits in a full pipe. So postmap can
rewrite the table in place (one transaction, the same file) between two
chunks. The dump must then say so and exit 2, never print half the old
table and half the new one. And a dump that is not disturbed is complete.

Env: MAPCTL, POSTMAP, MAPCTL_INTEROP_REQUIRED (1: missing tools fail).
"""

import os
import shutil
import subprocess
import sys
import tempfile
import time

MAPCTL = os.environ.get("MAPCTL", "")
POSTMAP = os.environ.get("POSTMAP") or shutil.which("postmap") or "/usr/sbin/postmap"
REQUIRED = os.environ.get("MAPCTL_INTEROP_REQUIRED", "0") == "1"


def main():
    if not (MAPCTL and os.access(MAPCTL, os.X_OK) and os.access(POSTMAP, os.X_OK)):
        print("missing mapctl or postmap")
        return 1 if REQUIRED else 77
    passed = failed = 0
    d = tempfile.mkdtemp(prefix="mapctl-dump-rewrite-")
    try:
        cfg = os.path.join(d, "cfg")
        os.mkdir(cfg)
        with open(os.path.join(cfg, "main.cf"), "w") as f:
            f.write("compatibility_level = 3.6\n")
        # Age main.cf: postmap waits for a just-written main.cf to settle.
        os.utime(os.path.join(cfg, "main.cf"), (time.time() - 3600,) * 2)
        src = os.path.join(d, "src")
        n = 60000  # many chunks of 4096 entries, far more than a pipe holds

        def write_source(tag):
            with open(src, "w") as f:
                for i in range(n):
                    f.write("user%06d@example.com relay-%s-%d.example.net\n" % (i, tag, i))

        write_source("old")
        subprocess.run([POSTMAP, "-c", cfg, "lmdb:" + src], check=True)

        # 1. Undisturbed: the dump is complete and in key order.
        out = subprocess.run([MAPCTL, "dump", "-c", cfg, "lmdb:" + src],
                             capture_output=True)
        lines = out.stdout.splitlines()
        if out.returncode == 0 and len(lines) == n and lines == sorted(lines):
            passed += 1
            print("ok   undisturbed dump is complete")
        else:
            failed += 1
            print("FAIL undisturbed dump: rc=%d lines=%d" % (out.returncode, len(lines)))

        # 2. Rewritten in place by postmap while the dump waits on its pipe.
        p = subprocess.Popen([MAPCTL, "dump", "-c", cfg, "lmdb:" + src],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = p.stdout.read(1024)  # the dump is running and now blocked
        time.sleep(0.3)
        write_source("new")
        rewrite = subprocess.run([POSTMAP, "-c", cfg, "lmdb:" + src],
                                 capture_output=True, timeout=60)
        rest = p.stdout.read()
        err = p.stderr.read().decode(errors="replace")
        p.wait(timeout=60)
        text = (first + rest).decode(errors="replace")
        mixed = "relay-old" in text and "relay-new" in text
        if (rewrite.returncode == 0 and p.returncode == 2 and "rewritten" in err
                and not mixed):
            passed += 1
            print("ok   a rewrite between chunks is reported, versions never mixed")
        else:
            failed += 1
            print("FAIL rewrite during dump: postmap rc=%d, mapctl rc=%s, mixed=%s, "
                  "stderr=%r" % (rewrite.returncode, p.returncode, mixed, err[:300]))
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
