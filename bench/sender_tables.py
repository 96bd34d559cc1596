"""The query-sender rows of bench/compare-postmap over pattern and SQL tables.

sender-pcre (issue 10 item 5): `mapctl query sender -` over 200k senders
with a 100-rule pcre: relay map and an lmdb: password map, against a script
that feeds every candidate key Postfix would ask through one
`postmap -q -` per map. Goal: at least 2x.

sender-pgsql (issue 11 item 5): the same over 10k senders with both maps in
pgsql: tables on a private PostgreSQL server (tests/interop/dbservers.py,
started and removed here). postmap, like mapctl, keeps one connection per
table. Goal: at least 1x. A second row runs both sides and the server on
one CPU (see sender_pgsql_workload).

The candidate keys are those Postfix asks (docs/query-sender.md): a pattern
table gets the full address only; an indexed or SQL table the full address,
the address without its +extension, then @domain; the password map after
the sender keys the relay's host name and the next hop as written. The
script asks every candidate key (it cannot stop at the first hit); mapctl
stops where Postfix stops. The relay each sender gets, which decides the
host keys of the password map, is taken from one untimed postmap run over
the relay map. Before timing, the answers postmap gives for those keys are
combined in Postfix's order and compared with `query sender --json` (every
10th sender for pcre, every sender for pgsql): a row whose two sides
disagree stops the script.
"""
import json
import os
import random
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RELAYHOST = "[smtp.default.example]:587"


def _write_lines(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")


def _backdated_cf(path, text):
    """A main.cf or .cf file postmap reads at once (a file younger than a
    second or two makes it wait for the file to settle)."""
    with open(path, "w") as f:
        f.write(text)
    old = os.path.getmtime(path) - 3600
    os.utime(path, (old, old))


def _main_cf(relay_map, sasl_map):
    return ("compatibility_level = 3.6\n"
            "recipient_delimiter = +\n"
            "myhostname = mx.bench.example\n"
            "relayhost = %s\n"
            "sender_dependent_relayhost_maps = %s\n"
            "smtp_sasl_auth_enable = yes\n"
            "smtp_sender_dependent_authentication = yes\n"
            "smtp_sasl_password_maps = %s\n" % (RELAYHOST, relay_map, sasl_map))


def _sender_keys(sender):
    """The keys an indexed table gets for a sender: full, without the
    +extension, @domain (bare local parts only for local domains: none)."""
    local, dom = sender.rsplit("@", 1)
    keys = [sender]
    if "+" in local:
        keys.append(local.split("+", 1)[0] + "@" + dom)
    keys.append("@" + dom)
    return keys


def _host_keys(nexthop):
    """The password map's keys after the sender keys: the host, the next hop."""
    host = nexthop
    if host.startswith("["):
        host = host[1:host.index("]")]
    return [host, nexthop]


def _postmap_answers(postmap, cfg, table, keys_path):
    """{key: value} of what `postmap -q - TABLE` finds for the keys in a file."""
    with open(keys_path, "rb") as f:
        out = subprocess.run([postmap, "-c", cfg, "-q", "-", table], stdin=f,
                             capture_output=True, check=False)
    if out.returncode not in (0, 1) or out.stderr:
        sys.exit("postmap -q - %s: exit %d: %r" % (table, out.returncode, out.stderr[:500]))
    answers = {}
    for line in out.stdout.decode("utf-8").splitlines():
        k, v = line.split("\t", 1)
        answers[k] = v
    return answers


def _relay_of(sender, relay_keys, relay_answers):
    for k in relay_keys(sender):
        if k in relay_answers:
            return relay_answers[k]
    return RELAYHOST


def _write_script_keys(work, senders, relay_keys, relay_answers, prefix):
    """The password map's candidate keys for every sender (its relay from
    the relay map's answers). Returns the file's path."""
    sasl = []
    for s in senders:
        sasl += _sender_keys(s) + _host_keys(_relay_of(s, relay_keys, relay_answers))
    path = os.path.join(work, prefix + "_sasl_keys")
    _write_lines(path, sasl)
    return path


def _check_same_answers(label, mapctl, scfg, senders, relay_keys, relay_answers,
                        sasl_answers):
    """Compares `query sender --json` with what the postmap answers give in
    Postfix's order: the relay value, and the credential's user (mapctl masks
    the password) and the key kind that found it. Returns how many senders
    were compared, how many lookups mapctl made for them and a text saying
    how the credentials were found (sender key, host, next hop, none)."""
    sample = os.path.join(scfg, "sample")
    _write_lines(sample, senders)
    with open(sample, "rb") as f:
        out = subprocess.run([mapctl, "query", "sender", "-c", scfg, "--json", "-"],
                             stdin=f, capture_output=True, check=False)
    if out.returncode != 0:
        sys.exit("%s: mapctl query sender --json: exit %d: %r" % (
            label, out.returncode, out.stderr[:500]))
    lines = out.stdout.decode("utf-8").splitlines()
    if len(lines) != len(senders):
        sys.exit("%s: %d senders, %d JSON lines" % (label, len(senders), len(lines)))
    lookups = 0
    differ = []
    kinds = {"sender": 0, "host": 0, "nexthop": 0, "none": 0}
    for s, line in zip(senders, lines):
        got = json.loads(line)
        lookups += len(got["tried"])
        relay = _relay_of(s, relay_keys, relay_answers)
        want_cred = None
        for kind, keys in (("sender", _sender_keys(s)),
                           ("host", _host_keys(relay)[:1]),
                           ("nexthop", _host_keys(relay)[1:])):
            hit = next((k for k in keys if k in sasl_answers), None)
            if hit is not None:
                want_cred = (sasl_answers[hit].split(":", 1)[0], kind)
                break
        kinds[want_cred[1] if want_cred else "none"] += 1
        cred = got["credentials"]
        got_cred = cred and (cred["username"], cred["matched_by"])
        if (got["relay"]["value"], got_cred) != (relay, want_cred):
            differ.append((s, (got["relay"]["value"], got_cred), (relay, want_cred)))
    if differ:
        for s, g, w in differ[:5]:
            print("  %s: mapctl %r, postmap's answers %r" % (s, g, w))
        sys.exit("%s: mapctl and postmap disagree for %d of %d senders"
                 % (label, len(differ), len(senders)))
    return len(senders), lookups, "credentials by " + ", ".join(
        "%s %d" % kv for kv in kinds.items())


# ---- sender-pcre --------------------------------------------------------------

def _pcre_files(work, n):
    """The pcre relay map (100 rules: 10 anchored full addresses before the
    90 tenant rules that would also match them), the password map's source
    (~100k keys: addresses, @domains, gateway hosts and next hops, the
    default relay) and n senders (tenants 90-119 have no tenant rule)."""
    rng = random.Random(10)
    rules = []
    for t in range(0, 100, 10):
        rules.append(r"/^alerts@tenant%d\.example\.com$/ [alerts%d.example.net]:587" % (t, t))
    for t in range(90):
        rules.append(r"/@tenant%d\.example\.com$/ [gw%d.example.net]:587" % (t, t))
    relay = os.path.join(work, "pcre_relay.pcre")
    _write_lines(relay, ["# generated: bench/sender_tables.py"] + rules)
    sasl = []
    for t in range(120):
        for k in range(5000):
            if (k * 7 + t) % 6 == 0:
                sasl.append("user%d@tenant%d.example.com t%d-u%d:%032x"
                            % (k, t, t, k, rng.getrandbits(128)))
        if t % 3 == 0:
            sasl.append("@tenant%d.example.com t%d-any:%032x" % (t, t, rng.getrandbits(128)))
        if t % 4 == 1:
            sasl.append("gw%d.example.net gw%d:%032x" % (t, t, rng.getrandbits(128)))
        if t % 4 == 2:
            sasl.append("[gw%d.example.net]:587 gw%d-hop:%032x" % (t, t, rng.getrandbits(128)))
        if t % 20 == 0:
            sasl.append("alerts%d.example.net alerts%d:%032x" % (t, t, rng.getrandbits(128)))
    sasl.append("smtp.default.example default:%032x" % rng.getrandbits(128))
    sasl_src = os.path.join(work, "pcre_sasl")
    _write_lines(sasl_src, sasl)
    os.chmod(sasl_src, 0o600)
    senders = []
    for i in range(n):
        r = rng.random()
        t = rng.randrange(120)
        if r < 0.60:
            local = "user%d" % rng.randrange(5000)
            if rng.random() < 0.3:
                local += "+tag%d" % rng.randrange(10)
            senders.append("%s@tenant%d.example.com" % (local, t))
        elif r < 0.62:
            senders.append("alerts@tenant%d.example.com" % (t - t % 10))
        elif r < 0.63:
            senders.append("USER%d@TENANT%d.EXAMPLE.COM" % (rng.randrange(5000), t))
        else:
            senders.append("nobody%d@absent%d.example.org" % (i, i % 977))
    return relay, sasl_src, senders


def pcre_setup(work, postmap, mapctl, n):
    """Writes the sender-pcre inputs under work/sender_pcre, builds the
    password map and checks that both sides answer alike. Returns (the
    script, the mapctl command, the senders' file)."""
    d = os.path.join(work, "sender_pcre")
    os.makedirs(d, exist_ok=True)
    relay, sasl_src, senders = _pcre_files(d, n)
    cfg = os.path.join(d, "cfg")
    os.makedirs(cfg, exist_ok=True)
    _backdated_cf(os.path.join(cfg, "main.cf"),
                  _main_cf("pcre:" + relay, "lmdb:" + sasl_src))
    subprocess.check_call([mapctl, "build", "-c", cfg, "lmdb:" + sasl_src])
    senders_path = os.path.join(d, "senders")
    _write_lines(senders_path, senders)
    relay_keys = lambda s: [s]  # a pattern table: the full address only
    relay_keys_path = os.path.join(d, "relay_keys")
    _write_lines(relay_keys_path, senders)
    relay_answers = _postmap_answers(postmap, cfg, "pcre:" + relay, relay_keys_path)
    sasl_keys_path = _write_script_keys(d, senders, relay_keys, relay_answers, "pcre")
    sasl_answers = _postmap_answers(postmap, cfg, "lmdb:" + sasl_src, sasl_keys_path)
    compared, lookups, kinds = _check_same_answers(
        "sender-pcre", mapctl, cfg, senders[::10], relay_keys, relay_answers, sasl_answers)
    nkeys = sum(1 for _ in open(sasl_keys_path)) + n
    print("# sender-pcre: %d senders, 100 pcre rules, %d-key lmdb password map; the script"
          " asks %d keys (%.2f a sender), mapctl %.2f lookups a sender; answers agree on"
          " %d senders (every 10th; %s)" % (n, len(open(sasl_src).readlines()), nkeys,
                                             nkeys / n, lookups / compared, compared, kinds),
          flush=True)
    script = ("%s -c %s -q - pcre:%s < %s > /dev/null; "
              "%s -c %s -q - lmdb:%s < %s > /dev/null; exit 0" % (
                  postmap, cfg, relay, relay_keys_path,
                  postmap, cfg, sasl_src, sasl_keys_path))
    return (["sh", "-c", script], [mapctl, "query", "sender", "-c", cfg, "-"],
            senders_path)


def _in_child(fn, *args):
    """fn(*args) in a forked process, its (small) result returned here.
    Peak RSS from wait4 includes the peak of the Python process the
    command was forked from; the inputs and the answer check take a few
    hundred MB, so they run apart and the timed commands are forked from a
    small process."""
    import multiprocessing
    import signal
    ctx = multiprocessing.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)

    def child():
        # dbservers' handlers stop the servers: not the child's to do.
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        try:
            send.send((True, fn(*args)))
        except BaseException as e:  # SystemExit from a failed check too
            send.send((False, str(e)))
    p = ctx.Process(target=child)
    p.start()
    ok, result = receive.recv()
    p.join()
    if not ok:
        sys.exit(result)
    return result


def sender_pcre_workload(args, work, mapctl, compare):
    """The sender-pcre row: returns the median ratio script/mapctl."""
    n = args.queries
    script, query, senders_path = _in_child(pcre_setup, work, args.postmap, mapctl, n)
    return compare(f"query sender, pcre relay: {n} senders", script, query,
                   args.runs, stdin=senders_path)


# ---- sender-pgsql -------------------------------------------------------------

def _pgsql_support(work, mapctl):
    """None when postmap and mapctl both have pgsql: tables, else why not."""
    probe_dir = os.path.join(work, "pgsql_probe")
    os.makedirs(probe_dir, exist_ok=True)
    _backdated_cf(os.path.join(probe_dir, "main.cf"), "compatibility_level = 3.6\n")
    types = subprocess.run(["postconf", "-c", probe_dir, "-m"],
                           capture_output=True, text=True).stdout.split()
    if "pgsql" not in types:
        return "postmap has no pgsql: tables (Debian: postfix-pgsql)"
    # A table that cannot connect: a connection error with support, this
    # message without it.
    cf = os.path.join(probe_dir, "probe.cf")
    _backdated_cf(cf, "hosts = unix:/nonexistent\nquery = SELECT 1\n")
    probe = subprocess.run([mapctl, "query", "pgsql:" + cf, "k"],
                           capture_output=True, text=True)
    if "not built in" in probe.stderr:
        return "this mapctl was built without pgsql: (%s)" % probe.stderr.strip()
    return None


def _sql_literal(s):
    return "'" + s.replace("'", "''") + "'"


def _pgsql_rows(n):
    """Relay rows (addresses, @domains), credential rows, n senders."""
    rng = random.Random(11)
    relay, creds, senders = [], [], []
    for t in range(100):
        if t % 5 == 0:
            relay.append(("@tenant%d.example.com" % t, "[gw%d.example.net]:587" % t))
        for k in range(0, 100, 2):
            relay.append(("user%d@tenant%d.example.com" % (k, t),
                          "[relay%d.example.net]:587" % (k % 7)))
        for k in range(0, 100, 3):
            creds.append(("user%d@tenant%d.example.com" % (k, t),
                          "t%d-u%d:%032x" % (t, k, rng.getrandbits(128))))
        if t % 4 == 0:
            creds.append(("@tenant%d.example.com" % t, "t%d-any:%032x" % (t, rng.getrandbits(128))))
        if t % 10 == 5:
            creds.append(("gw%d.example.net" % t, "gw%d:%032x" % (t, rng.getrandbits(128))))
        if t % 10 == 0:
            creds.append(("[gw%d.example.net]:587" % t, "gw%d-hop:%032x" % (t, rng.getrandbits(128))))
    for h in range(7):
        if h % 2:
            creds.append(("relay%d.example.net" % h, "relay%d:%032x" % (h, rng.getrandbits(128))))
    creds.append(("smtp.default.example", "default:%032x" % rng.getrandbits(128)))
    for i in range(n):
        if rng.random() < 0.7:
            local = "user%d" % rng.randrange(100)
            if rng.random() < 0.3:
                local += "+tag%d" % rng.randrange(10)
            senders.append("%s@tenant%d.example.com" % (local, rng.randrange(120)))
        else:
            senders.append("nobody%d@absent%d.example.org" % (i, i % 977))
    return relay, creds, senders


def pgsql_setup(db, postmap, mapctl, n=10000):
    """Loads the tables into db.pgsql (a running dbservers.Servers), writes
    the .cf files, main.cf, the senders and the script's keys under db.root,
    and checks that both sides answer alike. Returns (the script, the
    mapctl command, the senders' file)."""
    relay_rows, cred_rows, senders = _pgsql_rows(n)
    pg = db.pgsql
    pw = "bench-pw"
    pg.create_user("postfix", pw)
    pg.create_database("mail", owner="postfix")
    script = ["CREATE TABLE relay (sender text PRIMARY KEY, host text NOT NULL);",
              "CREATE TABLE credentials (key text PRIMARY KEY, value text NOT NULL);"]
    for table, rows in (("relay", relay_rows), ("credentials", cred_rows)):
        script.append("INSERT INTO %s VALUES %s;" % (table, ",".join(
            "(%s,%s)" % (_sql_literal(k), _sql_literal(v)) for k, v in rows)))
    script.append("ANALYZE;")
    pg.sql("\n".join(script), dbname="mail", user="postfix", password=pw)
    d = db.root
    cfs = {}
    for name, query in (("relay", "SELECT host FROM relay WHERE sender = '%s'"),
                        ("sasl", "SELECT value FROM credentials WHERE key = '%s'")):
        cfs[name] = os.path.join(d, name + ".cf")
        _backdated_cf(cfs[name], pg.cf_text(user="postfix", password=pw,
                                             dbname="mail", query=query))
        os.chmod(cfs[name], 0o600)
    cfg = os.path.join(d, "cfg")
    os.makedirs(cfg, exist_ok=True)
    _backdated_cf(os.path.join(cfg, "main.cf"),
                  _main_cf("pgsql:" + cfs["relay"], "pgsql:" + cfs["sasl"]))
    senders_path = os.path.join(d, "senders")
    _write_lines(senders_path, senders)
    relay_keys_path = os.path.join(d, "relay_keys")
    _write_lines(relay_keys_path, [k for s in senders for k in _sender_keys(s)])
    relay_answers = _postmap_answers(postmap, cfg, "pgsql:" + cfs["relay"],
                                     relay_keys_path)
    sasl_keys_path = _write_script_keys(d, senders, _sender_keys, relay_answers, "pgsql")
    sasl_answers = _postmap_answers(postmap, cfg, "pgsql:" + cfs["sasl"], sasl_keys_path)
    compared, lookups, kinds = _check_same_answers(
        "sender-pgsql", mapctl, cfg, senders, _sender_keys, relay_answers, sasl_answers)
    nkeys = sum(1 for _ in open(relay_keys_path)) + sum(1 for _ in open(sasl_keys_path))
    print("# sender-pgsql: %d senders; relay table %d rows, credentials %d rows; the"
          " script asks %d keys (%.2f a sender), mapctl %.2f lookups a sender; answers"
          " agree on all %d senders (%s)" % (n, len(relay_rows), len(cred_rows), nkeys,
                                             nkeys / n, lookups / compared, compared, kinds),
          flush=True)
    script = ("%s -c %s -q - pgsql:%s < %s > /dev/null; "
              "%s -c %s -q - pgsql:%s < %s > /dev/null; exit 0" % (
                  postmap, cfg, cfs["relay"], relay_keys_path,
                  postmap, cfg, cfs["sasl"], sasl_keys_path))
    return (["sh", "-c", script], [mapctl, "query", "sender", "-c", cfg, "-"],
            senders_path)


def sender_pgsql_workload(args, work, mapctl, compare):
    """The sender-pgsql row: returns the median ratio script/mapctl, or None
    (with a message) where PostgreSQL or pgsql: support is missing."""
    sys.path.insert(0, os.path.join(HERE, "..", "tests", "interop"))
    import dbservers
    missing = dbservers.missing_tools(pgsql=True, mysql=False)
    why = ("PostgreSQL is not installed (missing %s)" % ", ".join(missing)
           if missing else _pgsql_support(work, mapctl))
    if why:
        print("query sender, pgsql maps: skipped: %s" % why, flush=True)
        return None
    n = 10000
    with dbservers.Servers(pgsql=True, mysql=False) as db:
        script, query, senders_path = _in_child(pgsql_setup, db, args.postmap, mapctl, n)
        ratio = compare(f"query sender, pgsql maps: {n} senders", script, query,
                        args.runs, stdin=senders_path)
        # The same on one CPU: the server (its backends fork from the
        # postmaster and inherit the mask) and the timed command. Where
        # waking a process on the other CPU is dear (a nested VM), one
        # client alternating between two backends pays it on most queries
        # and the script's postmap, one backend each, far less: this row
        # shows the lookups' own cost.
        taskset = shutil.which("taskset")
        if taskset is None or os.cpu_count() < 2:
            print("query sender, pgsql maps, one CPU: skipped (no taskset or one CPU)")
            return ratio
        with open(os.path.join(db.pgsql.data, "postmaster.pid")) as f:
            os.sched_setaffinity(int(f.readline()), {0})
        pin = [taskset, "-c", "0"]
        compare("query sender, pgsql maps, one CPU", pin + script, pin + query,
                args.runs, stdin=senders_path)
        return ratio
