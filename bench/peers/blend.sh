#!/usr/bin/env bash
# Side by side on the same binary OOF predictions of 10 models (1e6 rows by default, written once
# to .npy files that both sides read):
#  - hill climbing (Caruana selection with replacement, STEPS additions, default 100) on roc_auc:
#    compe's hill_climb against a numpy loop scoring each candidate with scikit-learn's
#    roc_auc_score;
#  - weight optimisation on log_loss (non-negative weights summing to one): compe's weights
#    against scipy.optimize.minimize(method="SLSQP") on the numpy log loss.
# Times are the optimisation alone (file reading excluded).
#   bash bench/peers/blend.sh BUILD_DIR [ROWS] [STEPS]
set -euo pipefail
build=${1:-build}
rows=${2:-1000000}
steps=${3:-100}
tool="$build/bench/bench_blend"
[ -x "$tool" ] || { echo "missing $tool: cmake --build $build --target bench_blend" >&2; exit 1; }
py=/usr/bin/python3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

"$py" - "$dir" "$rows" <<'PY'
import sys
import numpy as np
d, n = sys.argv[1], int(sys.argv[2])
m = 10
rng = np.random.default_rng(42)
y = (rng.uniform(size=n) < 0.3).astype(np.float64)
# Models of varying skill sharing part of their noise, so blends help and members correlate.
common = rng.normal(size=n)
P = np.empty((n, m))
for j in range(m):
    skill = 0.15 + 0.05 * j
    z = skill * (2 * y - 1) + 0.6 * common + rng.normal(size=n)
    P[:, j] = 1 / (1 + np.exp(-(z - 0.8)))
np.save(f"{d}/y.npy", y)
np.save(f"{d}/p.npy", np.ascontiguousarray(P))
PY

echo "rows: $rows, models: 10, steps: $steps, threads: $(nproc), $("$py" -c 'import numpy, scipy, sklearn; print("numpy", numpy.__version__, "scipy", scipy.__version__, "scikit-learn", sklearn.__version__)')"
"$tool" "$dir/y.npy" "$dir/p.npy" "$steps" | tee "$dir/compe.txt"
"$py" - "$dir" "$steps" <<'PY' | tee "$dir/peer.txt"
import sys, time
import numpy as np
from scipy.optimize import minimize
from sklearn.metrics import roc_auc_score, log_loss
d, steps = sys.argv[1], int(sys.argv[2])
y, P = np.load(f"{d}/y.npy"), np.load(f"{d}/p.npy")
n, m = P.shape

def caruana(steps):
    total = np.zeros(n)
    counts = np.zeros(m)
    best, best_counts = -np.inf, None
    for k in range(steps):
        scores = [roc_auc_score(y, (total + P[:, j]) / (k + 1)) for j in range(m)]
        j = int(np.argmax(scores))
        total += P[:, j]
        counts[j] += 1
        if scores[j] > best:
            best, best_counts = scores[j], counts.copy()
    return best_counts / best_counts.sum()

def slsqp():
    def loss(w):
        return log_loss(y, np.clip(P @ w, 1e-15, 1 - 1e-15))
    res = minimize(loss, np.full(m, 1 / m), method="SLSQP", bounds=[(0, 1)] * m,
                   constraints={"type": "eq", "fun": lambda w: w.sum() - 1})
    w = np.clip(res.x, 0, None)
    return w / w.sum()

for name, fn, score in (("hill_climb_auc", lambda: caruana(steps), lambda w: roc_auc_score(y, P @ w)),
                        ("weights_log_loss", slsqp, lambda w: log_loss(y, np.clip(P @ w, 1e-15, 1 - 1e-15)))):
    c0, t0 = time.process_time(), time.perf_counter()
    w = fn()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"peer_{name} {wall:.6f} {score(w):.17g} {cpu:.6f} {','.join(f'{x:.6f}' for x in w)}")
PY

"$py" - "$dir" <<'PY'
import sys
d = sys.argv[1]
def read(f):
    return {l.split()[0]: [float(x) for x in l.split()[1:4]] for l in open(f)}
c, p = read(f"{d}/compe.txt"), read(f"{d}/peer.txt")
for name, peer, better in (("hill_climb_auc", "numpy Caruana + roc_auc_score", max),
                           ("weights_log_loss", "scipy SLSQP", min)):
    tc, sc, cc = c[name]
    tp, sp, cp = p[f"peer_{name}"]
    verdict = "equal or better" if better(sc, sp) == sc or abs(sc - sp) <= 1e-9 * abs(sp) else "worse"
    print(f"{name}: wall compe {tc:.2f} s, {peer} {tp:.2f} s: {tp/tc:.1f}x faster; "
          f"CPU compe {cc:.2f} s, peer {cp:.2f} s ({cp/cc:.1f}x); score compe {sc:.9f}, peer {sp:.9f} ({verdict})")
PY
