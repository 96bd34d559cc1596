#!/bin/sh
# install_test.sh - `meson install` into a scratch root, then compile and
# run tests/install/consumer.cc against the installed mapctl.pc, and check
# the binary and man page landed. Usage: install_test.sh BUILD_DIR SRC_DIR
set -eu
build=$1
src=$2
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
meson install -C "$build" --no-rebuild --destdir "$stage" >"$stage/install.log" 2>&1 || {
  cat "$stage/install.log"; exit 1; }
prefix=$(meson introspect "$build" --buildoptions |
  python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"))')
root=$stage$prefix
pc=$(find "$root" -name mapctl.pc | head -n 1)
[ -n "$pc" ] || { echo "mapctl.pc not installed"; exit 1; }
[ -x "$root/bin/mapctl" ] || { echo "mapctl binary not installed"; exit 1; }
find "$root" -name 'mapctl.1*' | grep -q . || { echo "man page not installed"; exit 1; }
export PKG_CONFIG_PATH=$(dirname "$pc")
# The staged .pc names the final prefix; point it at the staging root.
export PKG_CONFIG_SYSROOT_DIR=$stage
cflags=$(pkg-config --cflags mapctl)
libs=$(pkg-config --libs mapctl)
libdir=$(pkg-config --variable=libdir mapctl)
${CXX:-c++} -std=c++20 $cflags "$src/tests/install/consumer.cc" -o "$stage/consumer" $libs
# pkg-config already applied the sysroot to libdir.
LD_LIBRARY_PATH=$libdir "$stage/consumer" "$stage/table"
echo "1 passed, 0 failed"
