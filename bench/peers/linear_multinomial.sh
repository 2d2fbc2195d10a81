#!/usr/bin/env bash
# Multinomial logistic regression, 26 classes: compe's `linear` backend against scikit-learn's
# LogisticRegression (lbfgs, C = 1, standardised features) on the same folds of UCI letter
# recognition (r-cran-mlbench; 15,000 train rows x 16 features, built by
# bench/baseline/build_competitions.py). Times are the models' fit + predict, summed over the folds.
#   bench/peers/linear_multinomial.sh BUILD_DIR
set -euo pipefail
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
build=$(cd "${1:-build}" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$root/bench/baseline/build_competitions.py" "$work/data" --only letters > /dev/null 2>&1
cd "$work"
"$build/compe" init ws --from data/letters > /dev/null
"$build/compe" folds --workspace ws > /dev/null
c=$(/usr/bin/time -f "%U %S" -o cpu.txt "$build/compe" run --model linear --workspace ws --threads 2 --json)
p=$(/usr/bin/python3 "$root/bench/peers/linear_multinomial_peer.py" ws)
/usr/bin/python3 - "$c" "$p" "$(cat cpu.txt)" <<'PY'
import json, sys
c, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
cpu = sum(float(x) for x in sys.argv[3].split())
print("| side | fit+predict wall s (5 folds) | CPU s | OOF accuracy |")
print("| --- | --- | --- | --- |")
print(f"| compe linear | {c['model_seconds']:.2f} | {cpu:.2f} (whole command: CSV, folds, 5 fits, files) | {c['cv']:.4f} |")
for k, v in p.items():
    print(f"| {k} | {v['seconds']:.2f} | {v['cpu_seconds']:.2f} (fits and predictions only) | {v['accuracy']:.4f} |")
PY
