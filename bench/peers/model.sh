#!/usr/bin/env bash
# Model backends over 5 folds: compe (bench_model) against python3-xgboost and scikit-learn on
# the same synthetic data (same files), same parameters, 2 threads.
#   bench/peers/model.sh BUILD_DIR [ROWS FEATURES ROUNDS]
set -euo pipefail
# Passive OpenMP waiting keeps both sides fair on a loaded machine (spinning threads starve).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
build=${1:-build}
rows=${2:-200000}
features=${3:-30}
rounds=${4:-100}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
c=$("$build/bench/bench_model" "$work" "$rows" "$features" "$rounds")
p=$(/usr/bin/python3 "$root/bench/peers/model_peer.py" "$work" "$rows" "$features" "$rounds")
/usr/bin/python3 - "$c" "$p" <<'PY'
import json, sys
c, p = json.loads(sys.argv[1]), json.loads(sys.argv[2])
print(f"rows {c['rows']}, features {c['features']}; compe feature matrix build {c['feature_matrix_s']:.3f} s")
print("| backend | compe s | peer s | peer/compe | compe oof auc | peer oof auc |")
print("| --- | --- | --- | --- | --- | --- |")
for b, peer in (("xgboost", "python3-xgboost"), ("linear", "scikit-learn")):
    print(f"| {b} vs {peer} | {c[b+'_s']:.2f} | {p[b+'_s']:.2f} | {p[b+'_s']/c[b+'_s']:.2f} | {c[b+'_auc']:.6f} | {p[b+'_auc']:.6f} |")
PY
