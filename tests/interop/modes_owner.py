#!/usr/bin/env python3
"""Mode and owner of tables written by `mapctl build` (run as root).

mapctl's rule:
  * a new table gets the source's group/other read bits, never more than 0644
    (0600->0600 0640->0640 0604->0604 0644->0644 0666->0644 0400->0600), whatever
    the inherited umask; -p gives 0644.  postmap does the same for a new table.
  * replacing an existing table keeps its owner, group and mode, except that the
    other bits are dropped when the source does not grant them (0644 table,
    source 0600 -> 0640); bits are never added;
  * as root a new table gets the source's owner and group; -o keeps root:root;
    where postmap 3.7 fails because the source's owner cannot write the
    directory, mapctl succeeds;
  * the temp file is never readable by more users than the final table.
"""

import grp
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safety_common import (  # noqa: E402
    MAPCTL, check, gen_source, nobody_ids, popen, require_tools, run_all, temp_files,
    test, write)

require_tools(postmap=True, root=True)

SRC_TEXT = "alice@example.com relay-a\nbob@example.com relay-b\n"
NOBODY, NOGROUP = nobody_ids()
try:
    DAEMON_GID = grp.getgrnam("daemon").gr_gid
except KeyError:
    DAEMON_GID = 1
try:
    ADMIN_GID = grp.getgrnam("postfix").gr_gid
except KeyError:
    ADMIN_GID = NOGROUP

NEW_MODES = [(0o600, 0o600), (0o640, 0o640), (0o604, 0o604), (0o644, 0o644),
             (0o666, 0o644), (0o400, 0o600)]


def lm(p):
    return "lmdb:" + p


def mode_of(p):
    return stat.S_IMODE(os.stat(p).st_mode)


def owner_of(p):
    st = os.stat(p)
    return st.st_uid, st.st_gid


def fmt_owner(o):
    def u(x):
        try:
            return pwd.getpwuid(x).pw_name
        except KeyError:
            return str(x)

    def g(x):
        try:
            return grp.getgrgid(x).gr_name
        except KeyError:
            return str(x)
    return "%s:%s" % (u(o[0]), g(o[1]))


def source(d, name, mode, owner=(0, 0), text=SRC_TEXT):
    p = write(os.path.join(d, name), text)
    os.chown(p, *owner)
    os.chmod(p, mode)
    return p


def postmap_new(ctx, mode, owner=(0, 0), flags=(), dirmode=0o777):
    """Mode and owner postmap gives a new table for a source with MODE/OWNER."""
    d = ctx.path("pm-%o-%d-%d-%s" % (mode, owner[0], owner[1], "".join(flags)))
    os.mkdir(d)
    os.chmod(d, dirmode)
    src = source(d, "src", mode, owner)
    r = ctx.postmap(*(list(flags) + [lm(src)]))
    if r.rc != 0:
        return None
    return mode_of(src + ".lmdb"), owner_of(src + ".lmdb")


@test
def new_table_mode_follows_source(ctx):
    for um in (0o022, 0o000, 0o077):
        for src_mode, want in NEW_MODES:
            d = ctx.subdir("m%o-u%o" % (src_mode, um))
            src = source(d, "src", src_mode)
            ctx.build(lm(src), umask=um)
            got = mode_of(src + ".lmdb")
            check(got == want, "source %04o, umask %03o: new table %04o, expected %04o "
                  "(postmap ignores the inherited umask)" % (src_mode, um, got, want))
    for src_mode, want in NEW_MODES:
        pm = postmap_new(ctx, src_mode)
        check(pm is not None and pm[0] == want,
              "postmap oracle disagrees for source %04o: %r" % (src_mode, pm))


@test
def dash_p_gives_0644(ctx):
    for src_mode in (0o600, 0o640, 0o666):
        d = ctx.subdir("p%o" % src_mode)
        src = source(d, "src", src_mode)
        ctx.build("-p", lm(src), umask=0)
        check(mode_of(src + ".lmdb") == 0o644, "-p, source %04o: %04o" % (src_mode, mode_of(src + ".lmdb")))
        pm = postmap_new(ctx, src_mode, flags=("-p",))
        check(pm is not None and pm[0] == 0o644, "postmap -p oracle: %r" % (pm,))


@test
def existing_table_keeps_owner_group_mode(ctx):
    d = ctx.subdir("d")
    src = source(d, "src", 0o644)
    ctx.build(lm(src))
    t = src + ".lmdb"
    os.chown(t, 0, ADMIN_GID)                   # chgrp postfix; chmod 640
    os.chmod(t, 0o640)
    ino = os.stat(t).st_ino
    write(src, SRC_TEXT + "carol@example.com relay-c\n")
    ctx.build(lm(src))
    check(os.stat(t).st_ino != ino, "table rebuilt in place (expected build-aside + rename)")
    check(mode_of(t) == 0o640, "admin's chmod 640 lost: %04o" % mode_of(t))
    check(owner_of(t) == (0, ADMIN_GID), "admin's chgrp lost: %s" % fmt_owner(owner_of(t)))
    check(ctx.pm_query("carol@example.com", src) == b"relay-c", "table not rebuilt")
    # a table owned by nobody:nogroup 0600, source root 0644: stays nobody:nogroup 0600
    os.chown(t, NOBODY, NOGROUP)
    os.chmod(t, 0o600)
    ctx.build(lm(src))
    check((owner_of(t), mode_of(t)) == ((NOBODY, NOGROUP), 0o600),
          "nobody:nogroup 0600 table became %s %04o" % (fmt_owner(owner_of(t)), mode_of(t)))
    # a root:root 0644 table, source now owned by nobody: owner kept (not the source's)
    os.chown(t, 0, 0)
    os.chmod(t, 0o644)
    os.chown(src, NOBODY, NOGROUP)
    ctx.build(lm(src))
    check((owner_of(t), mode_of(t)) == ((0, 0), 0o644),
          "root:root 0644 table became %s %04o" % (fmt_owner(owner_of(t)), mode_of(t)))


@test
def existing_table_drops_other_bits_source_lacks(ctx):
    cases = [  # (existing table mode, source mode, expected)
        (0o644, 0o600, 0o640),
        (0o644, 0o640, 0o640),
        (0o604, 0o640, 0o600),
        (0o644, 0o604, 0o644),
        (0o640, 0o644, 0o640),     # never add bits
        (0o600, 0o666, 0o600),
        (0o664, 0o600, 0o660),     # only other bits are dropped
    ]
    for i, (tmode, smode, want) in enumerate(cases):
        d = ctx.subdir("c%d" % i)
        src = source(d, "src", 0o644)
        ctx.build(lm(src))
        os.chmod(src + ".lmdb", tmode)
        os.chmod(src, smode)
        ctx.build(lm(src))
        got = mode_of(src + ".lmdb")
        check(got == want, "existing %04o + source %04o -> %04o, expected %04o"
              % (tmode, smode, got, want))


@test
def root_new_table_gets_source_owner(ctx):
    for owner, smode in (((NOBODY, NOGROUP), 0o640), ((0, DAEMON_GID), 0o640),
                         ((NOBODY, NOGROUP), 0o644)):
        d = ctx.subdir("o%d-%d-%o" % (owner[0], owner[1], smode), 0o777)
        src = source(d, "src", smode, owner)
        ctx.build(lm(src))
        got = (owner_of(src + ".lmdb"), mode_of(src + ".lmdb"))
        check(got == (owner, smode), "source %s %04o: new table %s %04o"
              % (fmt_owner(owner), smode, fmt_owner(got[0]), got[1]))
        pm = postmap_new(ctx, smode, owner)
        check(pm == (smode, owner), "postmap oracle: %r" % (pm,))


@test
def dash_o_keeps_root(ctx):
    d = ctx.subdir("d", 0o777)
    src = source(d, "src", 0o640, (NOBODY, NOGROUP))
    ctx.build("-o", lm(src))
    check(owner_of(src + ".lmdb") == (0, 0), "-o: table owned %s" % fmt_owner(owner_of(src + ".lmdb")))
    check(mode_of(src + ".lmdb") == 0o640, "-o: mode %04o" % mode_of(src + ".lmdb"))
    pm = postmap_new(ctx, 0o640, (NOBODY, NOGROUP), flags=("-o",))
    check(pm == (0o640, (0, 0)), "postmap -o oracle: %r" % (pm,))


@test
def succeeds_where_postmap_cannot_write_dir(ctx):
    # root-owned 0755 dir, source owned by nobody: postmap 3.7 switches to nobody and fails
    pm = postmap_new(ctx, 0o644, (NOBODY, NOGROUP), dirmode=0o755)
    check(pm is None, "postmap unexpectedly succeeded: %r" % (pm,))
    d = ctx.subdir("d", 0o755)
    src = source(d, "src", 0o644, (NOBODY, NOGROUP))
    ctx.build(lm(src))
    t = src + ".lmdb"
    check((owner_of(t), mode_of(t)) == ((NOBODY, NOGROUP), 0o644),
          "table %s %04o, expected nobody:nogroup 0644" % (fmt_owner(owner_of(t)), mode_of(t)))
    check(ctx.pm_query("alice@example.com", src) == b"relay-a", "table unreadable")
    check(sorted(os.listdir(d)) == ["src", "src.lmdb"], "leftovers: %r" % os.listdir(d))


@test
def non_root_build_owns_its_table(ctx):
    d = ctx.subdir("d", 0o755)
    os.chown(d, NOBODY, NOGROUP)
    src = source(d, "src", 0o640, (NOBODY, NOGROUP))
    ctx.build(lm(src), user="nobody")
    t = src + ".lmdb"
    check((owner_of(t), mode_of(t)) == ((NOBODY, NOGROUP), 0o640),
          "table %s %04o" % (fmt_owner(owner_of(t)), mode_of(t)))


def watch_temp_modes(ctx, d, src, final_mode, args=()):
    """Run a big build and sample the temp file's mode/owner while it exists."""
    p = popen([MAPCTL, "build"] + list(args) + [lm(src)], env=ctx.env,
              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    seen = []
    while p.poll() is None:
        for n in temp_files(d):
            try:
                st = os.lstat(os.path.join(d, n))
            except FileNotFoundError:
                continue
            seen.append(stat.S_IMODE(st.st_mode))
        time.sleep(0.001)
    out, err = p.communicate()
    check(p.returncode == 0, "build failed: %r" % err)
    check(seen, "never saw the temp file (build too fast to sample?)")
    too_open = sorted({m for m in seen if m & ~final_mode & 0o077})
    check(not too_open, "temp file had mode(s) %s, wider than the table's %04o"
          % (", ".join("%04o" % m for m in too_open), final_mode))


@test
def temp_file_never_wider_than_table(ctx):
    d = ctx.subdir("d")
    src = gen_source(os.path.join(d, "src"), 400_000, mode=0o600)
    watch_temp_modes(ctx, d, src, 0o600)
    check(mode_of(src + ".lmdb") == 0o600, "final mode %04o" % mode_of(src + ".lmdb"))
    os.chmod(src, 0o644)
    os.chmod(src + ".lmdb", 0o640)
    # The same entries: only --force replaces the table (docs/building.md).
    watch_temp_modes(ctx, d, src, 0o640, args=["--force"])
    check(mode_of(src + ".lmdb") == 0o640, "final mode %04o" % mode_of(src + ".lmdb"))


if __name__ == "__main__":
    run_all()
