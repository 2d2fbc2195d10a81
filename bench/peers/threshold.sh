#!/usr/bin/env bash
# Per-class weights for a label metric (accuracy), 26 classes: `compe threshold` against a numpy
# implementation of the same coordinate search (bench/peers/threshold_peer.py) on the OOF of one
# `compe run --model linear` on UCI letter recognition (r-cran-mlbench; 15,000 train rows, built
# by bench/baseline/build_competitions.py). Both sides fit the weights on every OOF row and on
# each fold's other folds (nested CV). The two sides alternate REPEATS times (default 2) so that
# they share the machine's load; the load average is printed with each run.
#   bench/peers/threshold.sh BUILD_DIR [REPEATS]
# compe's times are the whole command (reading the run, the 6 fits, writing the label run); the
# peer's are its fits only. Set OLD_COMPE=path/to/compe to time an older build the same way.
set -euo pipefail
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
build=$(cd "${1:-build}" && pwd)
repeats=${2:-2}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$root/bench/baseline/build_competitions.py" "$work/data" --only letters > /dev/null 2>&1
cd "$work"
"$build/compe" init ws --from data/letters > /dev/null
"$build/compe" folds --workspace ws > /dev/null
run=$("$build/compe" run --model linear --workspace ws --threads 2 --json |
  /usr/bin/python3 -c "import json, sys; print(json.load(sys.stdin)['run_id'])")
load() { cut -d' ' -f1 /proc/loadavg; }
time_compe() {  # BINARY LABEL: prints "label wall cpu load" and keeps the JSON in LABEL.json
  local l0 t0 t1
  l0=$(load)
  t0=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$2.cpu" "$1" threshold "$run" --workspace ws --json > "$2.json"
  t1=$(date +%s.%N)
  echo "$2 $(echo "$t1 - $t0" | bc) $(awk '{print $1 + $2}' "$2.cpu") $l0-$(load)"
}
for i in $(seq "$repeats"); do
  time_compe "$build/compe" compe
  l0=$(load)
  /usr/bin/python3 "$root/bench/peers/threshold_peer.py" "ws/runs/$run" data/letters/train.csv letter > peer.json
  /usr/bin/python3 -c "import json; p = json.load(open('peer.json')); print('numpy', round(p['seconds'], 3), round(p['cpu_seconds'], 3), '$l0-$(load)')"
  if [[ -n "${OLD_COMPE:-}" ]]; then time_compe "$OLD_COMPE" old; fi
done | tee times.txt
/usr/bin/python3 - <<'PY'
import json
import statistics
rows = [line.split() for line in open("times.txt")]
c, p = json.load(open("compe.json")), json.load(open("peer.json"))
def best(side, i):
    return min(float(r[i]) for r in rows if r[0] == side)
wc, cc, wp, cp = best("compe", 1), best("compe", 2), best("numpy", 1), best("numpy", 2)
wdiff = max(abs(a - b) for a, b in zip(c["rule"]["class_weights"], p["class_weights"]))
print("26-class letters, 15,000 OOF rows, accuracy, class weights fitted on all rows + 5 nested folds")
print(f"compe threshold (whole command): {wc:.2f} s wall, {cc:.2f} s CPU   passes {c['rule']['passes']}")
print(f"numpy coordinate search (fits):  {wp:.2f} s wall, {cp:.2f} s CPU   passes {p['passes']}")
print(f"ratio numpy / compe: {wp / wc:.1f}x wall, {cp / cc:.1f}x CPU (best of each side)")
print(f"same weights: max |diff| {wdiff:.3g}; nested cv {c['nested_score']:.6f} vs {p['nested_score']:.6f}; "
      f"in-sample {c['in_sample_score']:.6f} vs {p['in_sample_score']:.6f}; as predicted {c['as_predicted']:.6f}; "
      f"beats as predicted: {c['beats_as_predicted']}")
if any(r[0] == "old" for r in rows):
    o = json.load(open("old.json"))
    print(f"older compe: {best('old', 1):.2f} s wall, {best('old', 2):.2f} s CPU; same weights: "
          f"{o['rule']['class_weights'] == c['rule']['class_weights']}")
PY
