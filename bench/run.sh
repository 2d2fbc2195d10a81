#!/usr/bin/env bash
# `make bench`: every side-by-side benchmark in bench/peers/ against BUILD_DIR, each printing its
# ratios to the peer measured in the same run.
#   bench/run.sh BUILD_DIR            reduced sizes that still show each effect (minutes, not hours)
#   FULL=1 bench/run.sh BUILD_DIR     the sizes of bench/RESULTS.md (the 1e6-row pipeline included)
# Every script runs under `timeout` (BENCH_TIMEOUT seconds each, default 900 reduced, none full):
# one that runs out is reported and the others still run. The load average is printed before
# each script, as the 2-core machine is shared.
set -uo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
full=${FULL:-0}
limit=${BENCH_TIMEOUT:-$([[ $full == 1 ]] && echo 0 || echo 900)}
failed=()
bench() {  # SCRIPT ARGS...
  echo "== $* (load $(cut -d' ' -f1-3 /proc/loadavg))"
  local rc=0
  if [[ $limit == 0 ]]; then bash "$@" || rc=$?; else timeout "$limit" bash "$@" || rc=$?; fi
  if ((rc != 0)); then
    echo "!! $1 ended with status $rc$( ((rc == 124)) && echo " (over ${limit} s)")"
    failed+=("$1")
  fi
}
if [[ $full == 1 ]]; then
  bench bench/peers/metrics.sh "$build"
  bench bench/peers/csv_read.sh "$build"
  bench bench/peers/splits.sh "$build"
  bench bench/peers/blend.sh "$build" 1000000 100
  bench bench/peers/model.sh "$build" 200000 30 100
  bench bench/peers/linear_multinomial.sh "$build"
  bench bench/peers/threshold.sh "$build" 3
  bench bench/peers/tune.sh "$build" 1000 10000 "100 300" 10
  bench bench/peers/tune_proposals.sh "$build"
  bench bench/peers/tune_xgb.sh "$build" 100 10
  bench bench/peers/wbf.sh "$build"
  COMPE_BENCH_BIG=1 bench bench/peers/pipeline.sh "$build"
else
  bench bench/peers/metrics.sh "$build" 1000000
  bench bench/peers/csv_read.sh "$build" 100000
  bench bench/peers/splits.sh "$build" 100000 10000
  bench bench/peers/blend.sh "$build" 100000 20
  bench bench/peers/model.sh "$build" 20000 30 50
  bench bench/peers/linear_multinomial.sh "$build"
  bench bench/peers/threshold.sh "$build" 1
  bench bench/peers/tune.sh "$build" 300 2000 100 3
  bench bench/peers/tune_proposals.sh "$build"
  IMAGES=100 bench bench/peers/wbf.sh "$build"
fi
if ((${#failed[@]})); then
  echo "benchmarks that did not finish: ${failed[*]}"
  exit 1
fi
