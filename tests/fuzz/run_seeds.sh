#!/bin/sh
# run_seeds.sh - replays every fuzz target's past findings
# (regressions/TARGET/), then fuzzes it over its seeds for a few seconds;
# fails on any crash, sanitizer report, leak, timeout or broken
# invariant. This is what CI runs (.ci/run).
#
# The runs are reproducible: a fixed seed (-seed=1) and a fixed number of
# executions per target, about SECONDS on a 2-core CI machine, so that a
# submission fails only for what it changed, never because a random walk
# happened on an old bug this time. Finding new bugs is the long runs'
# job (run_long.sh). SECONDS stays a cap, for slower machines.
#
#   tests/fuzz/run_seeds.sh BUILD_DIR [SECONDS]
#
# BUILD_DIR was configured with CXX=clang++ ... -Dfuzzers=true and its
# fuzz targets are built (meson compile -C BUILD_DIR fuzzers). SECONDS per
# target defaults to 10. Crashing inputs are left in
# BUILD_DIR/fuzz-run/artifacts/ (the path is printed); new inputs the
# runs find go to BUILD_DIR/fuzz-run/corpus/TARGET/, never into the
# committed seed directories.
set -eu
build=$(cd "$1" && pwd)
seconds=${2:-10}
src=$(cd "$(dirname "$0")" && pwd)
run=$build/fuzz-run
targets="source lmdb_verify cdb_verify bdb_verify sendmail_sender main_cf \
master_cf sender_search relay_value"

# Executions per target in about 10 s on the CI machine kind (measured by
# run_seeds.sh itself, docs/fuzzing.md), scaled to SECONDS.
runs_in_10s() {
  case $1 in
    source) echo 250000 ;;
    lmdb_verify) echo 200000 ;;
    cdb_verify) echo 30000 ;;
    bdb_verify) echo 2500 ;;
    sendmail_sender) echo 350000 ;;
    main_cf) echo 6000 ;;
    master_cf) echo 30000 ;;
    sender_search) echo 20000 ;;
    relay_value) echo 150000 ;;
  esac
}

rm -rf "$run"
mkdir -p "$run/artifacts" "$run/seeds"
"$src/make_seeds.sh" "$build" "$run/seeds"

# libdb's DB->verify leaks; lsan.supp says which leaks are not ours.
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export LSAN_OPTIONS="suppressions=$src/../sanitizers/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=""
for t in $targets; do
  exe=$build/tests/fuzz/${t}_fuzz
  # Past findings first, one process each, so that every one still open
  # is named (the committed ones and those made from tables).
  for input in "$src/regressions/$t"/* "$run/seeds/regressions/$t"/*; do
    [ -f "$input" ] || continue
    if ! "$exe" -timeout=10 -rss_limit_mb=2048 \
        "$input" >"$run/$t.regression.log" 2>&1; then
      echo "run_seeds: $t: regression input fails: $input" >&2
      grep -m1 -E 'SUMMARY|fuzz invariant|timeout after' \
        "$run/$t.regression.log" >&2
      failed="$failed $t:$(basename "$input")"
    fi
  done
  mkdir -p "$run/corpus/$t"
  # The first directory receives new inputs; the others are only read.
  set -- "$run/corpus/$t" "$src/$t"
  [ -d "$run/seeds/$t" ] && set -- "$@" "$run/seeds/$t"
  runs=$(($(runs_in_10s "$t") * seconds / 10))
  echo "run_seeds: $t: $runs runs (at most ${seconds}s) over $(cat "$src/$t"/* "$run/seeds/$t"/* \
    2>/dev/null | wc -c) seed bytes"
  if ! "$exe" -seed=1 -runs="$runs" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$run/artifacts/$t-" "$@" >"$run/$t.log" 2>&1; then
    echo "run_seeds: $t: FAILED (log: $run/$t.log)" >&2
    tail -n 40 "$run/$t.log" >&2
    failed="$failed $t"
    continue
  fi
  echo "run_seeds: $t: ok, $(sed -n 's/^stat::number_of_executed_units: //p' \
    "$run/$t.log") runs, $(sed -n 's/^stat::average_exec_per_sec: //p' \
    "$run/$t.log")/s, $(grep -E '^#[0-9]+' "$run/$t.log" | tail -n 1 |
    sed -n 's/.* \(cov: [0-9]*\) .*/\1/p') edges"
done

if [ -n "$failed" ]; then
  echo "run_seeds: failed:$failed (new inputs in $run/artifacts/)" >&2
  exit 1
fi
echo "run_seeds: all targets ran without a finding"
