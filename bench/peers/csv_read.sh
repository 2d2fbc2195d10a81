#!/usr/bin/env bash
# Side-by-side CSV reading: compe::read_csv against pandas.read_csv on the same files.
#   bench/peers/csv_read.sh BUILD_DIR [ROWS]
# Generates (once, seeded) a ROWS x 50 numeric file and a ROWS x 20 mixed file (floats, ints,
# short strings from a 40-word vocabulary, some empty cells) under $CSV_BENCH_DIR
# (default /tmp/compe_csv_bench), then prints the best of 3 wall times of each reader and the
# ratio pandas / compe, and the process CPU time (all threads) of those runs with its ratio:
# on a shared machine the wall ratio understates a multi-threaded reader, the CPU ratio does not
# depend on the load. pandas runs under /usr/bin/python3 (Debian's pandas); its times cover
# read_csv only, not the interpreter start.
set -euo pipefail
build=${1:?usage: csv_read.sh BUILD_DIR [ROWS]}
rows=${2:-1000000}
tool="$build/bench/bench_csv_read"
dir=${CSV_BENCH_DIR:-/tmp/compe_csv_bench}
mkdir -p "$dir"
[[ -x "$tool" ]] || { echo "missing $tool: build the bench_csv_read target" >&2; exit 2; }

for kind in numeric mixed; do
  file="$dir/$kind-$rows.csv"
  seed=$([[ $kind == numeric ]] && echo 42 || echo 43)
  [[ -f "$file" ]] || "$tool" --generate "$kind" "$rows" "$seed" "$file"
done

printf '%-8s %5s %12s %9s %9s %7s %9s %9s %7s\n' file MB shape compe_s pandas_s ratio \
  compe_cpu pandas_cpu ratio
for kind in numeric mixed; do
  file="$dir/$kind-$rows.csv"
  mb=$(( $(stat -L -c %s "$file") / 1000000 ))
  read -r compe compe_cpu < <("$tool" "$file" --repeat 3 2>/dev/null)
  out=$(/usr/bin/python3 - "$file" <<'PY'
import sys, time
import pandas as pd
best, best_cpu = float("inf"), 0.0
for _ in range(3):
    t, c = time.perf_counter(), time.process_time()
    df = pd.read_csv(sys.argv[1])
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    if wall < best:
        best, best_cpu = wall, cpu
print(f"{best:.4f} {best_cpu:.4f} {df.shape[0]}x{df.shape[1]}")
PY
)
  read -r pandas pandas_cpu shape <<<"$out"
  ratio=$(awk -v a="$pandas" -v b="$compe" 'BEGIN { printf "%.1f", a / b }')
  cpu_ratio=$(awk -v a="$pandas_cpu" -v b="$compe_cpu" 'BEGIN { printf "%.1f", a / b }')
  printf '%-8s %5s %12s %9s %9s %6sx %9s %9s %6sx\n' "$kind" "$mb" "$shape" "$compe" "$pandas" \
    "$ratio" "$compe_cpu" "$pandas_cpu" "$cpu_ratio"
done
echo "cores: $(nproc), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
