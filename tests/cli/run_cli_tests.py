#!/usr/bin/env python3
"""Runs the mapctl CLI cases in CASEDIR/cases/*.json (or CASEDIR/*.json).

    run_cli_tests.py MAPCTL CASEDIR [NAME-SUBSTRING...]

Each case file holds a JSON list of cases.  A case:

  {
    "name":  "query: one key prints the value",
    "files": {"src": "alice@example.com relay-a\\n"},   # created in the case dir
    "modes": {"src": "0600"},                             # optional chmod
    "main_cf": "default_database_type = lmdb\\n",        # default; null: no main.cf
    "steps": [ STEP, ... ]        # or the STEP keys directly in the case
  }

A STEP:
  "args":   ["query", "lmdb:src", "alice@example.com"],   # mapctl's arguments
  "stdin":  "...",                 # default: empty stdin (/dev/null)
  "env":    {"MAIL_CONFIG": "{dir}/nowhere", "X": null},  # null unsets
  "exit":   0,                     # default 0
  "exit_not": [1],                 # instead of "exit": any code but these (and < 128)
  "stdout": "relay-a\\n",          # exact; omitted: not checked
  "stderr": "",                    # exact; omitted: not checked
  "stdout_re" / "stderr_re": "...",       # re.fullmatch, DOTALL
  "stderr_contains": ["..."], "stderr_not_contains": ["..."],
  "stdout_not_contains": ["..."],
  "stdout_json": true,             # each stdout line is one JSON object; bytes are UTF-8
                                   # "strict": and no lone surrogate escapes (RFC 8259 8.2)
  "present": ["src.lmdb"], "absent": ["src.lmdb"]   # paths after the step

Strings stand for bytes: they are encoded UTF-8 with surrogateescape, so
"\\udcff" is the single byte 0xFF.  Substitutions in args, env, files, stdin and
expectations: {dir} (the case's temp dir, also the cwd) and {conf} (its config
dir, holding main.cf; MAIL_CONFIG={conf} unless the step's env says otherwise).
In *_re patterns the substituted paths are regex-escaped.

The runner never uses /etc/postfix.  Prints "ok"/"FAIL" per case and
"N passed, M failed" last; exits 0 if all passed, else 1.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

DEFAULT_MAIN_CF = "compatibility_level = 3.6\ndefault_database_type = lmdb\n"


def b(s):
    return s.encode("utf-8", "surrogateescape")


def subst(s, ctx, regex=False):
    d, c = ctx["dir"], ctx["conf"]
    if regex:
        d, c = re.escape(d), re.escape(c)
    return s.replace("{dir}", d).replace("{conf}", c)


def show(data):
    return data.decode("utf-8", "backslashreplace")


def check_step(step, ctx, rc, out, err):
    problems = []

    if "exit_not" in step:
        if rc in step["exit_not"] or rc < 0 or rc >= 128:
            problems.append("exit %d, expected none of %r" % (rc, step["exit_not"]))
    elif rc != step.get("exit", 0):
        problems.append("exit %d, expected %d" % (rc, step.get("exit", 0)))

    for name, data in (("stdout", out), ("stderr", err)):
        if name in step:
            want = b(subst(step[name], ctx))
            if data != want:
                problems.append("%s differs:\n    got:  %r\n    want: %r" % (name, show(data), show(want)))
        if name + "_re" in step:
            pat = subst(step[name + "_re"], ctx, regex=True)
            if not re.fullmatch(pat, show(data), re.S):
                problems.append("%s does not match /%s/:\n    got:  %r" % (name, pat, show(data)))
        for needle in step.get(name + "_contains", []):
            if b(subst(needle, ctx)) not in data:
                problems.append("%s lacks %r: %r" % (name, needle, show(data)))
        for needle in step.get(name + "_not_contains", []):
            if b(subst(needle, ctx)) in data:
                problems.append("%s must not contain %r: %r" % (name, needle, show(data)))

    if step.get("stdout_json"):
        try:
            text = out.decode("utf-8")
        except UnicodeDecodeError as e:
            problems.append("JSON output is not UTF-8: %s" % e)
            text = ""
        for line in text.splitlines():
            try:
                obj = json.loads(line)
                if not isinstance(obj, dict):
                    problems.append("JSON line is not an object: %r" % line)
                elif step.get("stdout_json") == "strict":
                    # RFC 8259 8.2: a lone surrogate escape (\udcff) parses in some
                    # libraries but is not a Unicode string (jq turns it into U+FFFD,
                    # strict parsers reject it).  Strict JSON needs real characters.
                    for t in list(obj.keys()) + list(obj.values()):
                        try:
                            str(t).encode("utf-8")
                        except UnicodeEncodeError:
                            problems.append("JSON line holds a lone surrogate escape "
                                            "(not a Unicode string): %r" % line)
                            break
            except ValueError as e:
                problems.append("invalid JSON line %r: %s" % (line, e))

    for p in step.get("present", []):
        if not os.path.lexists(os.path.join(ctx["dir"], subst(p, ctx))):
            problems.append("%s missing after the step" % p)
    for p in step.get("absent", []):
        if os.path.lexists(os.path.join(ctx["dir"], subst(p, ctx))):
            problems.append("%s exists after the step" % p)
    return problems


def run_case(mapctl, case):
    d = tempfile.mkdtemp(prefix="mapctl-cli-")
    ctx = {"dir": os.path.realpath(d), "conf": os.path.join(os.path.realpath(d), "conf")}
    try:
        os.mkdir(ctx["conf"])
        main_cf = case.get("main_cf", DEFAULT_MAIN_CF)
        if main_cf is not None:
            with open(os.path.join(ctx["conf"], "main.cf"), "wb") as f:
                f.write(b(subst(main_cf, ctx)))
        for name, content in case.get("files", {}).items():
            p = os.path.join(ctx["dir"], subst(name, ctx))
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "wb") as f:
                f.write(b(subst(content, ctx)))
        for name, mode in case.get("modes", {}).items():
            os.chmod(os.path.join(ctx["dir"], subst(name, ctx)), int(mode, 8))

        steps = case.get("steps") or [case]
        for i, step in enumerate(steps):
            env = dict(os.environ)
            for k in ("MAIL_CONFIG", "MAIL_VERBOSE", "MAIL_DEBUG"):
                env.pop(k, None)
            env["MAIL_CONFIG"] = ctx["conf"]
            env["LC_ALL"] = "C.UTF-8"
            for k, v in step.get("env", {}).items():
                if v is None:
                    env.pop(k, None)
                else:
                    env[k] = subst(v, ctx)
            args = [mapctl] + [subst(a, ctx) for a in step.get("args", [])]
            stdin = step.get("stdin")
            try:
                p = subprocess.run(
                    args, cwd=ctx["dir"], env=env,
                    input=b(subst(stdin, ctx)) if stdin is not None else None,
                    stdin=subprocess.DEVNULL if stdin is None else None,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
            except subprocess.TimeoutExpired:
                return ["step %d (%s): timed out" % (i + 1, " ".join(args[1:]))]
            problems = check_step(step, ctx, p.returncode, p.stdout, p.stderr)
            if problems:
                head = "step %d: mapctl %s" % (i + 1, " ".join(args[1:]))
                if p.returncode != step.get("exit", 0) and "stderr" not in step:
                    problems.append("stderr was: %r" % show(p.stderr))
                return [head] + problems
        return []
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main(argv):
    if len(argv) < 3:
        print("usage: run_cli_tests.py MAPCTL CASEDIR [NAME-SUBSTRING...]")
        return 2
    mapctl, casedir, filters = os.path.abspath(argv[1]), argv[2], argv[3:]
    if not os.access(mapctl, os.X_OK):
        print("mapctl binary not executable: %s" % mapctl)
        print("0 passed, 1 failed")
        return 1
    sub = os.path.join(casedir, "cases")
    if os.path.isdir(sub):
        casedir = sub
    files = sorted(f for f in os.listdir(casedir) if f.endswith(".json"))
    passed = failed = 0
    for fname in files:
        with open(os.path.join(casedir, fname), encoding="utf-8") as f:
            try:
                cases = json.load(f)
            except ValueError as e:
                print("FAIL %s: bad JSON: %s" % (fname, e))
                failed += 1
                continue
        for case in cases:
            name = "%s: %s" % (fname[:-5], case.get("name", "?"))
            if filters and not any(x in name for x in filters):
                continue
            problems = run_case(mapctl, case)
            if problems:
                failed += 1
                print("FAIL %s" % name)
                for pr in problems:
                    print("    " + pr.replace("\n", "\n    "))
            else:
                passed += 1
                print("ok   %s" % name)
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
