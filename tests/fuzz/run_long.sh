#!/bin/sh
# run_long.sh - the long fuzz runs docs/fuzzing.md records: each target
# for 10^7 executions or one hour, whichever comes first, one at a time,
# at the lowest CPU priority.
#
#   nohup tests/fuzz/run_long.sh BUILD_DIR LOGDIR [TARGET...] &
#
# Per target: LOGDIR/TARGET.log (libFuzzer's output) and a line in
# LOGDIR/summary.txt (start date, command, executions, exec/s, coverage,
# result). Findings go to LOGDIR/artifacts/. New corpus inputs go to
# BUILD_DIR/fuzz-long/corpus/TARGET (kept between runs). libdb's printf
# over-read F6 (docs/fuzzing.md, not ours) is looked past through
# check_printf=0.
set -u
build=$(cd "$1" && pwd)
logs=$(mkdir -p "$2" && cd "$2" && pwd)
shift 2
src=$(cd "$(dirname "$0")" && pwd)
# Fastest first, so that their results come in early.
targets=${*:-"sendmail_sender source relay_value lmdb_verify master_cf \
cdb_verify sender_search bdb_verify main_cf"}
runs=${FUZZ_RUNS:-10000000}
seconds=${FUZZ_SECONDS:-3600}
# libFuzzer's -timeout is wall-clock time per input: at nice 19 on a busy
# 2-core machine an input can wait half a minute for the CPU, and a 30 s
# limit then reports inputs that run in milliseconds as hangs (seen on
# 2026-12-02: four false "timeouts", each rerun in under 150 ms).
timeout=${FUZZ_TIMEOUT:-300}

mkdir -p "$logs/artifacts" "$build/fuzz-long/seeds"
"$src/make_seeds.sh" "$build" "$build/fuzz-long/seeds"
export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:check_printf=0
export LSAN_OPTIONS="suppressions=$src/../sanitizers/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

for t in $targets; do
  corpus=$build/fuzz-long/corpus/$t
  mkdir -p "$corpus"
  set -- "$corpus" "$src/$t"
  [ -d "$build/fuzz-long/seeds/$t" ] && set -- "$@" "$build/fuzz-long/seeds/$t"
  cmd="nice -n 19 $build/tests/fuzz/${t}_fuzz -runs=$runs \
-max_total_time=$seconds -timeout=$timeout -rss_limit_mb=2048 -max_len=65536 \
-print_final_stats=1 -artifact_prefix=$logs/artifacts/$t- $*"
  start=$(date -u '+%Y-%m-%d %H:%M:%SZ')
  t0=$(date +%s)
  # shellcheck disable=SC2086
  $cmd >"$logs/$t.log" 2>&1
  rc=$?
  elapsed=$(($(date +%s) - t0))
  execs=$(sed -n 's/^stat::number_of_executed_units: //p' "$logs/$t.log")
  speed=$(sed -n 's/^stat::average_exec_per_sec: //p' "$logs/$t.log")
  cov=$(grep -E '^#[0-9]+' "$logs/$t.log" | tail -n 1 |
    sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\) corp: \([^ ]*\).*/cov \1 ft \2 corpus \3/p')
  if [ $rc -eq 0 ]; then
    result="no finding"
  else
    result="FINDING rc=$rc: $(grep -m1 -E 'SUMMARY|fuzz invariant' "$logs/$t.log")"
  fi
  printf '%s | %s | %ss | %s execs | %s exec/s | %s | %s | %s\n' \
    "$t" "$start" "$elapsed" "${execs:-?}" "${speed:-?}" "${cov:-?}" \
    "$result" "ASAN_OPTIONS=$ASAN_OPTIONS $cmd" \
    >>"$logs/summary.txt"
done
