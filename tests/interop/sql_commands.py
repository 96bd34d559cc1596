"""mapctl's own commands over SQL tables, for sql_differential.py.

Python 3.11 standard library only.  These cases have no postmap oracle:
they run `mapctl query`, `query sender`, `check` and `whatif` against the
private PostgreSQL server of the run (dbservers.py) and check what mapctl
itself promises (issue 11):

  * --sql-timeout SECONDS bounds every query: a query that sleeps longer
    fails with exit 2 and a message naming the bound, in about the bound
    (not the query's sleep); a bound longer than the sleep lets it answer.
    For every command that opens SQL tables.
  * --set NAME_param=VALUE feeds the main.cf form of an SQL table
    (`pgsql:NAME` reads NAME_* from main.cf) in check exactly as in query
    sender: a parameter main.cf lacks is added, and both commands then
    agree on every sender.
  * `query sender -` (senders in prefetched batches: pgsql pipelined,
    mysql one query after another) prints exactly what the same senders on
    the command line (resolved one by one) print, stdout, stderr and exit,
    over awkward and absent senders, failing lookups and a two-statement
    query that pipeline mode refuses.

    import sql_commands
    for case in sql_commands.cases(mapctl, db, files, PW):
        fails, seconds = case.run()      # case.name names it
"""

import json
import os
import subprocess
import time

import dbservers

SLEEP = 5          # seconds the slow query sleeps
TIMEOUT = 1        # --sql-timeout of the cases that must time out
# How late a timed-out command may end: the bound, process starts and
# connecting on a loaded machine (a quick query took 0.4 s at load 12 on
# two cores), but well short of SLEEP.
LATE = 3.5

RELAY_QUERY = ("SELECT nexthop FROM sender_relay WHERE sender='%s' "
               "AND active = 1")
SASL_QUERY = ("SELECT username || ':' || password FROM sasl_credentials "
              "WHERE sender='%s' AND active = 1")


class Case:
    def __init__(self, name, steps):
        self.name, self.steps = name, steps

    def run(self):
        """Runs the steps in order; returns (failure strings, seconds)."""
        fails = []
        t0 = time.monotonic()
        for step in self.steps:
            fails += step()
            if fails:
                break
        return fails, time.monotonic() - t0


def _run(argv, stdin=b""):
    t = time.monotonic()
    p = subprocess.run(argv, input=stdin, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=120)
    return (p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace"), time.monotonic() - t)


def _step(argv, exit_code, contains=(), within=None, at_least=None,
          json_check=None):
    """A step: run `argv`, then compare exit status, output (stdout and
    stderr together), elapsed time and, given, the JSON lines on stdout."""
    def step():
        rc, out, err, took = _run(argv)
        words = " ".join(argv[1:])
        fails = []
        if rc != exit_code:
            fails.append("%s: exit %d, expected %d; stderr %r" % (
                words, rc, exit_code, err[-400:]))
        for text in contains:
            if text not in out + err:
                fails.append("%s: output lacks %r: stdout %r stderr %r" % (
                    words, text, out[-300:], err[-300:]))
        if within is not None and took > within:
            fails.append("%s: took %.2f s, more than %.1f s" % (words, took, within))
        if at_least is not None and took < at_least:
            fails.append("%s: took %.2f s, less than %.1f s" % (words, took, at_least))
        if json_check is not None and not fails:
            try:
                objs = [json.loads(line) for line in out.splitlines() if line.strip()]
            except ValueError as e:
                return ["%s: bad JSON: %s: %r" % (words, e, out[:300])]
            fails += ["%s: %s" % (words, f) for f in json_check(objs)]
        return fails
    return step


def _conf(root, name, main_cf):
    d = os.path.join(root, name)
    os.mkdir(d)
    os.chmod(d, 0o755)
    dbservers.write_cf(os.path.join(d, "main.cf"), main_cf)
    return d


def _senders(root, name, addresses):
    path = os.path.join(root, name)
    with open(path, "w") as f:
        f.write("".join(a + "\n" for a in addresses))
    return path


def timeout_cases(mapctl, db, files, pw):
    pg = db.pgsql
    base = dict(hosts=pg.hosts, user="postfix", password=pw, dbname="mail")
    # pg_sleep() in FROM: one row, so the relay row comes back after it.
    slow = dbservers.write_cf(os.path.join(files, "slow.pgsql.cf"), pg.cf_text(
        **base, query="SELECT nexthop FROM sender_relay, pg_sleep(%d) "
        "WHERE sender='%%s' AND active = 1" % SLEEP))
    quick = dbservers.write_cf(os.path.join(files, "quick.pgsql.cf"),
                               pg.cf_text(**base, query=RELAY_QUERY))
    for cf in (slow, quick):
        os.chmod(cf, 0o600)
    main = ("compatibility_level = 3.6\nsmtp_sasl_auth_enable = yes\n"
            "sender_dependent_relayhost_maps = pgsql:%s\n")
    c_slow = _conf(db.root, "pf-slow", main % slow)
    c_quick = _conf(db.root, "pf-quick", main % quick)
    one = _senders(db.root, "one-sender", ["alice@tenant1.example"])
    bound = "no answer within %d ms" % (TIMEOUT * 1000)
    t = ["--sql-timeout", str(TIMEOUT)]
    q = [mapctl, "query", "-c", c_quick]
    sender = [mapctl, "query", "sender", "-c", c_slow]

    def deferred(want_changed):
        def judge(objs):
            summary = [o["summary"] for o in objs if "summary" in o]
            rows = [o for o in objs if "sender" in o]
            fails = []
            if len(summary) != 1 or summary[0].get("changed") != want_changed:
                fails.append("expected changed %d in the summary: %r" % (want_changed, objs))
            if want_changed and not any(
                    (r.get("new") or {}).get("outcome") == "deferred" for r in rows):
                fails.append("expected a deferred outcome on the new side: %r" % rows)
            return fails
        return judge

    return [
        Case("--sql-timeout: query stops a slow pgsql query at the bound", [
            _step(q + t + ["pgsql:" + slow, "alice@tenant1.example"], 2,
                  [bound], within=LATE, at_least=TIMEOUT * 0.9),
            # A bound beyond the sleep: the query answers.
            _step(q + ["--sql-timeout", str(SLEEP * 2), "pgsql:" + slow,
                       "alice@tenant1.example"], 0,
                  ["[smtp.tenant1.example]:587"], at_least=SLEEP * 0.9)]),
        Case("--sql-timeout: query sender's relay lookup fails at the bound", [
            _step(sender + t + ["alice@tenant1.example"], 2, [bound], within=LATE)]),
        Case("--sql-timeout: check is trouble at the bound, never a pass", [
            # check looks the sender up more than once: each stops at the bound.
            _step([mapctl, "check", "-c", c_slow, "--senders", one] + t, 2, [bound],
                  within=SLEEP * 2)]),
        Case("--sql-timeout: whatif sees the slow side deferred only under the bound", [
            _step([mapctl, "whatif", "-c", c_quick, "-c", c_slow, "--senders", one,
                   "--json"] + t, 1, within=LATE + 1, json_check=deferred(1)),
            _step([mapctl, "whatif", "-c", c_quick, "-c", c_slow, "--senders", one,
                   "--json", "--sql-timeout", str(SLEEP * 2)], 0,
                  at_least=SLEEP * 0.9, json_check=deferred(0))]),
    ]


def set_cases(mapctl, db, pw):
    """check --set against query sender on the main.cf form: the credential
    table `creds` has no creds_query in main.cf (it cannot open), --set adds
    it, and a --set creds_domain keeps tenant1's keys from being asked."""
    pg = db.pgsql
    params = "".join("%s_%s = %s\n" % (name, k, v)
                     for name in ("relay", "creds")
                     for k, v in (("hosts", pg.hosts), ("user", "postfix"),
                                  ("password", pw), ("dbname", "mail")))
    conf = _conf(db.root, "pf-set", (
        "compatibility_level = 3.6\n"
        "smtp_sasl_auth_enable = yes\n"
        "smtp_sender_dependent_authentication = yes\n"
        "sender_dependent_relayhost_maps = pgsql:relay\n"
        "smtp_sasl_password_maps = pgsql:creds\n"
        "relay_query = %s\n" % RELAY_QUERY) + params)
    os.chmod(os.path.join(conf, "main.cf"), 0o600)
    senders = ["alice@tenant1.example", "carol@tenant2.example"]
    sfile = _senders(db.root, "set-senders", senders)
    add_query = ["--set", "creds_query=" + SASL_QUERY]
    add_domain = ["--set", "creds_domain=tenant2.example"]
    users = {"alice@tenant1.example": "alice", "carol@tenant2.example": "carol"}

    def sender_step(sets, want):
        """query sender --json per sender: the username `want` says."""
        def judge(objs):
            got = {o.get("sender"): (o.get("credentials") or {}).get("username")
                   for o in objs}
            return [] if got == want else ["usernames %r, expected %r" % (got, want)]
        return _step([mapctl, "query", "sender", "-c", conf, "--json"] + sets +
                     ["--"] + senders, 0, json_check=judge)

    def check_step(sets, without):
        """check --json: a relay-credentials finding for exactly the senders
        query sender gave no username, and the same relay."""
        def judge(objs):
            hit = sorted(o.get("key") for o in objs
                         if o.get("check") == "relay-credentials")
            return [] if hit == sorted(without) else [
                "relay-credentials findings for %r, expected %r: %r" % (hit, without, objs)]
        return _step([mapctl, "check", "-c", conf, "--json", "--senders", sfile] + sets,
                     0, json_check=judge)

    return [
        # Neither query nor the legacy table/select_field/where_field.
        Case("--set: without creds_query the main.cf form cannot open in either command", [
            _step([mapctl, "query", "sender", "-c", conf, "--", senders[0]], 2,
                  ["main.cf: creds_table is not set"]),
            _step([mapctl, "check", "-c", conf, "--senders", sfile], 2,
                  ["main.cf: creds_table is not set"])]),
        Case("--set creds_query: check and query sender both read the added parameter", [
            sender_step(add_query, users),
            check_step(add_query, [])]),
        Case("--set creds_domain: check and query sender both skip keys outside it", [
            sender_step(add_query + add_domain, dict(users, **{senders[0]: None})),
            check_step(add_query + add_domain, [senders[0]])]),
    ]


def batch_senders():
    """The senders of batch_cases: the awkward keys (quotes, backslashes, %,
    _, UTF-8, @domain, <>, very long, not UTF-8), tenant senders, absent
    ones, generated keys, and many of them twice (the second asking is
    answered from what the table kept)."""
    import sql_cases
    first = (sql_cases.BASIC_KEYS + sql_cases.TENANT_KEYS + sql_cases.GENERATED +
             ["euro@example.com", "latin@example.com", "alice+ext@tenant1.example",
              "carol+x@tenant2.example", "absent1@absent.example",
              "Absent2@Absent.Example"])
    # No empty line: stdin has no way to end a list with an empty address.
    first = [a for a in first if a and "\n" not in a]
    return first + first[::3]


def batch_cases(mapctl, db, pw):
    """`query sender -` resolves its senders in prefetched batches (an SQL
    table runs each batch's keys in one go: pgsql pipelined, mysql in a
    row); addresses on the command line are resolved one by one.  Both
    must print the same bytes on stdout and stderr and exit alike, for
    pgsql and mysql, including the senders whose lookups fail (a value
    outside LATIN1 is a pgsql query error) and a query of two statements,
    which pipeline mode refuses (every key falls back to the plain query).
    """
    senders = batch_senders()
    stdin = "".join(a + "\n" for a in senders).encode("utf-8", "surrogateescape")
    relay_q = ("SELECT v FROM kv WHERE k='%s' UNION ALL SELECT nexthop FROM "
               "sender_relay WHERE sender='%s' AND active = 1")
    sasl_q = {"pgsql": "SELECT 'u:' || v FROM kv WHERE k='%s' UNION ALL SELECT "
                       "username || ':' || password FROM sasl_credentials "
                       "WHERE sender='%s' AND active = 1",
              "mysql": "SELECT CONCAT('u:', v) FROM kv WHERE k='%s' UNION ALL "
                       "SELECT CONCAT(username, ':', password) FROM "
                       "sasl_credentials WHERE sender='%s' AND active = 1"}
    out = []
    for typ, relay in (("pgsql", relay_q), ("mysql", relay_q),
                       ("pgsql", "SELECT 1 WHERE false; " + relay_q)):
        server = getattr(db, typ)
        name = "batch-%s-%d" % (typ, len(out))
        cfs = {}
        for table, query in (("relay", relay), ("sasl", sasl_q[typ])):
            cfs[table] = dbservers.write_cf(
                os.path.join(db.root, "%s-%s.cf" % (name, table)),
                server.cf_text(user="postfix", password=pw, dbname="mail",
                               query=query))
            os.chmod(cfs[table], 0o600)
        conf = _conf(db.root, name, (
            "compatibility_level = 3.6\nrecipient_delimiter = +\n"
            "smtp_sasl_auth_enable = yes\n"
            "smtp_sender_dependent_authentication = yes\n"
            "sender_dependent_relayhost_maps = %s:%s\n"
            "smtp_sasl_password_maps = %s:%s\n" % (typ, cfs["relay"], typ,
                                                    cfs["sasl"])))

        def same(flags, conf=conf, typ=typ):
            def step():
                base = [mapctl, "query", "sender", "-c", conf] + flags
                plain = _run(base + ["--"] + senders)
                batched = _run(base + ["-"], stdin=stdin)
                words = "query sender %s (%s)" % (" ".join(flags), typ)
                fails = []
                for what, i in (("exit", 0), ("stdout", 1), ("stderr", 2)):
                    if plain[i] != batched[i]:
                        a, b = str(plain[i]), str(batched[i])
                        at = next((k for k in range(min(len(a), len(b)))
                                   if a[k] != b[k]), min(len(a), len(b)))
                        fails.append("%s: %s differs at %d: one by one %r, "
                                     "batched %r" % (words, what, at,
                                                     a[at - 80:at + 160],
                                                     b[at - 80:at + 160]))
                # The comparison means something only if lookups ran and
                # some failed (pgsql: the value outside LATIN1).
                if not fails and "SELECT" not in plain[1]:
                    fails.append("%s: no query in the trace: %r" % (words, plain[1][:300]))
                if not fails and typ == "pgsql" and "LATIN1" not in plain[1] + plain[2]:
                    fails.append("%s: no query error in the output" % words)
                return fails
            return step

        label = {0: "pgsql (pipelined)", 1: "mysql (one after another)",
                 2: "pgsql, a query of two statements (pipeline refuses it)"}[len(out)]
        out.append(Case("query sender -: batched and one by one agree, %s" % label, [
            same(["--explain"]), same(["--json", "--show-secrets"])]))
    return out


def cases(mapctl, db, files, pw):
    return (timeout_cases(mapctl, db, files, pw) + set_cases(mapctl, db, pw) +
            batch_cases(mapctl, db, pw))
