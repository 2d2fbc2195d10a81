#!/usr/bin/env bash
# Optimisation quality on a real tuning task: XGBoost on the titanic example (examples/titanic,
# 3 folds, 60 boosting rounds, roc_auc maximised), five parameters. compe: `compe tune` with its
# TPE; Optuna 3.1: TPESampler(seed=s) whose objective runs the very same `compe run` with the
# sampled parameters, so both samplers see the identical objective and budget.
#   bench/peers/tune_xgb.sh BUILD_DIR [TRIALS] [SEEDS]
# Prints, for each tool, the best CV per seed and then "mean std" (sample standard deviation).
set -euo pipefail
build=${1:?usage: tune_xgb.sh BUILD_DIR [TRIALS] [SEEDS]}
trials=${2:-100}
seeds=${3:-10}
compe="$(cd "$build" && pwd)/compe"
root=$(cd "$(dirname "$0")/../.." && pwd)
[[ -x "$compe" ]] || { echo "missing $compe: build the compe target" >&2; exit 2; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$compe" init "$dir/ws" --from "$root/examples/titanic/data" > /dev/null
sed -i 's/^k = 5/k = 3/' "$dir/ws/compe.toml"
grep -q '^k = 3' "$dir/ws/compe.toml" || { echo "could not set 3 folds" >&2; exit 2; }
cp "$root/bench/peers/tune_xgb.toml" "$dir/exp.toml"
# The experiment without its parameters and [tune]: what Optuna's trials complete.
base=$(sed -e '/^\[model.params\]/,$d' -e '/^#/d' "$dir/exp.toml")

echo "XGBoost on titanic, 3 folds, best roc_auc after $trials trials over $seeds seeds"
bests=()
for ((s = 0; s < seeds; ++s)); do
  b=$("$compe" tune "$dir/exp.toml" --workspace "$dir/ws" --study "c$s" --seed "$s" \
      --trials "$trials" --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["best"]["value"])')
  bests+=("$b")
done
echo "compe  ${bests[*]}"
/usr/bin/python3 -c 'import sys, statistics as st; v=[float(x) for x in sys.argv[1:]]; print(f"compe  mean {st.mean(v):.6f} std {st.stdev(v) if len(v) > 1 else 0:.6f}")' "${bests[@]}"

/usr/bin/python3 - "$compe" "$dir" "$trials" "$seeds" "$base" <<'PY'
import json, statistics, subprocess, sys
import optuna
optuna.logging.set_verbosity(optuna.logging.WARNING)
compe, d, trials, seeds, base = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
def objective(t):
    p = {"learning_rate": t.suggest_float("learning_rate", 0.01, 0.5, log=True),
         "max_depth": t.suggest_int("max_depth", 2, 10),
         "min_child_weight": t.suggest_float("min_child_weight", 0.1, 20.0, log=True),
         "subsample": t.suggest_float("subsample", 0.5, 1.0),
         "colsample_bytree": t.suggest_float("colsample_bytree", 0.4, 1.0)}
    with open(f"{d}/trial.toml", "w") as f:
        f.write(base + "\n[model.params]\nnum_boost_round = 60\n")
        for k, v in p.items():
            f.write(f"{k} = {v!r}\n")
    out = subprocess.run([compe, "run", f"{d}/trial.toml", "--workspace", f"{d}/ws", "--json",
                          "--allow-multi"], check=True, capture_output=True, text=True).stdout
    return json.loads(out)["cv"]
bests = []
for s in range(seeds):
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=s))
    study.optimize(objective, n_trials=trials)
    bests.append(study.best_value)
print("optuna " + " ".join(f"{b:.6f}" for b in bests))
print(f"optuna mean {statistics.mean(bests):.6f} std {statistics.stdev(bests) if len(bests) > 1 else 0:.6f}")
PY
