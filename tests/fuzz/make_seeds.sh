#!/bin/sh
# make_seeds.sh - binary seeds for the verify fuzz targets, made from real
# tables instead of committed: mapctl's writers (seed_writer) and, when it
# is installed, the real postmap.
#
#   tests/fuzz/make_seeds.sh BUILD_DIR OUTDIR
#
# Writes OUTDIR/lmdb_verify, OUTDIR/cdb_verify and OUTDIR/bdb_verify, and
# OUTDIR/regressions/TARGET/ for findings whose input is made from a table.
# POSTMAP names the postmap to use (default /usr/sbin/postmap); without
# one, only mapctl's tables are made.
set -eu
build=$1
out=$2
mkdir -p "$out/lmdb_verify" "$out/cdb_verify" "$out/bdb_verify"

"$build/tests/fuzz/seed_writer" "$out"

# Finding F5 (docs/fuzzing.md): one byte of a real btree table, the type
# of page 1 set to 15 (a heap page), makes libdb's DB->verify free memory
# twice. Replayed with the other regression inputs until a check catches
# it before libdb does.
one_btree=$out/bdb_verify/mapctl_one_btree.db
if [ -f "$one_btree" ]; then
  mkdir -p "$out/regressions/bdb_verify"
  cp "$one_btree" "$out/regressions/bdb_verify/heap_page_in_btree.db"
  printf '\017' | dd of="$out/regressions/bdb_verify/heap_page_in_btree.db" \
    bs=1 seek=4121 conv=notrunc 2>/dev/null
  # F9: a meta page flagged "partitioned" (flags byte @26) with a
  # partition count (u32 @36) libdb trusts: DB->verify allocates that many
  # entries or divides by a bad count (SIGFPE), unless refused before.
  cp "$one_btree" "$out/regressions/bdb_verify/partitioned_meta.db"
  printf '\002' | dd of="$out/regressions/bdb_verify/partitioned_meta.db" \
    bs=1 seek=26 conv=notrunc 2>/dev/null
  printf '\001\351\261\027' | \
    dd of="$out/regressions/bdb_verify/partitioned_meta.db" \
    bs=1 seek=36 conv=notrunc 2>/dev/null
fi
# F10: the "many" btree is a root (page 1, level 2) over two leaves; its
# second entry's child pointer (page 1 + 4052 + 4 = byte 8152) set to page
# 1 itself sends libdb's recursive verifier round the loop until the stack
# overflows, unless refused before.
many_btree=$out/bdb_verify/mapctl_many_btree.db
if [ -f "$many_btree" ]; then
  mkdir -p "$out/regressions/bdb_verify"
  cp "$many_btree" "$out/regressions/bdb_verify/child_points_to_its_page.db"
  printf '\001\000\000\000' | \
    dd of="$out/regressions/bdb_verify/child_points_to_its_page.db" \
    bs=1 seek=8152 conv=notrunc 2>/dev/null
fi

postmap=${POSTMAP:-/usr/sbin/postmap}
[ -x "$postmap" ] || exit 0

work=$(mktemp -d "${TMPDIR:-/tmp}/mapctl-fuzz-seeds.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "compatibility_level = 3.6" >"$work/main.cf"
# postmap waits while main.cf looks freshly written; backdate it.
touch -d '2000-01-01 00:00:00' "$work/main.cf"
printf 'postmaster root\n' >"$work/one"
printf '%s\n' 'alice@example.com [relay.example.com]:587' \
  '@example.org relay.example.org' 'bob@example.net user:secret' >"$work/few"
i=0
while [ $i -lt 120 ]; do
  echo "user$i@example.com value$i"
  i=$((i + 1))
done >"$work/many"

for src in one few many; do
  for type in lmdb cdb hash btree; do
    case $type in
      lmdb) suffix=lmdb dir=lmdb_verify ;;
      cdb) suffix=cdb dir=cdb_verify ;;
      *) suffix=db dir=bdb_verify ;;
    esac
    # A type this Postfix lacks (postfix-lmdb, postfix-cdb) is skipped.
    if "$postmap" -c "$work" "$type:$work/$src" 2>/dev/null; then
      mv "$work/$src.$suffix" "$out/$dir/postmap_${src}_$type.$suffix"
    fi
  done
done
