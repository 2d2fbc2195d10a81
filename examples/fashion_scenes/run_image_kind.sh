#!/usr/bin/env bash
# The detection or segmentation Fashion-MNIST scenes competition end to end (run_detection.sh and
# run_segmentation.sh call this): data from Debian's package, two models of train.py (widths 16
# and 24) through `compe run` with the command backend on 5 folds, the two combined (detection:
# `compe wbf tune` by run id; segmentation: `compe blend`, a pixel vote), and each submission
# scored on the hidden solution (public and private) by `compe score`.
#
# Usage: run_image_kind.sh detection|segmentation [--quick] COMPE_BINARY WORKDIR
#   --quick: 150 train / 60 test scenes, one epoch of narrow models (the CI form).
# Needs PyTorch for /usr/bin/python3 (python3-torch; FASHION_SCENES_PYTHON picks another
# interpreter) and dataset-fashion-mnist; without them it exits 77 (skipped).
set -euo pipefail
kind=${1:-}
shift || true
quick=0
if [ "${1:-}" = "--quick" ]; then quick=1; shift; fi
if [ "$kind" != detection ] && [ "$kind" != segmentation ] || [ $# -ne 2 ]; then
  sed -n '8,11p' "$0" >&2
  exit 2
fi
compe=$(realpath "$1")
ws=$(realpath -m "$2")
here=$(cd "$(dirname "$0")" && pwd)
py=${FASHION_SCENES_PYTHON:-/usr/bin/python3}
if ! "$py" -c "import torch, numpy" 2>/dev/null; then
  echo "skipped: $py cannot import torch and numpy (install python3-torch: scripts/install-deps.sh examples)" >&2
  exit 77
fi
if [ ! -d /usr/share/datasets/fashion-mnist ]; then
  echo "skipped: /usr/share/datasets/fashion-mnist is missing (install dataset-fashion-mnist)" >&2
  exit 77
fi

step() { printf '\n$ %s\n' "$*" >&2; "$@"; }
field() { "$py" -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$@"; }

rm -rf "$ws"
mkdir -p "$ws"
if [ $quick = 1 ]; then
  step "$py" "$here/make_data.py" "$kind" "$ws/data" --train 150 --test 60 --no-png
else
  step "$py" "$here/make_data.py" "$kind" "$ws/data"
fi
step "$compe" init "$ws" --from "$ws/data"
cd "$ws"
ln -s "$here/train.py" train.py
mkdir experiments
cp "$here/experiments/$kind"/*.toml experiments/
if [ $quick = 1 ]; then
  sed -i 's/^epochs = .*/epochs = 1/; s/^width = 16/width = 4/; s/^width = 24/width = 6/' experiments/*.toml
fi
step "$compe" folds
timed_run() {  # name, experiment: the run's JSON in <name>.json and its wall time in <name>.seconds
  local t0 t1
  t0=$(date +%s.%N)
  step "$compe" run "$2" --json > "$1.json"
  t1=$(date +%s.%N)
  "$py" -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$t1" > "$1.seconds"
}
timed_run w16 experiments/width16.toml
timed_run w24 experiments/width24.toml
a=$(field w16.json run_id)
b=$(field w24.json run_id)
step "$compe" runs

# The two runs combined on the same folds: detection boxes fused with WBF, its settings tuned on
# the OOF boxes with a nested check over the folds; segmentation masks by a weighted pixel vote,
# chosen the same way. Either is recorded as a run (kind blend) with its nested CV.
t0=$(date +%s.%N)
if [ "$kind" = detection ]; then
  trials=40
  [ $quick = 1 ] && trials=8
  step "$compe" wbf tune "$a" "$b" --trials $trials --seed 1 --name fused --json > combined.json
else
  step "$compe" blend "$a" "$b" --name voted --json > combined.json
fi
"$py" -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$t0" "$(date +%s.%N)" > combined.seconds
c=$(field combined.json run_id)

# Public and private scores of each submission on the hidden solution.
for r in "$a" "$b" "$c"; do
  step "$compe" score --solution data/solution.csv --submission "runs/$r/submission.csv" --json > "score-$r.json"
done

"$py" - "$kind" "$quick" "$a" "$b" "$c" <<'PY'
import json, math, sys
kind, quick = sys.argv[1], sys.argv[2] == "1"
metric = "coco_map50" if kind == "detection" else "dice"
print(f"\nrun     id        CV {metric:10s}  public   private  wall s")
for name, rid in zip(("w16", "w24", "combined"), sys.argv[3:]):
    run = json.load(open(f"{name}.json"))
    run = run.get("run", run)
    score = json.load(open(f"score-{rid}.json"))
    wall = open(f"{name}.seconds").read().strip()
    print(f"{name:7s} {rid}  {run['cv']:.5f}        {score['public']:.5f}  {score['private']:.5f}  {wall}")
    assert run["kind"] == ("blend" if name == "combined" else "model") and len(run["folds"]) == 5, run
    # The quick form's models see one epoch of 120 scenes: only the plumbing is checked.
    low = 0.0 if quick else 0.1
    for v in (run["cv"], score["public"], score["private"]):
        assert math.isfinite(v) and low <= v <= 1.0, (name, v)
PY
