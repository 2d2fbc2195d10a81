#!/usr/bin/env bash
# Does compe's TPE propose what Optuna 3.1's TPESampler proposes? For one fixed history (a real
# XGBoost tuning on examples/titanic: `compe tune` with 5 parameters, 3 folds, 60 rounds), both
# draw DRAWS independent proposals per parameter (Optuna: a fresh TPESampler(seed=s) per draw,
# compe: a fresh sampler with generator seed s) and a two-sample Kolmogorov-Smirnov test compares
# the two sets for each parameter. Same algorithm, other random generators: the p-values should
# look uniform, with no parameter far below 0.01.
#   bench/peers/tune_proposals.sh BUILD_DIR [TRIALS] [DRAWS] [SEED]
set -euo pipefail
build=${1:?usage: tune_proposals.sh BUILD_DIR [TRIALS] [DRAWS] [SEED]}
trials=${2:-60}
draws=${3:-2000}
seed=${4:-4}
compe="$(cd "$build" && pwd)/compe"
tool="$(cd "$build" && pwd)/bench/bench_tune"
root=$(cd "$(dirname "$0")/../.." && pwd)
for f in "$compe" "$tool"; do
  [[ -x "$f" ]] || { echo "missing $f: build the compe and bench_tune targets" >&2; exit 2; }
done
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$compe" init "$dir/ws" --from "$root/examples/titanic/data" > /dev/null
sed -i 's/^k = 5/k = 3/' "$dir/ws/compe.toml"
cp "$root/bench/peers/tune_xgb.toml" "$dir/exp.toml"
"$compe" tune "$dir/exp.toml" --workspace "$dir/ws" --study h --seed "$seed" --trials "$trials" \
  > /dev/null
"$compe" study show h --workspace "$dir/ws" --json > "$dir/study.json"
/usr/bin/python3 - "$dir/study.json" "$dir/history.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
space = {
    "learning_rate": {"type": "float", "low": 0.01, "high": 0.5, "log": True},
    "max_depth": {"type": "int", "low": 2, "high": 10, "log": False, "step": 1},
    "min_child_weight": {"type": "float", "low": 0.1, "high": 20.0, "log": True},
    "subsample": {"type": "float", "low": 0.5, "high": 1.0, "log": False},
    "colsample_bytree": {"type": "float", "low": 0.4, "high": 1.0, "log": False},
}
trials = [{"params": t["params"], "value": t["value"]} for t in s["trials"] if t["state"] == "complete"]
json.dump({"direction": "maximize", "space": space, "trials": trials}, open(sys.argv[2], "w"))
PY
"$tool" proposals "$dir/history.json" "$draws" > "$dir/compe.txt"
/usr/bin/python3 - "$dir/history.json" "$dir/compe.txt" "$draws" <<'PY'
import json, sys
import numpy as np
import optuna
from scipy.stats import ks_2samp
optuna.logging.set_verbosity(optuna.logging.WARNING)
h = json.load(open(sys.argv[1]))
draws = int(sys.argv[3])
D = optuna.distributions
dists = {}
for k, d in h["space"].items():
    dists[k] = (D.IntDistribution(d["low"], d["high"], log=d["log"]) if d["type"] == "int"
                else D.FloatDistribution(d["low"], d["high"], log=d["log"]))
study = optuna.create_study(direction=h["direction"])
study.add_trials([optuna.trial.create_trial(params=t["params"], distributions=dists, value=t["value"])
                  for t in h["trials"]])
frozen = study.trials[0]
ours = {}
for line in open(sys.argv[2]):
    name, *vals = line.split()
    ours[name] = np.array([float(v) for v in vals])
print(f"{len(h['trials'])} complete trials; {draws} proposals per parameter and tool")
print(f"{'parameter':18} {'compe mean':>12} {'optuna mean':>12} {'compe median':>13} {'optuna median':>14} {'KS p':>8}")
for name, dist in dists.items():
    theirs = np.array([optuna.samplers.TPESampler(seed=s).sample_independent(study, frozen, name, dist)
                       for s in range(draws)], dtype=float)
    p = ks_2samp(ours[name], theirs).pvalue
    print(f"{name:18} {ours[name].mean():12.5g} {theirs.mean():12.5g} {np.median(ours[name]):13.5g} "
          f"{np.median(theirs):14.5g} {p:8.3f}")
PY
