#!/usr/bin/env python3
"""Private PostgreSQL, MariaDB and SQLite databases for the SQL interop tests.

Python 3.11 standard library only.  Nothing system-wide is used or started:
each server runs from a fresh temporary directory, listens on a unix socket
in that directory only (no TCP), and is stopped and removed at the end.

    import dbservers
    with dbservers.Servers(pgsql=True, mysql=True) as db:
        db.pgsql.create_user("postfix", "s3cret")
        db.pgsql.create_database("mail", owner="postfix")
        db.pgsql.sql("CREATE TABLE t (k text, v text);", dbname="mail",
                     user="postfix", password="s3cret")
        cf = dbservers.write_cf(os.path.join(db.root, "t.cf"), db.pgsql.cf_text(
            dbname="mail", user="postfix", password="s3cret",
            query="SELECT v FROM t WHERE k='%s'"))
        confdir = dbservers.postfix_config_dir(db.root)  # for postmap -c
        # same for db.mysql; db.mysql.sql() runs as root unless user= given
        path = dbservers.sqlite_db(os.path.join(db.root, "m.sqlite"), "...")

Why the servers run this way (all measured on Debian 12):
  * As root (CI), initdb and mariadbd refuse to run; the servers run as
    `nobody` through `setpriv --reuid/--regid --clear-groups`, in a 0700
    directory that `nobody` owns.  As another user they run as that user.
  * Every server and init tool is started through `setpriv --pdeathsig KILL`
    from the main thread, and `postgres` is started directly rather than by
    `pg_ctl start` (which setsid()s the postmaster out of our session): if
    this process dies, even by SIGKILL, the servers die with it, and meson's
    timeout kill of the test's process group reaches them too.
  * SIGTERM/SIGINT/SIGHUP raise SystemExit, so `with` blocks and atexit run;
    stopping on a signal is immediate (meson SIGKILLs 0.5 s after SIGTERM).
  * A directory left behind by a killed run (owner pid dead) is removed by
    the next start.
  * Unix socket paths must stay under 108 bytes: the base directory is
    MAPCTL_INTEROP_TMP, else /dev/shm, else $TMPDIR, with a short name.

Servers start once per process: the SQL cases are meant to run inside one
test script that holds one `Servers` (meson has no global setup/teardown, and
a server tied to one test process cannot outlive it safely).

Self-test: python3 dbservers.py [--selftest]  (starts both, one postmap -q each)
Research:  python3 dbservers.py --serve      (prints the connection, waits)
"""

import atexit
import fcntl
import os
import pwd
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

PG_BIN = os.environ.get("MAPCTL_PG_BIN", "/usr/lib/postgresql/15/bin")
PREFIX = "mapctl-db-"
START_TIMEOUT = 60


class ServerError(Exception):
    """A server could not be set up, or an SQL script failed."""


def base_dir():
    for d in (os.environ.get("MAPCTL_INTEROP_TMP"), "/dev/shm",
              tempfile.gettempdir()):
        if d and os.path.isdir(d) and os.access(d, os.W_OK | os.X_OK) \
                and len(d) < 60:
            return d
    raise ServerError("no writable temporary directory with a short path")


def missing_tools(pgsql=True, mysql=True):
    """Programs this module needs that are not installed (a test skips, or
    fails when MAPCTL_INTEROP_REQUIRED=1)."""
    need = ["setpriv"]
    if pgsql:
        need += [os.path.join(PG_BIN, n) for n in ("initdb", "postgres", "psql")]
    if mysql:
        need += ["mariadb-install-db", "mariadbd", "mariadb"]
    return [n for n in need if not shutil.which(n)]


def _server_user():
    """(uid, gid) the servers run as: `nobody` when we are root, else us."""
    if os.geteuid() != 0:
        return os.geteuid(), os.getegid()
    pw = pwd.getpwnam(os.environ.get("MAPCTL_DB_USER", "nobody"))
    return pw.pw_uid, pw.pw_gid


def _wrap(cmd, uid, gid):
    """Command line that runs `cmd` as uid/gid and dies with its parent."""
    pre = ["setpriv", "--pdeathsig", "KILL"]
    if os.geteuid() == 0 and uid != 0:
        pre += ["--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups"]
    return pre + ["--"] + cmd


def sweep_stale(base=None):
    """Remove instance directories whose owner is gone (a run that was
    SIGKILLed; its servers died with it through pdeathsig).  The owner holds
    a lock on its `owner` file while it lives: a lock we can take means the
    owner is dead, whatever pid namespace it ran in."""
    base = base or base_dir()
    for name in os.listdir(base):
        if not name.startswith(PREFIX):
            continue
        d = os.path.join(base, name)
        try:
            fd = os.open(os.path.join(d, "owner"), os.O_RDONLY)
        except OSError:
            # No owner file: being created, or older than this sweep.
            try:
                if time.time() - os.stat(d).st_mtime > 3600:
                    shutil.rmtree(d, ignore_errors=True)
            except OSError:
                pass
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            continue
        finally:
            os.close(fd)
        shutil.rmtree(d, ignore_errors=True)


def _run(cmd, what, inp=None, env=None, timeout=120):
    p = subprocess.run(cmd, input=inp, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, env=env, timeout=timeout)
    if p.returncode != 0:
        raise ServerError("%s failed (exit %d): %s" % (
            what, p.returncode, p.stderr.decode("utf-8", "replace").strip()))
    return p.stdout.decode("utf-8", "replace")


def _wait_until(ready, proc, what, log):
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerError("%s exited with %d during start; log: %s" % (
                what, proc.returncode, _tail(log)))
        if ready():
            return
        time.sleep(0.02)
    raise ServerError("%s not ready after %d s; log: %s" % (
        what, START_TIMEOUT, _tail(log)))


def _tail(path, n=8):
    try:
        with open(path, errors="replace") as f:
            return " | ".join(f.read().splitlines()[-n:])
    except OSError:
        return "(no log)"


class _Server:
    """What both servers share: a directory, a process, a stop."""

    name = "server"

    def __init__(self, root, uid, gid):
        self.dir = os.path.join(root, self.name)
        self.uid, self.gid = uid, gid
        self.proc = None
        self.log = os.path.join(self.dir, "server.log")
        self.timings = {}
        os.mkdir(self.dir, 0o700)
        os.chown(self.dir, uid, gid)

    def _spawn(self, cmd):
        logf = open(self.log, "ab")
        try:
            # No start_new_session: stay in the test's process group.
            return subprocess.Popen(_wrap(cmd, self.uid, self.gid),
                                    stdin=subprocess.DEVNULL, stdout=logf,
                                    stderr=subprocess.STDOUT, cwd=self.dir)
        finally:
            logf.close()

    def stop(self, fast=False):
        """Stop the server; `fast` (on a signal) does not wait for a clean
        shutdown.  Safe to call twice."""
        p, self.proc = self.proc, None
        if p is None or p.poll() is not None:
            return
        t = time.monotonic()
        p.send_signal(self.fast_signal if fast else self.stop_signal)
        try:
            p.wait(timeout=0.4 if fast else 20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        self.timings["stop"] = time.monotonic() - t


class PgServer(_Server):
    """A PostgreSQL cluster: superuser `postgres` (trust over the socket),
    every other role authenticates with its scram-sha-256 password."""

    name = "pgsql"
    stop_signal = signal.SIGINT          # "fast" shutdown
    fast_signal = signal.SIGQUIT         # "immediate": children stop too
    superuser = "postgres"
    port = 5432                          # only names the socket file

    def init(self):
        """Start initdb and return its process (both servers initialise at
        the same time; stop() ends it if we are interrupted)."""
        self.data = os.path.join(self.dir, "data")
        self._t0 = time.monotonic()
        cmd = [os.path.join(PG_BIN, "initdb"), "-D", self.data,
               "-U", self.superuser, "-A", "trust", "-E", "UTF8",
               "--locale=C.UTF-8", "--no-sync", "--no-instructions"]
        self.proc = self._spawn(cmd)
        return self.proc

    def start(self):
        self.timings["init"] = time.monotonic() - self._t0
        with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
            f.write("local all %s trust\nlocal all all scram-sha-256\n"
                    % self.superuser)
        t = time.monotonic()
        conf = {"listen_addresses": "''", "unix_socket_directories":
                "'%s'" % self.dir, "port": str(self.port), "fsync": "off",
                "synchronous_commit": "off", "full_page_writes": "off",
                "shared_buffers": "16MB", "max_connections": "60",
                "max_wal_senders": "0", "wal_level": "minimal",
                "password_encryption": "scram-sha-256",
                "log_min_messages": "warning", "autovacuum": "off",
                # Segments in the data directory, not /dev/shm: a killed
                # server leaves nothing outside the instance directory.
                "dynamic_shared_memory_type": "mmap"}
        cmd = [os.path.join(PG_BIN, "postgres"), "-D", self.data]
        for k, v in conf.items():
            cmd += ["-c", "%s=%s" % (k, v.strip("'"))]
        self.proc = self._spawn(cmd)
        pidfile = os.path.join(self.data, "postmaster.pid")

        def ready():
            # Line 8 of postmaster.pid is "ready" once connections work.
            try:
                with open(pidfile) as f:
                    lines = f.read().splitlines()
            except OSError:
                return False
            return len(lines) >= 8 and lines[7].strip() == "ready"
        _wait_until(ready, self.proc, "postgres", self.log)
        self.timings["start"] = time.monotonic() - t

    @property
    def socket_dir(self):
        return self.dir

    @property
    def hosts(self):
        """The `hosts` value for pgsql_table(5)."""
        return "unix:" + self.dir

    def sql(self, script, dbname="postgres", user=None, password=None):
        """Run an SQL script with psql (one process; `\\connect` works) and
        return its output; stops at the first error."""
        env = dict(os.environ, PGPASSWORD=password or "")
        cmd = [os.path.join(PG_BIN, "psql"), "-X", "-q", "-A", "-t",
               "-v", "ON_ERROR_STOP=1", "-h", self.dir, "-p", str(self.port),
               "-U", user or self.superuser, "-d", dbname, "-f", "-"]
        return _run(cmd, "psql", script.encode(), env=env)

    def create_user(self, user, password):
        self.sql("CREATE ROLE %s LOGIN PASSWORD '%s';" % (
            _ident(user), password.replace("'", "''")))

    def create_database(self, dbname, owner=None):
        self.sql("CREATE DATABASE %s%s TEMPLATE template0;" % (
            _ident(dbname), " OWNER " + _ident(owner) if owner else ""))

    def cf_text(self, **params):
        return cf_text(dict({"hosts": self.hosts}, **params))


class MariaServer(_Server):
    """A MariaDB instance: `root` without a password over the socket, other
    users with mysql_native_password."""

    name = "mysql"
    stop_signal = signal.SIGTERM
    fast_signal = signal.SIGKILL         # one process, nothing to keep

    FAST = ["--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0",
            "--innodb-buffer-pool-size=16M", "--innodb-log-file-size=8M",
            "--skip-innodb-use-native-aio", "--performance-schema=OFF",
            "--skip-name-resolve", "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_general_ci"]

    def init(self):
        self.data = os.path.join(self.dir, "data")
        self.socket = os.path.join(self.dir, "mysql.sock")
        self._t0 = time.monotonic()
        cmd = ["mariadb-install-db", "--no-defaults", "--datadir=" + self.data,
               "--auth-root-authentication-method=normal", "--skip-test-db",
               ] + self.FAST
        self.proc = self._spawn(cmd)
        return self.proc

    def start(self):
        self.timings["init"] = time.monotonic() - self._t0
        t = time.monotonic()
        cmd = ["mariadbd", "--no-defaults", "--datadir=" + self.data,
               "--socket=" + self.socket, "--skip-networking",
               "--pid-file=" + os.path.join(self.dir, "mysqld.pid"),
               "--skip-log-bin"] + self.FAST
        self.proc = self._spawn(cmd)

        def ready():
            # The server greets a new connection first (a handshake packet).
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.settimeout(2)
                s.connect(self.socket)
                return len(s.recv(4)) == 4
            except OSError:
                return False
            finally:
                s.close()
        _wait_until(ready, self.proc, "mariadbd", self.log)
        self.timings["start"] = time.monotonic() - t

    @property
    def hosts(self):
        """The `hosts` value for mysql_table(5)."""
        return "unix:" + self.socket

    def sql(self, script, dbname=None, user="root", password=None):
        """Run an SQL script with the mariadb client (one process) and return
        its tab-separated output; stops at the first error."""
        cmd = ["mariadb", "--no-defaults", "-S", self.socket, "-u", user,
               "--batch", "--skip-column-names", "--default-character-set=utf8mb4"]
        if password:
            cmd.append("--password=" + password)
        if dbname:
            cmd.append(dbname)
        return _run(cmd, "mariadb", script.encode())

    def create_user(self, user, password):
        self.sql("CREATE USER '%s'@'localhost' IDENTIFIED BY '%s';" % (
            user, password.replace("\\", "\\\\").replace("'", "\\'")))

    def create_database(self, dbname, owner=None):
        s = "CREATE DATABASE `%s` CHARACTER SET utf8mb4;" % dbname
        if owner:
            s += " GRANT ALL ON `%s`.* TO '%s'@'localhost';" % (dbname, owner)
        self.sql(s)

    def cf_text(self, **params):
        return cf_text(dict({"hosts": self.hosts}, **params))


def _ident(name):
    return '"%s"' % name.replace('"', '""')


def cf_text(params):
    """A Postfix .cf file body: one `name = value` per line, in order."""
    return "".join("%s = %s\n" % (k, v) for k, v in params.items())


def sqlite_db(path, script):
    """Create (or extend) an SQLite database file with an SQL script."""
    con = sqlite3.connect(path)
    try:
        con.executescript(script)
        con.commit()
    finally:
        con.close()
    return path


_LIVE = []


def _stop_all(fast=False):
    while _LIVE:
        _LIVE[-1].close(fast=fast)


def _on_signal(signum, frame):
    # Stop at once: meson SIGKILLs the group 0.5 s after its SIGTERM.
    _stop_all(fast=True)
    raise SystemExit(128 + signum)


class Servers:
    """The servers of one test run; a context manager.  `pgsql`, `mysql`:
    which to start.  `root` is a private directory for the test's own files
    (.cf files, sqlite databases, a main.cf), removed with the servers."""

    def __init__(self, pgsql=True, mysql=True, base=None):
        self.want_pg, self.want_my = pgsql, mysql
        self.base = base or base_dir()
        self.pgsql = self.mysql = None
        self.root = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    def start(self):
        sweep_stale(self.base)
        uid, gid = _server_user()
        self.root = tempfile.mkdtemp(prefix=PREFIX, dir=self.base)
        self._owner = open(os.path.join(self.root, "owner"), "w")
        fcntl.flock(self._owner, fcntl.LOCK_EX)
        self._owner.write("%d\n" % os.getpid())
        self._owner.flush()
        os.chmod(self.root, 0o711)
        _LIVE.append(self)
        if not _LIVE[1:]:
            atexit.register(_stop_all)
            for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
                signal.signal(s, _on_signal)
        try:
            servers = []
            if self.want_pg:
                self.pgsql = PgServer(self.root, uid, gid)
                servers.append(self.pgsql)
            if self.want_my:
                self.mysql = MariaServer(self.root, uid, gid)
                servers.append(self.mysql)
            # Both initialise at once (two cores), then both start.
            inits = [(s, s.init()) for s in servers]
            for s, p in inits:
                if p.wait(timeout=300) != 0:
                    raise ServerError("%s initialisation failed (exit %d): %s"
                                      % (s.name, p.returncode, _tail(s.log)))
            for s in servers:
                s.start()
        except BaseException:
            self.close(fast=True)
            raise
        return self

    def close(self, fast=False):
        for s in (self.mysql, self.pgsql):
            if s is not None:
                s.stop(fast=fast)
        if self.root:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
            self._owner.close()
        if self in _LIVE:
            _LIVE.remove(self)

    def timings(self):
        return {s.name: dict(s.timings) for s in (self.pgsql, self.mysql) if s}


def write_cf(path, text):
    """Write a Postfix configuration file (main.cf or a table's .cf) and
    backdate it: Postfix waits, in 300 ms steps, for a file modified within
    the last second or two to settle before reading it."""
    with open(path, "w") as f:
        f.write(text)
    old = time.time() - 3600
    os.utime(path, (old, old))
    return path


def postfix_config_dir(root):
    """A private Postfix config directory (main.cf backdated so that postmap
    does not wait for it to settle)."""
    d = os.path.join(root, "postfix")
    os.makedirs(d, exist_ok=True)
    write_cf(os.path.join(d, "main.cf"), "compatibility_level = 3.6\n")
    return d


def _selftest():
    postmap = os.environ.get("POSTMAP", "/usr/sbin/postmap")
    missing = missing_tools() + ([] if os.access(postmap, os.X_OK) else [postmap])
    if missing:
        print("SKIP: missing %s" % ", ".join(missing))
        return 77
    t = time.monotonic()
    with Servers() as db:
        started = time.monotonic() - t
        pw = "pw'with\\odd\"chars"
        pg, my = db.pgsql, db.mysql
        pg.create_user("postfix", pw)
        pg.create_database("mail", owner="postfix")
        pg.sql("CREATE TABLE relay (sender text PRIMARY KEY, host text);"
               "INSERT INTO relay VALUES ('a@example.com', '[pg.example]:587');",
               dbname="mail", user="postfix", password=pw)
        my.create_user("postfix", pw)
        my.create_database("mail", owner="postfix")
        my.sql("CREATE TABLE relay (sender varchar(255) PRIMARY KEY, host text);"
               "INSERT INTO relay VALUES ('a@example.com', '[my.example]:587');",
               dbname="mail", user="postfix", password=pw)
        lite = sqlite_db(os.path.join(db.root, "mail.sqlite"),
                         "CREATE TABLE relay (sender text, host text);"
                         "INSERT INTO relay VALUES ('a@example.com', '[lite.example]:587');")
        query = "query = SELECT host FROM relay WHERE sender = '%s'\n"
        cfs = {"pgsql": pg.cf_text(user="postfix", password=pw, dbname="mail"),
               "mysql": my.cf_text(user="postfix", password=pw, dbname="mail"),
               "sqlite": "dbpath = %s\n" % lite}
        confdir = postfix_config_dir(db.root)
        pids = [s.proc.pid for s in (pg, my)]
        failed = 0
        for typ, body in cfs.items():
            path = write_cf(os.path.join(db.root, typ + ".cf"), body + query)
            for key, want in (("a@example.com", (0, "[%s.example]:587\n" % (
                    {"pgsql": "pg", "mysql": "my", "sqlite": "lite"}[typ]))),
                    ("b@example.com", (1, ""))):
                p = subprocess.run([postmap, "-c", confdir, "-q", key,
                                    "%s:%s" % (typ, path)],
                                   capture_output=True, text=True, timeout=60)
                ok = (p.returncode, p.stdout) == want and not p.stderr
                failed += not ok
                print("%s %s %s -> exit %d %r%s" % (
                    "ok" if ok else "FAIL", typ, key, p.returncode, p.stdout,
                    "" if not p.stderr else " stderr " + p.stderr.strip()))
        t = time.monotonic()
    stopped = time.monotonic() - t
    print("start (both, parallel init) %.2f s; stop+remove %.2f s" % (
        started, stopped))
    for name, tm in db.timings().items():
        print("  %s: %s" % (name, ", ".join("%s %.2f s" % kv for kv in tm.items())))
    left = [n for n in os.listdir(db.base) if n.startswith(PREFIX)]
    alive = [p for p in pids if os.path.exists("/proc/%d" % p)]
    if left or alive:
        print("FAIL: left behind in %s: %s; server pids alive: %s" % (
            db.base, left, alive))
        failed += 1
    print("%d passed, %d failed" % (7 - failed, failed))
    return 1 if failed else 0


def _serve():
    with Servers() as db:
        print("root %s" % db.root)
        print("pgsql hosts = %s  (superuser %s, psql -h %s)" % (
            db.pgsql.hosts, db.pgsql.superuser, db.pgsql.socket_dir))
        print("mysql hosts = %s  (root, no password)" % db.mysql.hosts)
        print("timings %s" % db.timings(), flush=True)
        with open(os.path.join(db.root, "ready"), "w") as f:
            f.write("pgsql_dir=%s\nmysql_sock=%s\n" % (
                db.pgsql.socket_dir, db.mysql.socket))
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    # No argument: the self-test, so that a runner that executes every
    # script in this directory gets a meaningful test.
    if sys.argv[1:] in ([], ["--selftest"]):
        sys.exit(_selftest())
    if sys.argv[1:] == ["--serve"]:
        sys.exit(_serve())
    print("usage: dbservers.py [--selftest] | --serve", file=sys.stderr)
    sys.exit(2)
