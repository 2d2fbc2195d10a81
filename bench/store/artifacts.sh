#!/usr/bin/env bash
# Artifacts in the store: push and pull of a run whose oof.csv and test.csv have N rows each
# (default 1e6), on a SQLite store file and on a loopback PostgreSQL (scripts/start-postgres.sh;
# left out when no server binary is installed). Prints MB/s (bytes of the run's files / seconds)
# and the store's size against the files' bytes.
# Usage: bench/store/artifacts.sh BUILD_DIR [ROWS]
set -euo pipefail
build=$(cd "${1:?usage: artifacts.sh BUILD_DIR [ROWS]}" && pwd)
rows=${2:-1000000}
compe="$build/compe"
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
pgdir=""
cleanup() {
  if [[ -n "$pgdir" ]]; then "$root/scripts/start-postgres.sh" --stop "$pgdir" >/dev/null 2>&1 || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
cd "$tmp"

# A synthetic binary competition: ROWS train rows, ROWS test rows, 3 numeric features.
/usr/bin/python3 - "$rows" <<'PY'
import os, random, sys
n = int(sys.argv[1])
rng = random.Random(20)
os.makedirs("data")
with open("data/train.csv", "w") as tr:
    tr.write("id,a,b,c,target\n")
    for i in range(n):
        a, b, c = rng.random(), rng.random(), rng.random()
        y = 1 if a + 0.5 * b + 0.3 * rng.random() > 0.9 else 0
        tr.write(f"{i},{a:.6f},{b:.6f},{c:.6f},{y}\n")
with open("data/test.csv", "w") as te, open("data/sample_submission.csv", "w") as ss:
    te.write("id,a,b,c\n")
    ss.write("id,target\n")
    for i in range(n, 2 * n):
        te.write(f"{i},{rng.random():.6f},{rng.random():.6f},{rng.random():.6f}\n")
        ss.write(f"{i},0.5\n")
PY
"$compe" init ws --from data --metric roc_auc > /dev/null
t0=$(date +%s.%N)
run=$("$compe" run --model linear --workspace ws --json | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['run_id'])")
t1=$(date +%s.%N)
bytes=$(cat ws/runs/"$run"/* | wc -c)
csv_bytes=$(cat ws/runs/"$run"/oof.csv ws/runs/"$run"/test.csv | wc -c)
echo "run $run: compe run --model linear $(printf '%.1f' "$(echo "$t1 - $t0" | bc)") s;" \
     "oof.csv + test.csv: $csv_bytes bytes ($(wc -l < ws/runs/"$run"/oof.csv) and" \
     "$(wc -l < ws/runs/"$run"/test.csv) lines); every file of the run: $bytes bytes"
ls -l ws/runs/"$run" | awk 'NR > 1 {printf "  %12d  %s\n", $5, $9}'

mbps() { /usr/bin/python3 -c "import sys; print(f'{$1 / 1e6 / $2:.1f}')"; }
now() { date +%s.%N; }

bench_store() {  # LABEL STORE_URL SIZE_COMMAND
  local label=$1 store=$2 size_cmd=$3
  local fresh="fresh_$label"
  local a b c
  a=$(now)
  "$compe" push "$run" --workspace ws --store "$store" > /dev/null
  b=$(now)
  "$compe" init "$fresh" --from data --metric roc_auc > /dev/null
  c=$(now)
  "$compe" pull "$run" --workspace "$fresh" --store "$store" > /dev/null
  local d
  d=$(now)
  for f in ws/runs/"$run"/*; do
    cmp -s "$f" "$fresh/runs/$run/$(basename "$f")" || { echo "FAIL: $f differs after the pull"; exit 1; }
  done
  local push_s pull_s size
  push_s=$(echo "$b - $a" | bc)
  pull_s=$(echo "$d - $c" | bc)
  size=$(eval "$size_cmd")
  printf '%-10s push %6.2f s  %6s MB/s | pull %6.2f s  %6s MB/s | store %s bytes = %s of the files\n' \
    "$label" "$push_s" "$(mbps "$bytes" "$push_s")" "$pull_s" "$(mbps "$bytes" "$pull_s")" \
    "$size" "$(/usr/bin/python3 -c "print(f'{$size / $bytes:.3f}')")"
}

# SQLite: a store file of its own (the record is copied, then the files stream in).
bench_store sqlite "$tmp/target.db" "stat -c %s '$tmp/target.db'"

if ls /usr/lib/postgresql/*/bin/pg_ctl > /dev/null 2>&1; then
  pgdir=$(mktemp -d)
  url=$("$root/scripts/start-postgres.sh" "$pgdir")
  schema=bench_artifacts
  sep='?'; [[ "$url" == *\?* ]] && sep='&'
  pg_size="psql -At '${url%%\?*}' -c \"select sum(pg_total_relation_size(c.oid)) from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = '$schema' and c.relkind = 'r' and c.relname like 'artifact%'\""
  bench_store postgres "${url}${sep}schema=${schema}" "$pg_size"
else
  echo "postgres   skipped: no PostgreSQL server installed"
fi
