"""Data and cases for sql_differential.py.

The same rows go into PostgreSQL, MariaDB and SQLite: awkward keys (kv),
several columns (cols), and PostfixAdmin-like tenant tables: a relay host
per sender with @domain rows (sender_relay), SASL credentials per sender
(sasl_credentials).  A case is a .cf (parameters shared by the three types,
`by_type` overrides, `raw` text for malformed files), the keys fed to both
tools, postmap flags, and the main.cf mode ("utf8": compatibility_level 3.6,
smtputf8 on; "ascii": compatibility_level 0).
"""

import random

LONG = "l" * 300 + "@example.com"
VERY_LONG = "v" * 5000 + "@example.com"

KV = [
    ("a@example.com", "one"),
    ("multi@example.com", "r1"), ("multi@example.com", "r2"),
    ("multi@example.com", "r3"),
    ("null@example.com", None), ("empty@example.com", ""),
    ("mixnull@example.com", "x1"), ("mixnull@example.com", None),
    ("mixnull@example.com", ""), ("mixnull@example.com", "x2"),
    ("o'neil@example.com", "quote"), ("back\\slash@example.com", "bs"),
    ('dq"x@example.com', "dq"), ("pct%@example.com", "pct"),
    ("under_score@example.com", "us"), ("underXscore@example.com", "not-us"),
    ("école@exämple.fr", "utf8-lower"),
    ("euro@example.com", "price \u20ac5"),   # not in LATIN1
    ("latin@example.com", "caf\u00e9"),      # in LATIN1
    ("<>", "null-sender"), ("@example.com", "catchall"),
    ("example.com", "domain-key"), ("user", "bare-user"),
    ("UPPER@EXAMPLE.COM", "stored-upper"), (LONG, "long-key"),
    (VERY_LONG, "very-long-key"),
    ("comma@example.com", "a,b"), ("space@example.com", " padded "),
    ("nl@example.com", "line1\nline2"), ("tab@example.com", "c1\tc2"),
    ("addr@example.com", "someone@dest.example"),
    ("addr@example.com", "@dest.example"), ("addr@example.com", "nodomain"),
    ("addr@example.com", "user@"),
    ("trail @example.com", "trailing-space-key"),
]

COLS = [
    ("x@example.com", "c1", "c2", "c3"), ("x@example.com", "d1", "d2", "d3"),
    ("nullcol@example.com", "c1", None, "c3"),
    ("emptycol@example.com", "c1", "", "c3"),
    ("allnull@example.com", None, None, None),
]

RELAY = [
    ("alice@tenant1.example", "[smtp.tenant1.example]:587", 1),
    ("bob@tenant1.example", "[smtp.tenant1.example]:587", 0),
    ("@tenant2.example", "[relay.tenant2.example]:submission", 1),
    ("carol@tenant2.example", "[special.tenant2.example]:465", 1),
    ("o'hara@tenant3.example", "[mx.tenant3.example]", 1),
    ("<>", "[bounce.example]", 1),
]

SASL = [
    ("alice@tenant1.example", "alice", "s3cr:et", 1),
    ("@tenant2.example", "t2", "pa'ss", 1),
    ("carol@tenant2.example", "carol", "c\\pw", 1),
    ("dave@tenant3.example", "dave", "", 1),
    ("erin@tenant3.example", None, None, 1),
]

TENANT_KEYS = [
    "alice@tenant1.example", "Alice@Tenant1.EXAMPLE", "alice", "@tenant1.example",
    "tenant1.example", "alice+ext@tenant1.example", "bob@tenant1.example",
    "carol@tenant2.example", "zed@tenant2.example", "@tenant2.example",
    "tenant2.example", "o'hara@tenant3.example", "dave@tenant3.example",
    "erin@tenant3.example", "<>", "", "nobody@nowhere.example",
]

# Awkward pieces the generated keys are made of.
PIECES = ["'", "''", "\\", "\\'", "%", "%%", "%s", "_", '"', ";", "--", "/*",
          "é", "€", "ß", "Ä", "日本", "<>", " ", "\t", "\r", "x", "Y", "0",
          "a.b", "..", "@", "$", "*"]


def generated_keys(rng):
    keys = []
    for i in range(150):
        local = "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 4)))
        dom = "".join(rng.choice(PIECES[12:] + ["example", ".", "com"])
                      for _ in range(rng.randint(0, 3)))
        sep = rng.choice(["@", "@", "@", "", "@@"])
        keys.append(local + sep + dom)
    return keys


GENERATED = generated_keys(random.Random(11))


def _lit(v, dialect):
    if v is None:
        return "NULL"
    if isinstance(v, int):
        return str(v)
    s = v.replace("'", "''")
    if dialect == "mysql":
        s = s.replace("\\", "\\\\")
    return "'%s'" % s


def _rows(table, rows, dialect):
    return "".join("INSERT INTO %s VALUES (%s);\n" % (
        table, ", ".join(_lit(v, dialect) for v in r)) for r in rows)


def schema_sql(dialect):
    big = {"pgsql": "text", "mysql": "varchar(6000)", "sqlite": "text"}[dialect]
    t = {"pgsql": "text", "mysql": "varchar(255)", "sqlite": "text"}[dialect]
    s = ("CREATE TABLE kv (k %s, v %s);\n" % (big, big) +
         "CREATE TABLE cols (k {t}, c1 {t}, c2 {t}, c3 {t});\n"
         "CREATE TABLE sender_relay (sender {t}, nexthop {t}, active int);\n"
         "CREATE TABLE sasl_credentials (sender {t}, username {t}, "
         "password {t}, active int);\n".format(t=t))
    # Half of the generated keys are stored (folded roughly as postmap folds
    # them), so that escaping has to round-trip for them to be found.
    gen = [(k.lower(), "gen%d" % i) for i, k in enumerate(GENERATED)
           if i % 2 == 0]
    s += _rows("kv", KV + gen, dialect) + _rows("cols", COLS, dialect)
    s += _rows("sender_relay", RELAY, dialect)
    s += _rows("sasl_credentials", SASL, dialect)
    if dialect == "mysql":
        s += ("CREATE TABLE kv_bin (k varchar(6000) COLLATE utf8mb4_bin, "
              "v varchar(6000));\nINSERT INTO kv_bin SELECT * FROM kv;\n")
        s += ("CREATE PROCEDURE lookup(IN p VARCHAR(255)) READS SQL DATA "
              "SQL SECURITY INVOKER BEGIN SELECT v FROM kv WHERE k = p; END;\n"
              "CREATE PROCEDURE noresult(IN p VARCHAR(255)) READS SQL DATA "
              "SQL SECURITY INVOKER BEGIN DECLARE x INT; SET x = 1; END;\n"
              "CREATE PROCEDURE tworesults(IN p VARCHAR(255)) READS SQL DATA "
              "SQL SECURITY INVOKER BEGIN SELECT 'first'; SELECT 'second'; END;\n")
    if dialect == "pgsql":
        s += ("CREATE FUNCTION lookup(text) RETURNS text LANGUAGE sql AS "
              "$$ SELECT v FROM kv WHERE k = $1 LIMIT 1 $$;\n")
    return s


def mysql_script():
    out = []
    for line in schema_sql("mysql").splitlines():
        if line.startswith("CREATE PROCEDURE"):
            out.append("DELIMITER //\n%s//\nDELIMITER ;" % line.rstrip(";"))
        else:
            out.append(line)
    return "\n".join(out) + "\n"


def side_files(mysql_socket):
    return {
        "domains": "tenant1.example x\nexample.com x\n",
        "domains.list": "# tenants\ntenant2.example\n  example.com\n",
        "nobs.cnf": "[client]\ninit-command = SET sql_mode = 'NO_BACKSLASH_ESCAPES'\n",
        "my-sock.cnf": "[client]\nsocket = %s\n" % mysql_socket,
        "notadb": "this is not a database\n",
    }


Q_KV = "SELECT v FROM kv WHERE k='%s'"
Q_RELAY = "SELECT nexthop FROM sender_relay WHERE sender='%s' AND active = 1"
Q_CRED = ("SELECT username || ':' || password FROM sasl_credentials "
          "WHERE sender='%s' AND active = 1")
Q_CRED_MY = ("SELECT CONCAT(username, ':', password) FROM sasl_credentials "
             "WHERE sender='%s' AND active = 1")

BASIC_KEYS = [
    "a@example.com", "A@Example.COM", "missing@example.com", "multi@example.com",
    "null@example.com", "empty@example.com", "mixnull@example.com",
    "o'neil@example.com", "back\\slash@example.com", 'dq"x@example.com',
    "pct%@example.com", "pct%", "under_score@example.com",
    "École@exämple.fr", "école@exämple.fr", "ÉCOLE@EXÄMPLE.FR",
    "<>", "@example.com", "example.com", "user", "UPPER@EXAMPLE.COM",
    "upper@example.com", LONG, VERY_LONG, "comma@example.com",
    "space@example.com", "nl@example.com", "tab@example.com",
    "trail @example.com", "a@example.com ", " a@example.com",
    "x'; DROP TABLE kv; --", "%s", "%%", "a\\", "\\'", "", "bad\udcffkey",
]

ECHO_KEYS = ["user@mail.example.com", "User@Sub.Example.COM", "bare",
             "@example.com", "user@", "<>", "a@b@c.example", "x@a..b",
             "x@a..b.c", "x@.example", "x@example.", "o'neil@example.com",
             "back\\slash", 'dq"x', "cr\rx", "é€@exämple.fr", "%s%u%%", ""]

DOMAIN_KEYS = ["a@example.com", "A@EXAMPLE.COM", "a@sub.example.com",
               "alice@tenant1.example", "zed@tenant2.example", "@example.com",
               "example.com", "user", "<>", "a@", "multi@example.com"]


def cases(rng):
    out = []

    def case(name, keys, **kw):
        out.append(dict(name=name, keys=list(keys), **kw))

    lite_my = ("sqlite", "mysql")
    # --- lookups -----------------------------------------------------------
    case("awkward keys", BASIC_KEYS, cf={"query": Q_KV})
    case("awkward keys, no folding", BASIC_KEYS[:20], cf={"query": Q_KV},
         flags=["-f"])
    case("awkward keys, ascii folding", BASIC_KEYS, cf={"query": Q_KV},
         mode="ascii")
    case("generated keys", GENERATED + [k.upper() for k in GENERATED[:30]],
         cf={"query": Q_KV})
    case("generated keys, local and domain parts", GENERATED,
         cf={"query": "SELECT '[%u|%d|%1]'"})
    case("one key on the command line", ["a@example.com"], cf={"query": Q_KV},
         single=True)
    case("one missing key on the command line", ["nope@example.com"],
         cf={"query": Q_KV}, single=True)
    case("tenant relay per sender", TENANT_KEYS, cf={"query": Q_RELAY})
    case("tenant credentials per sender", TENANT_KEYS, cf={"query": Q_CRED},
         by_type={"mysql": {"query": Q_CRED_MY}})
    case("tenant relay, user and domain", TENANT_KEYS,
         cf={"query": "SELECT nexthop FROM sender_relay WHERE sender='%u@%d'"})
    case("tenant relay, domain rows", TENANT_KEYS,
         cf={"query": "SELECT nexthop FROM sender_relay WHERE sender='@%d'"})
    case("mysql binary collation", ["upper@example.com", "UPPER@EXAMPLE.COM"],
         types=("mysql",), cf={"query": "SELECT v FROM kv_bin WHERE k='%s'"})
    case("LIKE wildcards are not escaped",
         ["pct%@example.com", "pct_@example.com", "under_score@example.com",
          "under%"], cf={"query": "SELECT v FROM kv WHERE k LIKE '%s'"})
    case("LIKE everything", ["%"], types=lite_my,
         cf={"query": "SELECT v FROM kv WHERE k LIKE '%s' AND k NOT LIKE 'gen%%'"})
    for tpl in ("[%s]", "[%u]", "[%d]", "[%S|%U|%D]", "[%1|%2|%3]", "[%9|%1]",
                "100%%|%s", "constant"):
        case("query template " + tpl, ECHO_KEYS + ["u@a.b.c.d.e.f.g.h.i"],
             cf={"query": "SELECT '%s'" % tpl})
    for fmt in ("smtp:[%s]", "%u", "%d", "%S", "%U@%D", "%1", "%%s", "<%s>%%"):
        case("result_format " + fmt, ["addr@example.com", "multi@example.com",
                                      "a@example.com", "user", "<>"],
             cf={"query": Q_KV, "result_format": fmt})
    case("several columns", ["x@example.com", "nullcol@example.com",
                             "emptycol@example.com", "allnull@example.com"],
         cf={"query": "SELECT c1, c2, c3 FROM cols WHERE k='%s'",
             "result_format": "[%s]"})
    case("NULL, empty, no rows", ["k"], cf={"query": "SELECT NULL"})
    case("empty literal", ["k"], cf={"query": "SELECT ''"})
    for lim in ("0", "2", "-1"):
        case("expansion_limit " + lim, ["a@example.com", "mixnull@example.com",
                                        "x@example.com"],
             cf={"query": "SELECT v FROM kv WHERE k='%s' UNION ALL "
                          "SELECT c1 FROM cols WHERE k='%s'",
                 "expansion_limit": lim})
    case("expansion_limit exceeded", ["a@example.com", "multi@example.com",
                                      "b@example.com"],
         cf={"query": Q_KV, "expansion_limit": "2"})
    # --- domain --------------------------------------------------------------
    case("domain list", DOMAIN_KEYS, cf={"query": Q_KV,
                                         "domain": "tenant2.example, Example.COM"})
    case("domain negated", DOMAIN_KEYS, cf={"query": Q_KV,
                                            "domain": "!example.com, example.com"})
    case("domain table", DOMAIN_KEYS + ["alice@TENANT1.example"],
         cf={"query": "SELECT '[%s]'", "domain": "texthash:$FILES/domains"})
    case("domain file", DOMAIN_KEYS, cf={"query": "SELECT '[%s]'",
                                         "domain": "$FILES/domains.list"})
    case("domain list, UTF-8", ["a@ëxample.org", "a@ËXAMPLE.ORG"], flags=["-f"],
         cf={"query": "SELECT '[%s]'", "domain": "ëxample.org"})
    case("domain list, ascii", ["a@ëxample.org", "a@ËXAMPLE.ORG"], mode="ascii",
         cf={"query": "SELECT '[%s]'", "domain": "ëxample.org"})
    # --- query forms -----------------------------------------------------------
    case("legacy fields", ["a@example.com", "multi@example.com"],
         cf={"table": "kv", "select_field": "v", "where_field": "k",
             "additional_conditions": "AND v <> 'r2'"})
    case("empty query uses legacy fields", ["a@example.com"],
         cf={"query": "", "table": "kv", "select_field": "v", "where_field": "k"})
    case("query wins over legacy fields", ["a@example.com"],
         cf={"query": "SELECT 'q'", "table": "kv", "select_field": "v",
             "where_field": "k"})
    case("pgsql select_function", ["a@example.com", "null@example.com",
                                   "missing@example.com"],
         types=("pgsql",), cf={"select_function": "lookup"})
    case("several statements", ["a@example.com"], types=("pgsql", "sqlite"),
         cf={"query": Q_KV + "; SELECT 'second'"})
    case("statement and comment", ["a@example.com"],
         cf={"query": Q_KV + "; -- comment"})
    case("mysql CALL", ["a@example.com", "multi@example.com", "missing@x"],
         types=("mysql",), cf={"query": "CALL lookup('%s')"})
    case("mysql no result set allowed", ["a@example.com"], types=("mysql",),
         cf={"query": "CALL noresult('%s')", "require_result_set": "no"})
    case("pgsql statement without rows", ["a@example.com"], types=("pgsql",),
         cf={"query": "SET application_name = '%s'"})
    case("sqlite pragma", ["a@example.com"], types=("sqlite",),
         cf={"query": "PRAGMA user_version"})
    case("unknown parameter", ["a@example.com"],
         cf={"query": Q_KV, "no_such_param": "1", "encoding": "UTF8"})
    case("mysql NO_BACKSLASH_ESCAPES", ["back\\slash@example.com",
                                        "o'neil@example.com", "a\\"],
         types=("mysql",), cf={"query": Q_KV, "option_file": "$FILES/nobs.cnf"})
    case("mysql option_file socket", ["a@example.com"], types=("mysql",),
         cf={"query": Q_KV, "hosts": None, "option_file": "$FILES/my-sock.cnf"})
    case("pgsql standard_conforming_strings off",
         ["back\\slash@example.com", "o'neil@example.com"], types=("pgsql",),
         cf={"query": Q_KV, "user": "postfix_nscs"}, ignore_warnings=True)
    case("pgsql bare socket directory", ["a@example.com"], types=("pgsql",),
         cf={"query": Q_KV, "hosts": "$PGDIR"})
    case("a dead host before the live one", ["a@example.com", "multi@example.com"],
         types=("pgsql", "mysql"), ignore_warnings=True,
         by_type={"pgsql": {"query": Q_KV, "hosts": "unix:/nonexistent/pg $HOSTS"},
                  "mysql": {"query": Q_KV, "hosts": "unix:/nonexistent/my.sock $HOSTS"}})
    # --- what postmap dies on -----------------------------------------------
    case("pgsql value outside LATIN1", ["latin@example.com", "euro@example.com"],
         types=("pgsql",), cf={"query": Q_KV}, mode="ascii")
    case("pgsql Latin-1 value under smtputf8", ["a@example.com", "latin@example.com"],
         types=("pgsql",), cf={"query": Q_KV})
    bad = [
        ("invalid query template", {"query": "SELECT v FROM kv WHERE k='%x'"}),
        ("trailing % in query", {"query": Q_KV + " %"}),
        ("invalid result_format", {"query": Q_KV, "result_format": "%x"}),
        ("empty result_format", {"query": Q_KV, "result_format": ""}),
        ("expansion_limit not a number", {"query": Q_KV, "expansion_limit": "abc"}),
        ("legacy table missing", {"select_field": "v", "where_field": "k"}),
        ("legacy select_field missing", {"table": "kv", "where_field": "k"}),
        ("legacy where_field missing", {"table": "kv", "select_field": "v"}),
        ("no query at all", {}),
        ("SQL syntax error", {"query": "SELEC v FROM kv WHERE k='%s'"}),
        ("missing SQL table", {"query": "SELECT v FROM no_such_table WHERE k='%s'"}),
        ("domain table missing", {"query": Q_KV, "domain": "texthash:$FILES/nonexistent"}),
        ("domain file missing", {"query": Q_KV, "domain": "$FILES/nonexistent.list"}),
        ("bad template and bad number", {"query": "SELECT '%x'",
                                         "expansion_limit": "x"}),
    ]
    for name, cf in bad:
        case(name, ["a@example.com", "b@example.com"], cf=cf)
    net = ("pgsql", "mysql")
    for name, cf in [
            ("no dbname", {"query": Q_KV, "dbname": None}),
            ("empty dbname", {"query": Q_KV, "dbname": ""}),
            ("wrong password", {"query": Q_KV, "password": "wrong"}),
            ("unknown user", {"query": Q_KV, "user": "nosuchuser"}),
            ("unknown database", {"query": Q_KV, "dbname": "nosuchdb"}),
            ("unreachable TCP host", {"query": Q_KV, "hosts": "inet:127.0.0.1:1"}),
            ("bad dbname and bad template", {"query": "%x", "dbname": ""})]:
        case(name, ["a@example.com"], types=net, cf=cf)
    case("unreachable socket", ["a@example.com", "b@example.com"], types=net,
         by_type={"pgsql": {"query": Q_KV, "hosts": "unix:/nonexistent/pg"},
                  "mysql": {"query": Q_KV, "hosts": "unix:/nonexistent/my.sock"}})
    case("pgsql unix host with a port", ["a@example.com"], types=("pgsql",),
         cf={"query": Q_KV, "hosts": "unix:$PGDIR:5432"})
    case("mysql require_result_set not a boolean", ["a@example.com"],
         types=("mysql",), cf={"query": Q_KV, "require_result_set": "true"})
    case("mysql tls_verify_cert not a boolean", ["a@example.com"],
         types=("mysql",), cf={"query": Q_KV, "tls_verify_cert": "maybe"})
    case("mysql TLS required on a socket without TLS", ["a@example.com"],
         types=("mysql",), cf={"query": Q_KV, "tls_verify_cert": "yes"})
    case("mysql no result set", ["a@example.com"], types=("mysql",),
         cf={"query": "CALL noresult('%s')"})
    case("mysql two result sets", ["a@example.com"], types=("mysql",),
         cf={"query": "CALL tworesults('%s')"})
    case("mysql statement without a result set", ["a@example.com"],
         types=("mysql",), cf={"query": "DO '%s'"})
    case("pgsql runtime error", ["a@example.com"], types=("pgsql",),
         cf={"query": "SELECT 1/0 WHERE '%s' <> ''"})
    case("sqlite step error", ["a@example.com"], types=("sqlite",),
         cf={"query": "SELECT abs(-9223372036854775807 - 1) WHERE '%s' <> ''"})
    case("sqlite no dbpath", ["a@example.com"], types=("sqlite",),
         cf={"query": Q_KV, "dbpath": None})
    case("sqlite dbpath not a database", ["a@example.com"], types=("sqlite",),
         cf={"query": Q_KV, "dbpath": "$FILES/notadb"})
    case("sqlite dbpath in a missing directory", ["a@example.com"],
         types=("sqlite",), cf={"query": Q_KV, "dbpath": "/nonexistent/x.sqlite"})
    # Postfix creates the missing file (read-write open) and dies at the
    # query ("no such table"); mapctl opens read-only and dies at open.
    case("sqlite dbpath missing", ["a@example.com"], types=("sqlite",),
         cf={"query": Q_KV, "dbpath": "$FILES/created-by-postmap.sqlite"},
         expect_class={"sqlite": "open-database"}, ignore_cause=True,
         mapctl_first=True, must_not_exist=["$FILES/created-by-postmap.sqlite"])
    case("missing .cf file", ["a@example.com"], cf={"query": Q_KV}, no_cf=True)
    # Malformed files: the warnings' wording differs, the answers do not.
    raw_base = {"sqlite": "dbpath = $FILES/../files/mail.sqlite\n",
                "pgsql": "hosts = unix:$PGDIR\nuser = postfix\npassword = %s\n"
                         "dbname = mail\n" % "s3cr'et\\pw",
                "mysql": "hosts = unix:$MYSOCK\nuser = postfix\npassword = %s\n"
                         "dbname = mail\n" % "s3cr'et\\pw"}
    case("continuation lines and comments", ["a@example.com"],
         raw={t: b + "query = SELECT v\n  # comment\n\n   FROM kv\n WHERE k='%s'\n"
              for t, b in raw_base.items()})
    case("a line without '='", ["a@example.com"],
         raw={t: b + "query = " + Q_KV + "\nstray words\n" for t, b in raw_base.items()})
    case("leading whitespace on the first line", ["a@example.com"],
         raw={t: "  # c\n  stray = 1\n" + b + "query = " + Q_KV + "\n"
              for t, b in raw_base.items()}, ignore_warnings=True)
    case("a parameter given twice", ["a@example.com"],
         raw={t: b + "query = SELECT 'first'\nquery = " + Q_KV + "\n"
              for t, b in raw_base.items()}, ignore_warnings=True)
    return out
