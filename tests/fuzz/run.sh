#!/usr/bin/env bash
# Runs each fuzz target over its seed corpus plus mutations, one target at a time on one core.
#   tests/fuzz/run.sh BUILD_DIR SECONDS [MAX_RUNS] [TARGET...]
# BUILD_DIR was configured with -DNUCSEG_FUZZ=ON. FUZZ_TIMEOUT (seconds, default 60) is how long one
# input may take before it counts as a hang: generous, since the runs are niced beside other
# work. New corpus entries go to BUILD_DIR/fuzz-work/
# (the committed seeds in tests/fuzz/corpus/ stay as they are), crashing inputs to
# BUILD_DIR/fuzz-artifacts/. Prints one line per target: executions, seconds; exits non-zero
# on the first crash, leak of an exception, timeout or out-of-memory.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="$(cd "$1" && pwd)"; seconds="$2"; runs="${3:-0}"; shift $(( $# >= 3 ? 3 : 2 ))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(png_reader tiff_metadata image_reader config dataset csv plate)
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$here/../sanitizer/ubsan.supp"
mkdir -p "$build/fuzz-artifacts"
for t in "${targets[@]}"; do
  work="$build/fuzz-work/$t"; mkdir -p "$work"
  log="$build/fuzz-work/$t.log"
  start=$(date +%s)
  args=(-max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-60}" -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$build/fuzz-artifacts/$t-")
  [ "$runs" -gt 0 ] && args+=(-runs="$runs")
  if ! nice -n 15 "$build/tests/fuzz/fuzz_$t" "${args[@]}" "$work" "$here/corpus/$t" > "$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz_$t: FAILED after $(( $(date +%s) - start )) s (log $log, input in $build/fuzz-artifacts/)"
    exit 1
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  echo "fuzz_$t: ${execs:-?} executions in $(( $(date +%s) - start )) s, no crash"
done
