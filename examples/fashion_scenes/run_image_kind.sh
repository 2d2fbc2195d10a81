#!/usr/bin/env bash
# The detection or segmentation Fashion-MNIST scenes competition end to end (run_detection.sh and
# run_segmentation.sh call this): data from Debian's package, two models of train.py (widths 16
# and 24) through `compe run` with the command backend on 5 folds, and each submission scored on
# the hidden solution (public and private).
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
  sed -n '7,10p' "$0" >&2
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

# Public and private scores: `compe score` where it scores this kind's submission layout; else
# the same metric computed here from the run's files (detection: its test_boxes.csv against the
# ground-truth rows; segmentation: mean Dice per image and class, both empty = 1).
for r in "$a" "$b"; do
  if ! "$compe" score --solution data/solution.csv --submission "runs/$r/submission.csv" --json > "score-$r.json" 2> "score-$r.err"; then
    if [ "$kind" = detection ]; then
      step "$compe" score --solution data/solution.csv --submission "runs/$r/test_boxes.csv" --json > "score-$r.json"
    else
      "$py" - "runs/$r/submission.csv" data/solution.csv > "score-$r.json" <<'PY'
import csv, json, sys
import numpy as np

def mask(code, n=96 * 96):
    m = np.zeros(n, dtype=bool)
    v = [int(t) for t in code.split()]
    for s, l in zip(v[0::2], v[1::2]):
        m[s - 1:s - 1 + l] = True
    return m

sub = {r["Image_Label"]: r["EncodedPixels"] for r in csv.DictReader(open(sys.argv[1]))}
parts = {"Public": [], "Private": []}
for r in csv.DictReader(open(sys.argv[2])):
    a, b = mask(r["EncodedPixels"]), mask(sub[r["Image_Label"]])
    d = 1.0 if a.sum() + b.sum() == 0 else 2 * (a & b).sum() / (a.sum() + b.sum())
    parts[r["Usage"]].append(d)
print(json.dumps({"metric": "dice", "public": float(np.mean(parts["Public"])),
                  "private": float(np.mean(parts["Private"])), "scored_by": "run_image_kind.sh (numpy)"}))
PY
    fi
  fi
done

"$py" - "$kind" "$quick" "$a" "$b" <<'PY'
import json, math, sys
kind, quick = sys.argv[1], sys.argv[2] == "1"
metric = "coco_map50" if kind == "detection" else "dice"
print(f"\nrun     id        CV {metric:10s}  public   private  wall s")
for name, rid in zip(("w16", "w24"), sys.argv[3:]):
    run = json.load(open(f"{name}.json"))
    score = json.load(open(f"score-{rid}.json"))
    wall = open(f"{name}.seconds").read().strip()
    print(f"{name:7s} {rid}  {run['cv']:.5f}        {score['public']:.5f}  {score['private']:.5f}  {wall}")
    assert run["kind"] == "model" and len(run["folds"]) == 5, run
    # The quick form's models see one epoch of 120 scenes: only the plumbing is checked.
    low = 0.0 if quick else 0.1
    for v in (run["cv"], score["public"], score["private"]):
        assert math.isfinite(v) and low <= v <= 1.0, (name, v)
PY
