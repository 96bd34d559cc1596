#!/bin/sh
# headers_cxx17.sh - compiles each public header alone as C++17 (g++ 12's
# default dialect is gnu++17), so that `g++ prog.cc $(pkg-config --cflags
# --libs mapctl)` needs no -std= flag. Lists the headers that fail and the
# construct behind each failure (file:line: first error).
# Usage: headers_cxx17.sh SRC_DIR BUILD_DIR
#
# While the headers still need C++20, MAPCTL_ALLOW_CXX20_HEADERS=1 turns a
# failure into a skip (exit 77) that still prints the list; tests/meson.build
# sets it until the headers are fixed.
set -u
src=$1
build=$2
cxx=${CXX_FOR_HEADERS:-g++}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# version.h is generated; the others are the installed set.
headers=$(cd "$src/libmaps/include" && ls mapctl/*.h)
headers="$headers mapctl/version.h"
mkdir -p "$tmp/mapctl"
cp "$build/libmaps/version.h" "$tmp/mapctl/version.h"

passed=0
failed=0
: >"$tmp/causes"
for h in $headers; do
  printf '#include <%s>\nint main() { return 0; }\n' "$h" >"$tmp/tu.cc"
  if "$cxx" -std=c++17 -fsyntax-only -Wall -Wextra -Wpedantic -Werror \
      -I"$src/libmaps/include" -I"$tmp" "$tmp/tu.cc" 2>"$tmp/err"; then
    echo "ok   $h builds as C++17"
    passed=$((passed + 1))
  else
    echo "FAIL $h does not build as C++17"
    # file:line: error: text, once per place, paths relative to the tree.
    grep -E '(error|warning):' "$tmp/err" | sed -e "s|$src/libmaps/include/||" \
        -e "s|^\./||" -e 's|: *\(error\|warning\): *|: |' |
      awk -F: '!seen[$1 ":" $2]++ { print "    " $0 }' | head -n 8 |
      tee -a "$tmp/causes"
    failed=$((failed + 1))
  fi
done

if [ "$failed" -gt 0 ]; then
  echo "constructs that block C++17 (file:line:column: first error there):"
  sort -u "$tmp/causes"
fi
echo "$passed passed, $failed failed"
if [ "$failed" -gt 0 ] && [ "${MAPCTL_ALLOW_CXX20_HEADERS:-0}" = 1 ]; then
  echo "skipped: MAPCTL_ALLOW_CXX20_HEADERS=1 (public headers still need C++20)"
  exit 77
fi
[ "$failed" -eq 0 ]
