#!/usr/bin/env bash
# Side-by-side: compe stratified_group_kfold vs scikit-learn 1.2 StratifiedGroupKFold(shuffle=True)
# on the same data: 1e6 rows, 1e5 groups, 5 classes, k=5.
#   bench/peers/splits.sh BUILD_DIR [ROWS] [GROUPS]
# Prints both split times (data reading excluded for both), the ratio, and the class balance of
# both fold sets: max over folds and classes of |class share in the fold - share overall|.
set -euo pipefail
BUILD=${1:?usage: splits.sh BUILD_DIR [ROWS] [GROUPS]}
ROWS=${2:-1000000}
NGROUPS=${3:-100000}
PY=/usr/bin/python3
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

"$PY" - "$WORK/data.csv" "$ROWS" "$NGROUPS" <<'PYEOF'
import sys
import numpy as np
import pandas as pd
path, rows, groups = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(0)
# Group sizes vary (geometric-like), each group has a dominant class; 5 imbalanced classes.
weights = rng.exponential(1.0, groups)
sizes = 1 + rng.multinomial(rows - groups, weights / weights.sum())
probs = np.array([0.45, 0.25, 0.15, 0.10, 0.05])
dominant = rng.choice(5, size=groups, p=probs)
group = np.repeat(rng.permutation(groups), sizes)
dom = np.repeat(dominant, sizes)
noise = rng.choice(5, size=len(group), p=probs)
y = np.where(rng.random(len(group)) < 0.7, dom, noise)
order = rng.permutation(len(group))
pd.DataFrame({"group": group[order], "y": y[order]}).to_csv(path, index=False)
print(f"data: {len(group)} rows, {len(np.unique(group))} groups, 5 classes")
PYEOF

"$BUILD/bench/bench_splits" "$WORK/data.csv" "$WORK/compe.txt" stratified_group_kfold 5 1 0 3 \
  | tee "$WORK/compe.log"
"$BUILD/bench/bench_splits" "$WORK/data.csv" "$WORK/compe_plain.txt" stratified_group_kfold 5 0 0 1 \
  | sed 's/^compe/compe (shuffle=false)/'

"$PY" - "$WORK" <<'PYEOF'
import re
import sys
import time
import numpy as np
import pandas as pd
import sklearn
from sklearn.model_selection import StratifiedGroupKFold
work = sys.argv[1]
df = pd.read_csv(f"{work}/data.csv")
y, groups = df["y"].to_numpy(), df["group"].to_numpy()
t = time.perf_counter()
folds = np.full(len(y), -1)
for f, (_, test) in enumerate(StratifiedGroupKFold(5, shuffle=True, random_state=0).split(
        np.zeros((len(y), 1)), y, groups)):
    folds[test] = f
sk_s = time.perf_counter() - t
print(f"scikit-learn {sklearn.__version__} StratifiedGroupKFold(shuffle=True): split {sk_s:.3f} s")
# For context: the unshuffled reference (its shuffle=True separates groups from their class counts).
t = time.perf_counter()
plain = np.full(len(y), -1)
for f, (_, test) in enumerate(StratifiedGroupKFold(5).split(np.zeros((len(y), 1)), y, groups)):
    plain[test] = f
print(f"scikit-learn {sklearn.__version__} StratifiedGroupKFold(shuffle=False): split "
      f"{time.perf_counter() - t:.3f} s")
compe = np.loadtxt(f"{work}/compe.txt", dtype=int)
compe_s = float(re.search(r"split ([0-9.]+) s", open(f"{work}/compe.log").read()).group(1))

def balance(f):
    worst = 0.0
    overall = np.bincount(y, minlength=5) / len(y)
    for k in range(5):
        share = np.bincount(y[f == k], minlength=5) / max(1, (f == k).sum())
        worst = max(worst, np.abs(share - overall).max())
    return worst

def groups_whole(f):
    return bool((pd.Series(f).groupby(groups).nunique() == 1).all())

for name, f in [("compe", compe), ("sklearn", folds), ("sklearn-noshuffle", plain)]:
    sizes = np.bincount(f, minlength=5)
    print(f"{name:17s} balance max|fold share - share| = {balance(f):.2e}  fold sizes {sizes.tolist()}"
          f"  groups whole: {groups_whole(f)}")
print(f"ratio sklearn/compe (shuffle=True): {sk_s / compe_s:.0f}x")
same = np.array_equal(np.loadtxt(f"{work}/compe_plain.txt", dtype=int), plain)
print(f"compe shuffle=false folds identical to sklearn shuffle=False: {same}")
print(f"compe balance no worse than sklearn's: {balance(compe) <= balance(folds)}")
PYEOF
