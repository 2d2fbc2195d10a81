#!/usr/bin/env bash
# Quality and speed of `compe run` against python3-xgboost + scikit-learn on the same folds.
#   bench/peers/pipeline.sh BUILD_DIR            quality table on every bundled competition
#   COMPE_BENCH_BIG=1 bench/peers/pipeline.sh B  also the 1e6 x 50 synthetic speed run
set -euo pipefail
build=${1:-build}
compe=$(realpath "$build/compe")
root=$(cd "$(dirname "$0")/../.." && pwd)
py=/usr/bin/python3
# Both sides run with the same OpenMP wait policy (compe sets passive itself unless told otherwise).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

params='{"eta": 0.05, "max_depth": 4, "num_boost_round": 300, "nthread": 2, "seed": 0}'
echo "| competition | metric | compe cv | xgboost+sklearn cv | |diff| | compe s | peer s |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for comp in titanic breast_cancer ames; do
  ws=$work/$comp
  "$compe" init "$ws" --from "$root/examples/$comp/data" > /dev/null
  "$compe" folds --workspace "$ws" > /dev/null
  transform=none; flag=""
  if [[ $comp == ames ]]; then transform=log1p; flag=--log1p; fi
  cat > "$ws/exp.toml" <<TOML
[model]
backend = "xgboost"
[model.params]
eta = 0.05
max_depth = 4
num_boost_round = 300
early_stopping_rounds = 0
nthread = 2
seed = 0
[features]
target_transform = "$transform"
TOML
  c=$("$compe" run "$ws/exp.toml" --workspace "$ws" --json)
  p=$($py "$root/bench/peers/pipeline_peer.py" "$ws" "$params" $flag)
  $py - "$comp" "$c" "$p" <<'PY'
import json, sys
comp, c, p = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
print(f"| {comp} | {c['metric']} | {c['cv']:.6f} | {p['cv']:.6f} | {abs(c['cv']-p['cv']):.6f} | {c['wall_seconds']:.2f} | {p['wall_seconds']:.2f} |")
PY
done

if [[ "${COMPE_BENCH_BIG:-0}" == "1" ]]; then
  big=$work/big
  mkdir -p "$big/data"
  $py - "$big/data" <<'PY'
import sys, numpy as np, pandas as pd
out = sys.argv[1]
rng = np.random.default_rng(0)
n, m = 1_000_000, 50
X = rng.normal(size=(n + 100_000, m)).astype(np.float32)
logit = X[:, :10] @ rng.normal(size=10) + 0.5 * X[:, 10] * X[:, 11]
y = (rng.random(n + 100_000) < 1 / (1 + np.exp(-logit))).astype(int)
cols = [f"f{i}" for i in range(m)]
tr = pd.DataFrame(X[:n], columns=cols); tr.insert(0, "id", np.arange(n)); tr["target"] = y[:n]
te = pd.DataFrame(X[n:], columns=cols); te.insert(0, "id", np.arange(n, n + 100_000))
tr.to_csv(f"{out}/train.csv", index=False, float_format="%.6g")
te.to_csv(f"{out}/test.csv", index=False, float_format="%.6g")
pd.DataFrame({"id": te["id"], "target": 0.5}).to_csv(f"{out}/sample_submission.csv", index=False)
PY
  "$compe" init "$big/ws" --from "$big/data" --task binary --metric roc_auc > /dev/null
  "$compe" folds --workspace "$big/ws" --strategy kfold > /dev/null
  cat > "$big/exp.toml" <<TOML
[model]
backend = "xgboost"
[model.params]
max_depth = 6
eta = 0.1
num_boost_round = 200
early_stopping_rounds = 0
nthread = 2
[run]
threads = 2
TOML
  c=$("$compe" run "$big/exp.toml" --workspace "$big/ws" --json)
  big_params='{"max_depth": 6, "eta": 0.1, "num_boost_round": 200, "nthread": 2}'
  p=$($py "$root/bench/peers/pipeline_peer.py" "$big/ws" "$big_params")
  pv=$($py "$root/bench/peers/pipeline_peer.py" "$big/ws" "$big_params" --eval-valid)
  $py - "$c" "$p" "$pv" <<'PY'
import json, sys
c, p, pv = (json.loads(a) for a in sys.argv[1:4])
own = c["wall_seconds"] - c["model_seconds"]
print(f"\n1e6 x 50 binary, 5 folds, 200 rounds, depth 6, hist, 2 threads")
print(f"compe run (valid curve recorded every round):   {c['wall_seconds']:7.1f} s  cv {c['cv']:.5f}")
print(f"python3-xgboost + sklearn, no evals:            {p['wall_seconds']:7.1f} s  cv {p['cv']:.5f}  ratio {c['wall_seconds'] / p['wall_seconds']:.2f}")
print(f"python3-xgboost + sklearn, valid eval per round: {pv['wall_seconds']:7.1f} s  cv {pv['cv']:.5f}  ratio {c['wall_seconds'] / pv['wall_seconds']:.2f}")
print(f"compe's own time outside the backend's fit/predict: {own:.1f} s = {own / c['wall_seconds']:.1%} of the run")
PY
fi
