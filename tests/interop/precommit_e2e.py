#!/usr/bin/env python3
"""The pre-commit hook end to end, offline: the real pre-commit (Debian's
package) runs `mapctl check` from a temporary git repository. A commit
with an inconsistent pair of maps is refused with the finding printed;
after the fix it is accepted. Two configurations are exercised: a
`repo: local` hook, and this repository's .pre-commit-hooks.yaml served
from a local git repository (pre-commit clones a path without network).

Env: MAPCTL (the built binary); MAPCTL_INTEROP_REQUIRED=1 makes a missing
pre-commit or git a failure instead of a skip (exit 77).
"""

import os
import shutil
import subprocess
import sys
import tempfile

MAPCTL = os.environ.get("MAPCTL", "mapctl")
REQUIRED = os.environ.get("MAPCTL_INTEROP_REQUIRED") == "1"
HERE = os.path.dirname(os.path.abspath(__file__))
HOOKS_FILE = os.path.join(HERE, "..", "..", ".pre-commit-hooks.yaml")

RELAY = "alice@example.com [smtp.a.example]:587\nbob@example.com [smtp.a.example]:587\n"
BAD_PASSWD = "alice@example.com alice:secret1\n[smtp.example.net]:587 default:secret2\n"
GOOD_PASSWD = BAD_PASSWD + "bob@example.com bob:secret3\n"
ARGS = ["--relay-maps", "sender_relay", "--password-maps", "sasl_passwd",
        "--relayhost", "[smtp.example.net]:587"]

passed = failed = 0


def result(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name}\n{detail}")


def run(argv, cwd, env):
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)


def git_env(home):
    env = dict(os.environ)
    bindir = os.path.dirname(os.path.abspath(MAPCTL))
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    env["HOME"] = home
    env["PRE_COMMIT_HOME"] = os.path.join(home, "pre-commit-cache")
    env["GIT_AUTHOR_NAME"] = env["GIT_COMMITTER_NAME"] = "test"
    env["GIT_AUTHOR_EMAIL"] = env["GIT_COMMITTER_EMAIL"] = "test@example.com"
    env.pop("MAIL_CONFIG", None)
    return env


def write(path, text, mode=0o600):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def yaml_list(items):
    return "[" + ", ".join("'" + a.replace("'", "''") + "'" for a in items) + "]"


def scenario(name, config_text, top, env):
    repo = os.path.join(top, name)
    os.makedirs(repo)
    run(["git", "init", "-q"], repo, env)
    write(os.path.join(repo, ".pre-commit-config.yaml"), config_text, 0o644)
    write(os.path.join(repo, "sender_relay"), RELAY, 0o644)
    write(os.path.join(repo, "sasl_passwd"), BAD_PASSWD)
    r = run(["pre-commit", "install"], repo, env)
    result(f"{name}: pre-commit install", r.returncode == 0, r.stdout + r.stderr)
    run(["git", "add", "-A"], repo, env)
    r = run(["git", "commit", "-q", "-m", "maps"], repo, env)
    out = r.stdout + r.stderr
    result(f"{name}: inconsistent maps are refused", r.returncode != 0, out)
    result(f"{name}: the finding is printed",
           "sender_relay:2: error:" in out and "[relay-credentials]" in out, out)
    result(f"{name}: no password in the output",
           "secret" not in out, out)
    log = run(["git", "log", "--oneline"], repo, env)
    result(f"{name}: nothing was committed", log.stdout.strip() == "", log.stdout)

    write(os.path.join(repo, "sasl_passwd"), GOOD_PASSWD)
    run(["git", "add", "-A"], repo, env)
    r = run(["git", "commit", "-q", "-m", "maps"], repo, env)
    result(f"{name}: the fixed maps are accepted", r.returncode == 0,
           r.stdout + r.stderr)


def main():
    for tool in ("git", "pre-commit"):
        if shutil.which(tool) is None:
            print(f"{tool} not found")
            sys.exit(1 if REQUIRED else 77)
    if not os.path.exists(MAPCTL) and shutil.which(MAPCTL) is None:
        print(f"mapctl not found: {MAPCTL}")
        sys.exit(1)
    with tempfile.TemporaryDirectory(prefix="mapctl-precommit-") as top:
        env = git_env(top)

        local = ("repos:\n- repo: local\n  hooks:\n  - id: mapctl-check\n"
                 "    name: mapctl check\n    entry: mapctl check\n"
                 "    language: system\n    pass_filenames: false\n"
                 f"    args: {yaml_list(ARGS)}\n")
        scenario("local-hook", local, top, env)

        # This repository's hook definition, served from a local clone.
        hooks = os.path.join(top, "hooks-repo")
        os.makedirs(hooks)
        run(["git", "init", "-q"], hooks, env)
        shutil.copy(HOOKS_FILE, os.path.join(hooks, ".pre-commit-hooks.yaml"))
        run(["git", "add", "-A"], hooks, env)
        run(["git", "commit", "-q", "-m", "hooks"], hooks, env)
        rev = run(["git", "rev-parse", "HEAD"], hooks, env).stdout.strip()
        remote = (f"repos:\n- repo: {hooks}\n  rev: {rev}\n  hooks:\n"
                  f"  - id: mapctl-check\n    args: {yaml_list(ARGS)}\n")
        scenario("hooks-file", remote, top, env)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
