#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD/fuzz for SECONDS each, under ASan and UBSan, on corpora
# seeded from the competitions, fixtures and malformed CLI cases (fuzz/seeds.py). Findings go to
# BUILD/fuzz-artifacts/; a summary (executions per target) to BUILD/fuzz-summary.txt.
# Usage: scripts/fuzz.sh BUILD SECONDS [TARGET...]
# FUZZ_JOBS (default 1) targets run at once, each on one core (CI: 2).
set -euo pipefail
build="${1:?usage: scripts/fuzz.sh BUILD SECONDS [TARGET...]}"
seconds="${2:-30}"
shift 2 || true
jobs="${FUZZ_JOBS:-1}"
root="$(cd "$(dirname "$0")/.." && pwd)"
targets=("$@")
if ((${#targets[@]} == 0)); then
  for t in "$build"/fuzz/fuzz_*; do targets+=("$(basename "$t" | sed 's/^fuzz_//')"); done
fi
corpus="$build/fuzz-corpus"
artifacts="$build/fuzz-artifacts"
mkdir -p "$corpus" "$artifacts"
python3 "$root/fuzz/seeds.py" "$corpus"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
summary="$build/fuzz-summary.txt"
: > "$summary"
# The targets write their inputs under TMPDIR: one folder for this run, removed at the end.
scratch="$(mktemp -d /tmp/compe-fuzz-run.XXXXXX)"
trap 'rm -rf "$scratch"' EXIT

# One target: its log in BUILD/fuzz-T.log, its summary line(s) in $scratch/T.result, exit 1 on a
# finding.
fuzz_one() {
  local t="$1" log="$build/fuzz-$1.log" rc execs cov units
  mkdir -p "$corpus/$t" "$scratch/$t"
  set +e
  (cd "$build" && TMPDIR="$scratch/$t" \
    "$build/fuzz/fuzz_$t" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=3072 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$artifacts/$t-" "$corpus/$t" >"$log" 2>&1)
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*' || echo 0)
  units=$(ls "$corpus/$t" | wc -l)
  if ((rc != 0)); then
    { echo "fuzz_$t: FINDING (exit $rc), see $log and $artifacts/"
      grep -m5 -E 'ERROR|runtime error|SUMMARY|deadly signal' "$log" || true; } > "$scratch/$t.result"
    return 1
  fi
  printf 'fuzz_%-6s %4ss  %10s executions  %6s edges  %5s corpus units\n' "$t" "$seconds" "$execs" "$cov" \
    "$units" > "$scratch/$t.result"
}

for t in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
  fuzz_one "$t" &
done
wait || true
failed=0
for t in "${targets[@]}"; do
  if [[ ! -f "$scratch/$t.result" ]]; then echo "fuzz_$t: no result" > "$scratch/$t.result"; fi
  if ! grep -q ' executions ' "$scratch/$t.result"; then failed=1; fi
  tee -a "$summary" < "$scratch/$t.result"
done
exit "$failed"
