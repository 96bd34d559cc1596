#!/usr/bin/env python3
"""Differential test: regexp: and pcre: lookups vs the real postmap 3.7.

For every table, ONE `postmap -c CF -q - TYPE:NAME` process and ONE process
of the program under test read the same keys on stdin, in the same private
directory, under the same relative table name; their stdout, stderr and
exit status are compared.  Tables:

  corpus     pattern_corpus/NAME.{pcre,regexp} with NAME.keys (one rule form,
             or one family of bad rules, per file; NAME.cf names the config
             when it is not 3.6); recorded from Postfix 3.7.11
  inline     pcre:{...} / regexp:{...} texts as table names
  generated  a 100-rule sender relay map and a credentials map per type
             (tenant domains, $n, IF blocks, negation), and random rule files
             mixing every rule form with bad rules, each under
             smtputf8_enable = yes and = no, with generated keys: sender-like
             addresses, +extensions, "<>", @domain, upper case, quoted
             localparts, valid and invalid UTF-8, control bytes, very long keys

Each table gets its own main.cf (compatibility_level 3.6, 0, or 3.6 with
smtputf8_enable = no), backdated so that postmap does not wait.

Environment:
  POSTMAP                  postmap (default /usr/sbin/postmap)
  MAPCTL_PATTERN_QUERY     the program under test, a command prefix (shell
                           words); it is run as PREFIX -c DIR TYPE:NAME - .
                           Default: tests/pattern_driver of the newest build
                           directory (or PATTERN_DRIVER)
  MAPCTL_PATTERN_DIALECT   "postmap": stderr byte-exact and postmap's exit
                           codes (the driver's contract); "mapctl": warnings
                           compared as (line, text after "file:line: warning: ")
                           and exit 2 where postmap dies; default "postmap"
                           for the driver, "mapctl" for any other program
  MAPCTL_INTEROP_REQUIRED  "1": a missing postmap or pcre support fails the run
                           (exit 1) instead of skipping it (77)
  MAPCTL_INTEROP_KEEP      directory where the inputs of failing tables are kept
  MAPCTL_PATTERN_SEED      seed of the random tables (default 10)

Usage: pattern_differential.py [NAME_SUBSTRING...]   (default: all tables)
Exit: 0 all agree, 1 some differ, 77 skipped.
"""

import concurrent.futures
import glob
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77
CONFIGS = {
    "3.6": "compatibility_level = 3.6\n",
    "0": "compatibility_level = 0\n",
    "noutf8": "compatibility_level = 3.6\nsmtputf8_enable = no\n",
}
REQUIRED = os.environ.get("MAPCTL_INTEROP_REQUIRED") == "1"


def note(msg):
    print("pattern_differential: " + msg, file=sys.stderr, flush=True)


def skip_or_fail(msg):
    note(msg)
    sys.exit(1 if REQUIRED else SKIP)


def find_driver():
    if os.environ.get("PATTERN_DRIVER"):
        return os.environ["PATTERN_DRIVER"]
    root = os.path.dirname(os.path.dirname(HERE))
    found = glob.glob(os.path.join(root, "build*", "tests", "pattern_driver"))
    return max(found, key=os.path.getmtime) if found else None


class Table:
    """One table: how postmap names it, its file (None: inline), keys, config."""

    def __init__(self, label, typ, name, body, keys, config="3.6"):
        self.label, self.typ, self.name = label, typ, name
        self.body, self.keys, self.config = body, keys, config

    @property
    def spec(self):
        return self.typ + ":" + self.name


# ------------------------------------------------------------------ corpus

# Keys too big to keep in the repository, made as the corpus made them.
GENERATED_KEYS = {
    "keys-long": b"x" * 100000 + b"y\n" + b"a" * 5000 + b"\n" + b"b" * 200000 + b"\n",
}


def corpus_tables():
    base = os.environ.get("MAPCTL_TEST_DATA") or HERE
    d = os.path.join(base, "pattern_corpus")
    out = []
    for path in sorted(glob.glob(os.path.join(d, "*.pcre")) + glob.glob(os.path.join(d, "*.regexp"))):
        fname = os.path.basename(path)
        name, typ = fname.rsplit(".", 1)
        kpath = os.path.join(d, name + ".keys")
        if os.path.exists(kpath):
            keys = open(kpath, "rb").read()
        else:
            keys = GENERATED_KEYS[name.split("-", 1)[1]]
        cfp = os.path.join(d, name + ".cf")
        cfg = open(cfp).read().strip() if os.path.exists(cfp) else "3.6"
        out.append(Table("corpus/" + name, typ, fname, open(path, "rb").read(), keys, cfg))
    return out


# ------------------------------------------------------------------ inline

INLINE = [
    "{{/a/ b}}", "{ { /a/ b } , { /c/ d } }", "{{/x/ b},{/c/ d}}", "{{/c/ d} {/e/ f}}",
    "{/c/ d}", "{{/c/ d}", "{}", "{{}}", "{{/(c)/ got-$1}}", "{{/(c)/ got-$$1}}",
    "{{/c/ a}b}}", "{{/c/ {a}b}}", '{{/c/ "a}b"}}', "{{if /c/}, {/c/ inside}, {endif}}",
    "{{/a/ b},{/(/ bad},{/c/ d}}", "{{/c/ x}, garbage}", "{{/c/ line1\n  continued}}",
    "{{/c/ x\ny}}", "{{#comment},{/c/ d}}", "{{ /c/ lead}}", "{{/c/ trail   }}",
    "{{/c/ a, b}, {/d/ e}}", "{{#c\n /a/ lead-ws-after-comment}, {/a/ next}}",
    "{{/a/ b}\r{/c/ d}}", "{{/a/ b}\v{/c/ d}}", "{{ \v/c/ vt-stripped\v }}",
    "{{/^(a)(b)?/ [$1][$2]}, {!/x/ not-x}}", "{{/(c)/!/d/ $1-not-d}}",
]


def inline_tables():
    keys = b"a\nab\nc\ncd\nx\n\n"
    out = []
    for i, text in enumerate(INLINE):
        for typ in ("pcre", "regexp"):
            out.append(Table("inline/%s-%d" % (typ, i), typ, text, None, keys))
    return out


# ------------------------------------------------------------------ generated

def sender_keys(rng, n):
    """Sender-like keys: what Postfix hands a pattern table, and worse."""
    fixed = [b"", b"<>", b'"<>"', b"@tenant7.example.com", b"tenant7.example.com",
             b"postmaster", b"MAILER-DAEMON", b'"a b"@example.org', b"a b@example.org",
             b"patch-alert@x.cloudlab.example", b"PATCH-ALERT@X.CLOUDLAB.EXAMPLE",
             b"noreply@tenant42.example.com", b"NoReply@Tenant42.Example.COM",
             "jürgen@example.de".encode(), "JÜRGEN@EXAMPLE.DE".encode(),
             "用户@例子.广告".encode(), b"latin1-\xfc@example.com", b"bad-\xc3(@x",
             b"trail-space@x ", b"cr@x\r", b"ctl-\x01@x", b"del-\x7f@x", b"nul\x00after@x",
             b"u" * 20000 + b"@tenant1.example.com", b"@" * 3000, b"x" * 70000]
    locals_ = ["user", "noreply", "alerts", "bounce", "info", "a.b", "first.last",
               "user+tag", "x+y+z", "sales-eu", "Admin", "ROOT", "o'neil", "caf\u00e9"]
    domains = ["tenant%d.example.com" % i for i in range(1, 60)] + [
        "example.com", "sub.tenant3.example.com", "cloudlab.example", "a.cloudlab.example",
        "EXAMPLE.NET", "xn--bcher-kva.example", "b\u00fccher.example", "localhost", "[192.0.2.1]"]
    keys = list(fixed)
    for _ in range(n):
        lp = rng.choice(locals_)
        if rng.random() < 0.3:
            lp += str(rng.randrange(100))
        if rng.random() < 0.1:
            lp = lp.upper()
        d = rng.choice(domains)
        if rng.random() < 0.05:
            d = d.upper()
        k = (lp + "@" + d).encode()
        r = rng.random()
        if r < 0.03:
            k = b"@" + d.encode()
        elif r < 0.05:
            k = lp.encode()
        keys.append(k)
    return b"\n".join(k.replace(b"\n", b"") for k in keys) + b"\n"


def relay_table(rng, typ):
    """A 100-rule sender_dependent_relayhost_maps as admins write them."""
    lines = ["# generated sender relay map (%s)\n" % typ,
             "/^patch-alert@.+\\.cloudlab\\.example$/     [email-smtp.us-west-2.amazonaws.com]:587\n"]
    for i in range(1, 50):
        lines.append("/@tenant%d\\.example\\.com$/\t[gw%d.tenants.example.net]:587\n" % (i, i % 7))
    lines.append("if /@sub\\./\n")
    lines.append("/^(noreply|alerts)@sub\\.tenant([0-9]+)\\.example\\.com$/   [t${2}-$1.example]\n")
    lines.append("/^(.*)@sub\\.(.*)$/ [$2]:25\n")
    lines.append("endif\n")
    for i in range(40):
        lines.append("/^%s[0-9]*@/%s  relay-%d.example:%d\n"
                     % (rng.choice(["user", "info", "bounce", "sales", "admin"]),
                        rng.choice(["", "i", "ii"]), i, 2500 + i))
    lines.append("!/@/ local-sender\n")
    lines.append("/^<>$/ null-sender\n")
    lines.append("/^\"<>\"$/ null-sender-quoted\n")
    lines.append("/./ DUNNO\n")
    while len(lines) < 102:
        lines.append("/^never-%d$/ never\n" % len(lines))
    return "".join(lines).encode()


def sasl_table(rng, typ):
    lines = ["/^(noreply|alerts)@tenant([0-9]+)\\.example\\.com$/   t${2}-$1:pw$$%d\n" % rng.randrange(9),
             "/^([^@]+)@(tenant[0-9])\\.example\\.com$/ $2-$1:secret\n",
             "/^(.+)\\+(.+)@/ $1-$(2):pw\n",
             "/^opt-(x)?(y)?@/ [$1][$2]:pw\n",
             "/^(.*)$/ any=$1\n"]
    return "".join(lines).encode()


ATOMS = ["a", "b", "x", "y", "@", "\\.", ".", ".*", ".+", "[a-c]", "[^@]", "(a|b)", "(x)?",
         "(.*)", "([0-9]+)", "[[:digit:]]", "^", "$", "\\d", "\\w", "e{2}", "(?i)", "+", "*",
         "(", "[z-a]", "\\", "\u00e9", "\\t", "\\x41", "(?!x)", "(?<n>a)", "|", " ", "\\/"]
RESULTS = ["r", "val", "$1", "${1}", "$(2)", "$2", "$$", "$$1", "$", "${", "$(1}", "$x",
           "${01}", "$0", "$10", "\u00e9", "\udce9", "a b", "[$1]", "$1$2", "", "DUNNO", "u:p"]


def random_rule(rng, typ):
    r = rng.random()
    if r < 0.06:
        return rng.choice(["if ", "IF ", "if !", "if"]) + random_pattern(rng, typ)
    if r < 0.12:
        return rng.choice(["endif", "ENDIF", "endif x", "endif;"])
    if r < 0.14:
        return rng.choice(["# comment", "", "  continued-text", "word rule", "1/x/ y", "!"])
    rule = random_pattern(rng, typ)
    if typ == "regexp" and rng.random() < 0.1:
        rule += rng.choice(["!", "!!", "! "]) + random_pattern(rng, typ, negation=False)
    if rng.random() < 0.93:
        rule += rng.choice([" ", "\t", "   "]) + "".join(rng.choice(RESULTS) for _ in range(rng.randrange(1, 4)))
    return rule


def random_pattern(rng, typ, negation=True):
    neg = rng.choice(["", "", "", "!", "!!", "! ", "!\t!"]) if negation else ""
    delim = rng.choice("/" * 12 + "|~%,;:@\"'{([.*+?-=<&_`}])>\\#é")
    body = "".join(rng.choice(ATOMS) for _ in range(rng.randrange(0, 5)))
    body = body.replace(delim, "\\" + delim) if rng.random() < 0.8 else body
    flags = "".join(rng.choice("imsxAEUXq" if typ == "pcre" else "imxsU") for _ in range(
        rng.choice([0, 0, 0, 1, 2])))
    return neg + delim + body + delim + flags


def random_table(rng, typ, n):
    lines = [random_rule(rng, typ) for _ in range(n)]
    return ("\n".join(lines) + "\n").encode("utf-8", "surrogateescape")


def random_keys(rng, n):
    alphabet = ["a", "b", "x", "y", "@", ".", "1", "9", "A", "B", "-", "+", "\u00e9", "/", "|", " "]
    keys = ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 9))) for _ in range(n)]
    return ("\n".join(keys) + "\n").encode() + b"\xe9@x\nab\xc3\n"


def generated_tables():
    seed = int(os.environ.get("MAPCTL_PATTERN_SEED", "10"))
    out = []
    for typ in ("pcre", "regexp"):
        for cfg in ("3.6", "noutf8"):
            rng = random.Random("%d-%s-%s" % (seed, typ, cfg))
            keys = sender_keys(rng, 1500)
            out.append(Table("gen/relay-%s-%s" % (typ, cfg), typ, "relay." + typ,
                             relay_table(rng, typ), keys, cfg))
            out.append(Table("gen/sasl-%s-%s" % (typ, cfg), typ, "sasl." + typ,
                             sasl_table(rng, typ), keys, cfg))
            for i in range(3):
                out.append(Table("gen/random%d-%s-%s" % (i, typ, cfg), typ, "random.%s" % typ,
                                 random_table(rng, typ, 150), random_keys(rng, 400), cfg))
        # postmap opens the table with the first key: none, no warnings
        out.append(Table("gen/no-keys-" + typ, typ, "bad." + typ, b"/(/ x\n/a/\n", b""))
        out.append(Table("gen/no-keys-missing-" + typ, typ, "missing." + typ, None, b""))
        out.append(Table("gen/missing-" + typ, typ, "missing." + typ, None, b"a\n"))
    return out


# ------------------------------------------------------------------ running

def printable(data, utf8):
    """Postfix's util/printable.c, on bytes."""
    out = bytearray()
    i = 0
    while i < len(data):
        c = data[i]
        if 0x20 <= c < 0x7f:
            out.append(c)
        elif utf8 and 194 <= c <= 254 and i + 1 < len(data) and 0x80 <= data[i + 1] < 0xc0:
            out.append(c)
            while i + 1 < len(data) and 0x80 <= data[i + 1] < 0xc0:
                i += 1
                out.append(data[i])
        else:
            out.append(ord("?"))
        i += 1
    return bytes(out)


RULE_LINE = re.compile(rb"^postmap: warning: (?:pcre|regexp) map .*?, line (\d+): (.*)$", re.S)
MAPCTL_LINE = re.compile(rb"^mapctl: (?:.*?:(\d+): )?(?:.*?: )?warning: (.*)$", re.S)


def normalized_warnings(stderr, mapctl):
    """(line or None, text) per warning; fatal and error lines dropped."""
    out = []
    for raw in stderr.split(b"\n"):
        if not raw or b"fatal:" in raw or b" error: " in raw:
            continue
        m = (MAPCTL_LINE if mapctl else RULE_LINE).match(raw)
        if m:
            out.append((int(m.group(1)) if m.group(1) else None, m.group(2)))
        else:
            out.append((None, raw.split(b"warning: ", 1)[-1]))
    return out


def same_warnings(got, want):
    if len(got) != len(want):
        return False
    for (gl, gt), (wl, wt) in zip(got, want):
        if gt != wt or (gl is not None and wl is not None and gl != wl):
            return False
    return True


def run(argv, cwd, keys):
    return subprocess.run(argv, cwd=cwd, input=keys, capture_output=True, timeout=300)


def first_fatal_key(table, stderr):
    """Index of the key postmap died on (its warning names it, sanitized)."""
    m = re.search(rb'key "(.*)": non-UTF-8 value', stderr)
    if not m:
        return None
    utf8 = table.config == "3.6"
    for i, k in enumerate(table.keys.split(b"\n")):
        if printable(k.split(b"\0")[0], utf8) == m.group(1):
            return i
    return None


def check_table(table, program, postmap, dialect, keep):
    work = tempfile.mkdtemp(prefix="mapctl-pattern-")
    try:
        cf = os.path.join(work, "cf")
        os.mkdir(cf)
        with open(os.path.join(cf, "main.cf"), "w") as f:
            f.write(CONFIGS[table.config])
        old = time.time() - 3600
        os.utime(os.path.join(cf, "main.cf"), (old, old))
        if table.body is not None:
            with open(os.path.join(work, table.name), "wb") as f:
                f.write(table.body)
        want = run([postmap, "-c", "cf", "-q", "-", table.spec], work, table.keys)
        got = run(program + ["-c", "cf", table.spec, "-"], work, table.keys)
        problems = []
        if dialect == "postmap":
            for what, g, w in (("stdout", got.stdout, want.stdout), ("stderr", got.stderr, want.stderr),
                               ("exit status", got.returncode, want.returncode)):
                if g != w:
                    problems.append((what, g, w))
        else:
            fatal = b"fatal:" in want.stderr
            want_rc = 2 if fatal else want.returncode
            want_out = want.stdout
            if fatal:
                k = first_fatal_key(table, want.stderr)
                prefix = b"\n".join(table.keys.split(b"\n")[:k]) + b"\n" if k else b""
                want_out = run([postmap, "-c", "cf", "-q", "-", table.spec], work, prefix).stdout if k else b""
            if got.returncode != want_rc:
                problems.append(("exit status", got.returncode, want_rc))
            if got.stdout != want_out:
                problems.append(("stdout", got.stdout, want_out))
            gw = normalized_warnings(got.stderr, True)
            ww = normalized_warnings(want.stderr, False)
            if not same_warnings(gw, ww):
                problems.append(("warnings", repr(gw).encode(), repr(ww).encode()))
        if problems and keep:
            dest = os.path.join(keep, table.label.replace("/", "_"))
            os.makedirs(dest, exist_ok=True)
            if table.body is not None:
                shutil.copy(os.path.join(work, table.name), dest)
            with open(os.path.join(dest, "keys"), "wb") as f:
                f.write(table.keys)
        return table, problems
    finally:
        shutil.rmtree(work, ignore_errors=True)


def first_difference(got, want):
    if isinstance(got, int):
        return "got %d, postmap %d" % (got, want)
    gl, wl = got.split(b"\n"), want.split(b"\n")
    for i, (g, w) in enumerate(zip(gl, wl)):
        if g != w:
            return "line %d:\n      got     %r\n      postmap %r" % (i + 1, g[:300], w[:300])
    return "got %d lines, postmap %d lines (first extra: %r)" % (
        len(gl), len(wl), (gl[len(wl)] if len(gl) > len(wl) else wl[len(gl)])[:300])


def main():
    postmap = os.environ.get("POSTMAP") or "/usr/sbin/postmap"
    if not os.access(postmap, os.X_OK):
        skip_or_fail("no postmap at %s" % postmap)
    query = os.environ.get("MAPCTL_PATTERN_QUERY")
    if query:
        program = shlex.split(query)
        dialect = os.environ.get("MAPCTL_PATTERN_DIALECT", "mapctl")
    else:
        driver = find_driver()
        if not driver:
            skip_or_fail("no pattern_driver: build the tests or set PATTERN_DRIVER")
        program = [driver]
        dialect = os.environ.get("MAPCTL_PATTERN_DIALECT", "postmap")

    types = {"regexp"}
    with tempfile.TemporaryDirectory(prefix="mapctl-pattern-probe-") as cf:
        with open(os.path.join(cf, "main.cf"), "w") as f:
            f.write(CONFIGS["3.6"])
        old = time.time() - 3600
        os.utime(os.path.join(cf, "main.cf"), (old, old))
        postconf = os.path.join(os.path.dirname(postmap), "postconf")
        maps = subprocess.run([postconf, "-c", cf, "-m"], capture_output=True,
                              text=True).stdout.split()
        probe = subprocess.run(program + ["-c", cf, "pcre:{}", "-"], input=b"a\n",
                               capture_output=True)
    if "pcre" not in maps:
        note("postmap has no pcre support (install postfix-pcre): pcre tables skipped")
    elif b"support not built in" in probe.stderr:
        note("the program under test has no pcre support: pcre tables skipped")
    else:
        types.add("pcre")
    if "pcre" not in types and REQUIRED:
        sys.exit(1)

    tables = [t for t in corpus_tables() + inline_tables() + generated_tables() if t.typ in types]
    if sys.argv[1:]:
        tables = [t for t in tables if any(s in t.label for s in sys.argv[1:])]
    keep = os.environ.get("MAPCTL_INTEROP_KEEP")
    started = time.time()
    bad = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        for table, problems in pool.map(lambda t: check_table(t, program, postmap, dialect, keep), tables):
            if not problems:
                continue
            bad += 1
            print("DIFF %s (%s, %s):" % (table.label, table.spec[:60], table.config))
            for what, got, want in problems:
                print("    %s: %s" % (what, first_difference(got, want)))
    print("pattern_differential: %d tables (%s; %s, dialect %s), %d differ, %.1f s"
          % (len(tables), ", ".join(sorted(types)), " ".join(program), dialect, bad,
             time.time() - started))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
