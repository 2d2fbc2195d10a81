#!/usr/bin/env bash
# The Fashion-MNIST competition end to end: data from Debian's package, a CNN and an XGBoost run
# driven by `compe run`, their blend, and the blend's submission scored on the hidden labels.
#
# Usage: run_example.sh [--quick] COMPE_BINARY WORKDIR
#   --quick: 500 train / 200 test images, one epoch, a few boosting rounds (the CI form).
# The compe Python module must be importable: PYTHONPATH defaults to <dir of COMPE_BINARY>/python.
set -euo pipefail
quick=0
if [ "${1:-}" = "--quick" ]; then quick=1; shift; fi
if [ $# -ne 2 ]; then sed -n '4,7p' "$0" >&2; exit 2; fi
compe=$(realpath "$1")
ws=$(realpath -m "$2")
here=$(cd "$(dirname "$0")" && pwd)
py=${FASHION_MNIST_PYTHON:-/usr/bin/python3}
export PYTHONPATH="$(dirname "$compe")/python${PYTHONPATH:+:$PYTHONPATH}"
# The full example installs what it needs (PyTorch, the data set, the Python module's build
# dependencies) and builds the module beside COMPE_BINARY; the quick form, a CTest entry, installs
# nothing and is skipped without them.
if [ $quick = 0 ]; then
  root=$(cd "$here/../.." && pwd)
  "$root/scripts/install-deps.sh" fashion_mnist
  build=$(dirname "$compe")
  if ! "$py" -c "import compe" 2>/dev/null && [ -f "$build/CMakeCache.txt" ]; then
    make -C "$root" --no-print-directory python BUILD="$build"
  fi
fi
if ! "$py" -c "import torch, compe" 2>/dev/null; then
  echo "skipped: $py cannot import torch and compe (python3-torch; PYTHONPATH=$PYTHONPATH)" >&2
  exit 77
fi

step() { printf '\n$ %s\n' "$*" >&2; "$@"; }
json() { "$py" -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }

rm -rf "$ws"
mkdir -p "$ws"
if [ $quick = 1 ]; then
  step "$py" "$here/make_data.py" "$ws/data" --train 500 --test 200
else
  step "$py" "$here/make_data.py" "$ws/data"
fi
step "$compe" init "$ws" --from "$ws/data"
cd "$ws"
ln -s "$here/train_cnn.py" train_cnn.py
mkdir experiments
cp "$here"/experiments/*.toml experiments/
if [ $quick = 1 ]; then
  sed -i 's/^epochs = .*/epochs = 1/; s/^num_boost_round = .*/num_boost_round = 5/' experiments/*.toml
fi
step "$compe" folds
step "$compe" run experiments/cnn.toml --json > cnn.json
step "$compe" run experiments/xgb.toml --json > xgb.json
cnn=$(json cnn.json "d['run_id']")
xgb=$(json xgb.json "d['run_id']")
step "$compe" blend "$cnn" "$xgb" --method weights --name blend-cnn-xgb --json > blend.json
blend=$(json blend.json "d['run_id']")
step "$compe" runs
for r in "$cnn" "$xgb" "$blend"; do
  "$compe" score --solution data/solution.csv --submission "runs/$r/submission.csv" --metric log_loss \
    --json > "score-$r.json"
done

"$py" - "$cnn" "$xgb" "$blend" <<'PY'
import json, sys
import compe
store = compe.Store(".")
names = ("cnn", "xgb-pixels", "blend")
print("\nrun          id        CV log loss   public    private")
for name, rid in zip(names, sys.argv[1:]):
    run = store.run(rid)
    score = json.load(open(f"score-{rid}.json"))
    print(f"{name:12s} {rid}  {run['cv']:.5f}      {score.get('public', float('nan')):.5f}   "
          f"{score.get('private', float('nan')):.5f}")
curves = store.metrics(sys.argv[1])
keys = sorted({p["key"] for p in curves})
print(f"\ncnn curves logged through the module: {len(curves)} points, keys {keys}")
assert {"train-loss", "valid-loss", "valid-accuracy"} <= set(keys), keys
assert store.run(sys.argv[1])["status"] == "finished"
PY
