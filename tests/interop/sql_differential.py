#!/usr/bin/env python3
"""mapctl's sqlite:, pgsql: and mysql: answers against postmap 3.7's.

Python 3.11 standard library only.  One process holds private PostgreSQL and
MariaDB servers (dbservers.py) for the whole run, loads the same data into
the three databases (PostfixAdmin-like tenant tables: relay per sender,
credentials per sender, @domain rows; and a table of awkward keys), writes one
.cf per case and type, and feeds the same keys through

    postmap -c CONF [-f] -q - TYPE:FILE.cf          (the oracle)
    $MAPCTL_SQL_QUERY -c CONF [-f] TYPE:FILE.cf -    (mapctl)

once per case and type (plus one case with a single key on the command
line).  Besides, sql_commands.py's cases run mapctl's query, query sender,
check and whatif on the same server (--sql-timeout, --set on the main.cf
form), in the same pool.  What is compared:

  * not fatal in postmap: stdout byte for byte, exit status (0 found, 1 not),
    and the warnings mapctl words as postmap does (empty lookup result,
    empty query string, non-UTF-8 key), as a list;
  * fatal in postmap: mapctl exits 2, and the class of the first message
    matches (bad number, empty dbname, invalid template, query error, ...);
    where both name a server's or library's cause, the causes are equal.
    postmap's stdout must be a prefix of mapctl's: postmap exits on a fatal
    without flushing what it had buffered for a pipe.
  * mapctl's stderr never holds the .cf password.

Keys: the awkward ones written out below, tenant senders and their partial
keys (user@, @domain, domain), very long keys, and keys generated from a
fixed seed out of quotes, backslashes, %, _, UTF-8, <>, ';' and '--'.

Environment:
  POSTMAP                  postmap (default /usr/sbin/postmap)
  MAPCTL_SQL_QUERY         mapctl's side, a command prefix split like a shell
                           would (default: the newest build*/tests/sql_driver)
  MAPCTL                   mapctl, for sql_commands.py (default: the newest
                           build*/tools/mapctl; none: those cases are skipped)
  MAPCTL_SQL_ONLY          run only the cases whose name holds this text
  MAPCTL_INTEROP_REQUIRED  "1": missing tools are a failure, else exit 77
  MAPCTL_INTEROP_JOBS      parallel cases (default 8; meson sets 2)
Exit: 0 all passed, 1 any failed, 77 skipped.
"""

import concurrent.futures
import glob
import os
import random
import re
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402
import dbservers  # noqa: E402
import sql_cases  # noqa: E402
import sql_commands  # noqa: E402

POSTMAP = os.environ.get("POSTMAP", "/usr/sbin/postmap")
PW = "s3cr'et\\pw"  # quotes and a backslash: the clients must pass it whole


def driver_command():
    env = os.environ.get("MAPCTL_SQL_QUERY")
    if env:
        return shlex.split(env)
    top = os.path.dirname(os.path.dirname(HERE))
    found = sorted(glob.glob(os.path.join(top, "build*", "tests", "sql_driver")),
                   key=os.path.getmtime)
    return [found[-1]] if found else []


def mapctl_command():
    if os.environ.get("MAPCTL"):
        return os.environ["MAPCTL"]
    top = os.path.dirname(os.path.dirname(HERE))
    found = sorted(glob.glob(os.path.join(top, "build*", "tools", "mapctl")),
                   key=os.path.getmtime)
    return found[-1] if found else None


def skip_or_fail(why):
    if os.environ.get("MAPCTL_INTEROP_REQUIRED") == "1":
        print("FAIL: %s" % why)
        return 1
    print("SKIP: %s" % why)
    return 77


# ---------------------------------------------------------------- classes

# The first message of a failed run, reduced to what both tools must agree
# on.  postmap's wording first, then mapctl's; the group names the object.
CLASSES = [
    (r"missing '=' after attribute name", "syntax"),
    (r"missing attribute name", "syntax"),
    (r"bad string length 0 < 1: (\w+) =", r"empty:\1"),
    (r"(\w+) (?:must not be empty|is not set)", r"empty:\1"),
    (r"bad numerical configuration: (\w+)", r"number:\1"),
    (r"bad boolean configuration: (\w+)", r"boolean:\1"),
    (r"(?i)invalid (query|result) template", r"template:\1"),
    (r"(?i)can't open database", "open-database"),
    (r"open file ", "domain-file"),
    (r"open database ", "domain-table"),
    (r"query error|SQL (?:prepare|step|finalize) failed", "query-error"),
    (r"open \S+\.cf: ", "open-cf"),
    (r"support not built in", "not-built"),
]


def classify(line):
    for pat, cls in CLASSES:
        m = re.search(pat, line)
        if m:
            return m.expand(cls)
    return "other: " + line


def first_fatal(stderr, prefix):
    for line in stderr.splitlines():
        if line.startswith(prefix):
            return line[len(prefix):]
    return None


# Server and library causes: postmap logs them as a warning before its fatal
# line, mapctl puts them in its error.  Both print control bytes as '?';
# mapctl drops the trailing newline that postmap prints as a final '?'.
CAUSES = [
    r"connect to (?:pgsql|mysql) server \S+: (.*)",
    r"pgsql query failed: fatal error from host \S+: (.*)",
    r"mysql:\S+: query failed: (.*)",
    r"mysql query failed on host \S+: (?:query failed: )?(.*)",
    r"SQL (?:prepare|step) failed(?: for query '.*')?: (.*)",
    r"Expansion limit exceeded for key:? '(.*)'",
    r"expansion limit exceeded for key: '(.*)'",
]


def causes(stderr):
    out = []
    for line in stderr.splitlines():
        for pat in CAUSES:
            m = re.search(pat, line)
            if m:
                c = m.group(1).rstrip("?")
                c = re.sub(r"^(?:query failed \(\w+\): |\(\w+\): )", "", c)
                out.append(c.replace("require_result_set = yes", "")
                           .replace("set(", "set (").strip())
                break
    return out


SAME_WARNINGS = re.compile(
    r'(empty lookup result for: ".*" -- ignored|empty query string -- ignored'
    r'|non-UTF-8 key ".*": malformed UTF-8 or invalid codepoint)')


def warnings(stderr, prefix):
    out = []
    for line in stderr.splitlines():
        if line.startswith(prefix):
            m = SAME_WARNINGS.search(line)
            if m:
                out.append(m.group(1))
    return out


# ------------------------------------------------------------------ runs

def run(cmd, keys_bytes, timeout=120):
    t = time.monotonic()
    p = subprocess.run(cmd, input=keys_bytes, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace"), \
        time.monotonic() - t


def run_oracle(cmd, keys_bytes):
    """postmap, as run() returns it, through common.run_postmap: without
    MALLOC_PERTURB_, and a fatal run ended in the second postmap sleeps
    before its exit (a third of the cases die; the sleeps were most of the
    test's time)."""
    t = time.monotonic()
    rc, out, err = common.run_postmap(cmd, stdin=keys_bytes)
    return rc, out, err.decode("utf-8", "replace"), time.monotonic() - t


def compare(case, typ, cf, conf, driver):
    """Runs one case for one type; returns a list of failure strings."""
    flags = list(case.get("flags", []))
    keys = case["keys"]
    table = "%s:%s" % (typ, cf)
    if case.get("single"):
        pm = [POSTMAP, "-c", conf] + flags + ["-q", keys[0], table]
        mc = driver + ["-c", conf] + flags + [table, keys[0]]
        data = b""
    else:
        pm = [POSTMAP, "-c", conf] + flags + ["-q", "-", table]
        mc = driver + ["-c", conf] + flags + [table, "-"]
        data = b"".join(k.encode("utf-8", "surrogateescape") + b"\n"
                        for k in keys)
    fails = []
    if case.get("mapctl_first"):
        # postmap creates a missing sqlite dbpath; mapctl must not.
        mrc, mout, merr, mt = run(mc, data)
        for path in case.get("must_not_exist", []):
            if os.path.exists(path):
                fails.append("mapctl created " + path)
        prc, pout, perr, pt = run_oracle(pm, data)
    else:
        prc, pout, perr, pt = run_oracle(pm, data)
        mrc, mout, merr, mt = run(mc, data)
    if PW in merr or PW.replace("\\", "\\\\") in merr:
        fails.append("mapctl's stderr holds the password")
    pfatal = first_fatal(perr, "postmap: fatal: ")
    expect = case.get("expect_class", {}).get(typ)
    if pfatal is None:
        if mrc != prc:
            fails.append("exit: postmap %d, mapctl %d" % (prc, mrc))
        if mout != pout:
            fails.append("stdout differs:\n  postmap %r\n  mapctl  %r" % (
                pout[:600], mout[:600]))
        if not case.get("ignore_warnings"):
            pw, mw = warnings(perr, "postmap: warning: "), \
                warnings(merr, "mapctl: warning: ")
            if pw != mw:
                fails.append("warnings differ:\n  postmap %r\n  mapctl  %r" % (
                    pw[:8], mw[:8]))
        if "mapctl: error:" in merr:
            fails.append("mapctl reported an error: " + merr.strip()[:300])
    else:
        mfatal = first_fatal(merr, "mapctl: error: ")
        if mrc != 2 or mfatal is None:
            fails.append("postmap died (%s) but mapctl exited %d: %s" % (
                pfatal[:200], mrc, merr.strip()[:300]))
        else:
            pc, mcls = classify(pfatal), classify(mfatal)
            want = expect or pc
            if mcls != want:
                fails.append("fatal class: postmap %r (%s), mapctl %r (%s)%s" % (
                    pc, pfatal[:160], mcls, mfatal[:160],
                    " expected %r" % expect if expect else ""))
            pcs, mcs = causes(perr), causes(merr)
            if pcs and mcs and pcs[-1] != mcs[-1] and not case.get("ignore_cause"):
                fails.append("cause differs:\n  postmap %r\n  mapctl  %r" % (
                    pcs[-1][:300], mcs[-1][:300]))
        if not mout.startswith(pout):
            fails.append("postmap's stdout %r is not a prefix of mapctl's %r" % (
                pout[:300], mout[:300]))
    return fails, pt, mt


def run_command(case):
    """An sql_commands case, in compare()'s shape (no postmap time)."""
    fails, took = case.run()
    return fails, 0.0, took


# ------------------------------------------------------------------ main

def setup(db):
    files = os.path.join(db.root, "files")
    os.mkdir(files)
    os.chmod(files, 0o755)
    pg, my = db.pgsql, db.mysql
    pg.create_user("postfix", PW)
    pg.create_user("postfix_nscs", PW)
    pg.sql("ALTER ROLE postfix_nscs SET standard_conforming_strings = off;")
    pg.create_database("mail", owner="postfix")
    pg.sql(sql_cases.schema_sql("pgsql") +
           "GRANT SELECT ON ALL TABLES IN SCHEMA public TO postfix_nscs;",
           dbname="mail", user="postfix", password=PW)
    my.create_user("postfix", PW)
    my.create_database("mail", owner="postfix")
    my.sql(sql_cases.mysql_script(), dbname="mail")
    lite = dbservers.sqlite_db(os.path.join(files, "mail.sqlite"),
                               sql_cases.schema_sql("sqlite"))
    os.chmod(lite, 0o644)
    for name, text in sql_cases.side_files(my.socket).items():
        dbservers.write_cf(os.path.join(files, name), text)
    confs = {}
    for mode, level in (("utf8", "3.6"), ("ascii", "0")):
        c = os.path.join(db.root, "pf-" + mode)
        os.mkdir(c)
        dbservers.write_cf(os.path.join(c, "main.cf"),
                           "compatibility_level = %s\n" % level)
        confs[mode] = c
    return files, confs, lite


def write_case_cf(db, files, lite, case, typ, index):
    params = {"sqlite": {"dbpath": lite},
              "pgsql": {"hosts": db.pgsql.hosts, "user": "postfix",
                        "password": PW, "dbname": "mail"},
              "mysql": {"hosts": db.mysql.hosts, "user": "postfix",
                        "password": PW, "dbname": "mail"}}[typ]
    params.update(case.get("cf", {}))
    params.update(case.get("by_type", {}).get(typ, {}))
    subst = {"$FILES": files, "$PGDIR": db.pgsql.socket_dir,
             "$MYSOCK": db.mysql.socket, "$HOSTS": (
                 db.pgsql.hosts if typ == "pgsql" else db.mysql.hosts)}
    if "$FILES" in str(case.get("must_not_exist")):
        case["must_not_exist"] = [p.replace("$FILES", files)
                                  for p in case["must_not_exist"]]
    text = case.get("raw", {}).get(typ) or "".join(
        "%s = %s\n" % (k.rstrip(), v) for k, v in params.items() if v is not None)
    for k, v in subst.items():
        text = text.replace(k, v)
    path = os.path.join(files, "c%03d.%s.cf" % (index, typ))
    if case.get("no_cf"):
        return path + ".missing"
    dbservers.write_cf(path, text)
    return path


def main():
    driver = driver_command()
    missing = dbservers.missing_tools()
    if not os.access(POSTMAP, os.X_OK):
        missing.append(POSTMAP)
    if not driver:
        missing.append("sql_driver (set MAPCTL_SQL_QUERY)")
    if missing:
        return skip_or_fail("missing " + ", ".join(missing))
    t0 = time.monotonic()
    failed = passed = 0
    with dbservers.Servers(pgsql=True, mysql=True) as db:
        t_up = time.monotonic() - t0
        files, confs, lite = setup(db)
        t_loaded = time.monotonic() - t0
        work = []
        only = os.environ.get("MAPCTL_SQL_ONLY", "")
        for i, case in enumerate(sql_cases.cases(random.Random(11))):
            if only not in case["name"]:
                continue
            for typ in case.get("types", ("sqlite", "pgsql", "mysql")):
                cf = write_case_cf(db, files, lite, case, typ, i)
                work.append((case, typ, cf, confs[case.get("mode", "utf8")]))
        mapctl = mapctl_command()
        commands = [c for c in (sql_commands.cases(mapctl, db, files, PW) if mapctl else [])
                    if only in c.name]
        if not mapctl:
            print("SKIP the mapctl command cases: no mapctl (set MAPCTL)")
            failed += os.environ.get("MAPCTL_INTEROP_REQUIRED") == "1"
        jobs = int(os.environ.get("MAPCTL_INTEROP_JOBS", "8"))
        totals = {"postmap": 0.0, "mapctl": 0.0}
        # The command cases mostly wait (for a bound, a sleeping query):
        # they run beside the pool, one thread each, not in its slots.
        with concurrent.futures.ThreadPoolExecutor(jobs) as pool, \
                concurrent.futures.ThreadPoolExecutor(max(1, len(commands))) as waits:
            futs = {waits.submit(run_command, c): ({"name": c.name}, "mapctl")
                    for c in commands}
            futs.update({pool.submit(compare, c, t, cf, conf, driver): (c, t)
                         for c, t, cf, conf in work})
            for fut in concurrent.futures.as_completed(futs):
                case, typ = futs[fut]
                try:
                    fails, pt, mt = fut.result()
                except Exception as e:  # a hung or crashed process
                    fails, pt, mt = ["%s: %s" % (type(e).__name__, e)], 0, 0
                totals["postmap"] += pt
                totals["mapctl"] += mt
                if fails:
                    failed += 1
                    print("FAIL %s [%s]" % (case["name"], typ))
                    for f in fails:
                        print("  " + f.replace(db.root, "$ROOT"))
                else:
                    passed += 1
        print("servers up %.1f s, data loaded %.1f s, cases %.1f s; process "
              "time postmap %.1f s, mapctl %.1f s" % (
                  t_up, t_loaded - t_up, time.monotonic() - t0 - t_loaded,
                  totals["postmap"], totals["mapctl"]))
    print("total %.1f s" % (time.monotonic() - t0))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
